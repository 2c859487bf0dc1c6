from datetime import datetime
from typing import Any

from django.utils import timezone

from accounts.provisioning import ProvisioningError
from config.numbers import ascii_iso, whole_number_argument
from program.actions import clinic_zone, do_reschedule_session
from rooms.management.base import RoomProvisioningCommand


def parse_start(text: str) -> datetime:
    """ISO 8601; without an offset, the time is the clinic's (TIME_ZONE)."""
    moment = ascii_iso(datetime.fromisoformat, text)
    if moment is None:
        raise ProvisioningError(f"--starts-at must be ISO 8601 in ASCII digits (2026-12-08T18:00), not {text!r}")
    return moment if moment.tzinfo else moment.replace(tzinfo=clinic_zone())


class Command(RoomProvisioningCommand):
    help = "Move a session that has not started; its roster is sent a notice."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("session_id", type=whole_number_argument)
        parser.add_argument("--starts-at", required=True, metavar="ISO-8601")

    def handle(self, *args: Any, **options: Any) -> None:
        change = do_reschedule_session(options["session_id"], parse_start(options["starts_at"]), timezone.now())
        self.stdout.write(f"moved {options['session_id']} to {change.starts_at.isoformat()}")
