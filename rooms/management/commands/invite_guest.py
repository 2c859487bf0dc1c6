from typing import Any

from django.utils import timezone

from config.numbers import whole_number_argument
from rooms.actions.guests import do_invite_by_username, join_path
from rooms.management.base import RoomProvisioningCommand


class Command(RoomProvisioningCommand):
    help = "Invite a family guest for a patient; prints the join path on the last line."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("session_id", type=whole_number_argument)
        parser.add_argument("--for", dest="patient", required=True, help="the patient's username")
        parser.add_argument("--name", required=True, help="the guest's name")
        parser.add_argument("--email", default="", help="mail the join link to the guest (at once)")

    def handle(self, *args: Any, **options: Any) -> None:
        _, token = do_invite_by_username(
            options["session_id"], options["patient"], options["name"], timezone.now(), options["email"]
        )
        self.stdout.write(join_path(token))
