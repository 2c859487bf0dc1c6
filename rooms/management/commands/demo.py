from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.actions import do_create_member
from accounts.models import Member, Role
from rooms.actions.lifecycle import default_starts_at, do_schedule_session
from rooms.extensions import demo_seeders
from rooms.models import GroupSession, Kind, Status

DEMO_PASSWORD = "circle-demo-2026"  # noqa: S105 - printed for the demo on purpose
# (username, role, display name, language): Lucía reads Circle in Spanish (issue 26).
DEMO_MEMBERS = [
    ("dana", Role.FACILITATOR, "Dana (facilitator)", "en"),
    ("alex", Role.PATIENT, "Alex", "en"),
    ("sam", Role.PATIENT, "Sam", "en"),
    ("jordan", Role.PATIENT, "Jordan", "en"),
    ("riley", Role.PATIENT, "Riley", "en"),
    ("lucia", Role.PATIENT, "Lucía", "es"),
]
DEMO_SESSIONS = [
    ("Tuesday evening group", Kind.GROUP, ["alex", "sam", "jordan", "riley", "lucia"], False),
    ("Family session", Kind.GROUP, ["alex", "sam", "lucia"], True),
    ("Check-in with Alex", Kind.INDIVIDUAL, ["alex"], False),
]


class Command(BaseCommand):
    help = "Seed a demo clinic (idempotent) and print the logins."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            self.stderr.write("warning: demo accounts have a published password; do not seed them in production")
        for username, role, display_name, language in DEMO_MEMBERS:
            if not Member.objects.filter(username=username).exists():
                do_create_member(username, role, display_name, DEMO_PASSWORD, language=language)
        now = timezone.now()
        for title, kind, patients, allow_guests in DEMO_SESSIONS:
            if not GroupSession.objects.filter(title=title, status__in=[Status.SCHEDULED, Status.LIVE]).exists():
                do_schedule_session(
                    title=title,
                    facilitator="dana",
                    patients=patients,
                    kind=kind,
                    starts_at=default_starts_at(now, 0),
                    duration_minutes=60,
                    allow_guests=allow_guests,
                )
        for seed in demo_seeders:
            for line in seed(now):
                self.stdout.write(line)
        self.stdout.write("Demo clinic ready. Sign in at http://127.0.0.1:8000/accounts/login/ with:")
        for username, role, _name, language in DEMO_MEMBERS:
            self.stdout.write(f"  {username:8} {DEMO_PASSWORD}  ({role}, {language})")
