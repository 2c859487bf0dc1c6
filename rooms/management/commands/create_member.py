from typing import Any

from django.conf import settings

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
        # Pages, emails, reminders and the calendar feed in this language (default: LANGUAGE_CODE's).
        parser.add_argument("--language", choices=[code for code, _name in settings.LANGUAGES])
        parser.add_argument("--email", default="", help="for reminders and notices (they are on while it is set)")

    def handle(self, *args: Any, **options: Any) -> None:
        member = do_create_member(
            options["username"],
            options["role"],
            options["display_name"],
            options["password"],
            language=options["language"],
            email=options["email"],
        )
        self.stdout.write(f"created {member.role} {member.username}")
