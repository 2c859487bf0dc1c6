from typing import Any

from django.utils import timezone

from config.numbers import whole_number_argument
from program.actions import do_cancel_session
from rooms.management.base import RoomProvisioningCommand


class Command(RoomProvisioningCommand):
    help = "Cancel a session that has not started; its roster is sent a notice."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("session_id", type=whole_number_argument)
        parser.add_argument("--reason", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        do_cancel_session(options["session_id"], options["reason"], timezone.now())
        self.stdout.write(f"cancelled {options['session_id']}")
