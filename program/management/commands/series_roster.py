from typing import Any

from django.utils import timezone

from config.numbers import whole_number_argument
from program.actions import clinic_zone, do_change_roster
from program.management.commands.schedule_series import parse_date
from rooms.management.base import RoomProvisioningCommand


class Command(RoomProvisioningCommand):
    help = "Add a patient to a series' roster, or remove one, from a date on (coming sessions only)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("series_id", type=whole_number_argument)
        change = parser.add_mutually_exclusive_group(required=True)
        change.add_argument("--add", metavar="USERNAME")
        change.add_argument("--remove", metavar="USERNAME")
        parser.add_argument("--from", dest="from_date", default="", metavar="YYYY-MM-DD", help="default: today")

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        from_date = parse_date(options["from_date"]) if options["from_date"] else now.astimezone(clinic_zone()).date()
        add = options["add"] is not None
        touched = do_change_roster(
            options["series_id"], options["add"] or options["remove"], add=add, from_date=from_date, now=now, actor=None
        )
        self.stdout.write(f"{'added to' if add else 'removed from'} {len(touched)} coming sessions")
