from typing import Any

from django.utils import timezone

from config.numbers import whole_number_argument
from rooms.actions.lifecycle import default_starts_at, do_schedule_session
from rooms.management.base import RoomProvisioningCommand, usernames
from rooms.models import Kind
from rooms.rules import default_minutes


class Command(RoomProvisioningCommand):
    help = "Schedule a session; prints the new session's id on the last line."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--title", required=True)
        parser.add_argument("--facilitator", required=True, help="facilitator's username")
        parser.add_argument("--patients", required=True, help="comma-separated patient usernames")
        parser.add_argument("--co-facilitators", default="", help="comma-separated usernames of more facilitators")
        parser.add_argument("--kind", choices=Kind.values, default=Kind.GROUP.value)
        parser.add_argument("--starts-in", type=whole_number_argument, default=0, metavar="MINUTES")
        parser.add_argument(
            "--duration",
            type=whole_number_argument,
            default=None,
            metavar="MINUTES",
            help="default: 60 for a group, 50 for individual",
        )
        parser.add_argument("--allow-guests", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        patients = usernames(options["patients"])
        session = do_schedule_session(
            title=options["title"],
            facilitator=options["facilitator"],
            patients=patients,
            kind=options["kind"],
            starts_at=default_starts_at(timezone.now(), options["starts_in"]),
            duration_minutes=default_minutes(options["kind"]) if options["duration"] is None else options["duration"],
            allow_guests=options["allow_guests"],
            co_facilitators=usernames(options["co_facilitators"]),
        )
        self.stdout.write(str(session.pk))
