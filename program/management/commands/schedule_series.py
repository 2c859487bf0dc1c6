from datetime import date
from typing import Any

from django.utils import timezone

from accounts.provisioning import ProvisioningError
from config.numbers import ascii_iso, whole_number_argument
from program.actions import clinic_zone, do_schedule_series
from program.rules import ScheduleError, parse_wall_time, parse_weekdays
from rooms.management.base import RoomProvisioningCommand, usernames


def parse_date(text: str) -> date:
    parsed = ascii_iso(date.fromisoformat, text)
    if parsed is None:
        raise ProvisioningError(f"--from must be a date as YYYY-MM-DD in ASCII digits, not {text!r}")
    return parsed


class Command(RoomProvisioningCommand):
    help = "Schedule a recurring series; prints '<session_id> <start>' per session, then the series id."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--title", required=True)
        parser.add_argument("--facilitator", required=True, help="the lead facilitator's username")
        parser.add_argument("--co-facilitators", default="", help="comma-separated usernames of more facilitators")
        parser.add_argument("--patients", required=True, help="comma-separated patient usernames")
        parser.add_argument("--days", required=True, help="weekdays, e.g. mon,tue,thu")
        parser.add_argument("--time", required=True, help="HH:MM in the clinic's TIME_ZONE")
        parser.add_argument("--duration", type=whole_number_argument, default=60, metavar="MINUTES")
        parser.add_argument("--from", dest="first_date", default="", metavar="YYYY-MM-DD", help="default: today")
        parser.add_argument("--weeks", type=whole_number_argument, required=True)
        parser.add_argument("--allow-guests", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            weekdays = parse_weekdays(options["days"])
            at = parse_wall_time(options["time"])
        except ScheduleError as error:
            raise ProvisioningError(str(error)) from None
        first = options["first_date"]
        first_date = parse_date(first) if first else timezone.now().astimezone(clinic_zone()).date()
        series, sessions = do_schedule_series(
            title=options["title"],
            facilitator=options["facilitator"],
            co_facilitators=usernames(options["co_facilitators"]),
            patients=usernames(options["patients"]),
            weekdays=weekdays,
            at=at,
            first_date=first_date,
            weeks=options["weeks"],
            duration_minutes=options["duration"],
            allow_guests=options["allow_guests"],
        )
        for session in sessions:
            self.stdout.write(f"{session.pk} {session.starts_at.astimezone(clinic_zone()).isoformat()}")
        self.stdout.write(str(series.pk))
