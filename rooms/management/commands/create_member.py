from typing import Any

from accounts.actions import do_create_member
from accounts.models import Role
from accounts.provisioning import ProvisioningCommand


class Command(ProvisioningCommand):
    help = "Create a facilitator or patient account."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--display-name", required=True)
        parser.add_argument("--password", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        member = do_create_member(options["username"], options["role"], options["display_name"], options["password"])
        self.stdout.write(f"created {member.role} {member.username}")
