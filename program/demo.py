"""The program's part of `demo` (rooms.extensions.demo_seeders): one running series, four evenings a week,
with a week of history (attendance of every kind, one excused absence, one cancelled evening), so that a
new user sees the series page, the statuses and the charts at once."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import cycle

from accounts.models import Member
from facilitator.actions.attendance import do_correct_seat_status
from facilitator.models import Attendance
from program.actions import clinic_zone, do_cancel_session, do_schedule_series
from program.models import Series
from program.rules import parse_wall_time
from rooms.models import GroupSession, Participant, ParticipantRole, Status

DEMO_SERIES = "Evening intensive outpatient group"
PATIENTS = ["alex", "sam", "jordan", "riley"]
# Minutes after the start each patient came and left, per past evening in turn (None: did not come).
PATTERNS: list[dict[str, tuple[int, int] | None]] = [
    {"alex": (0, 60), "sam": (15, 60), "jordan": (0, 30), "riley": None},
    {"alex": (0, 60), "sam": (2, 60), "jordan": (0, 60), "riley": (0, 60)},
    {"alex": (5, 60), "sam": None, "jordan": (0, 55), "riley": (20, 60)},
]


def seed_program(now: datetime) -> list[str]:
    if Series.objects.filter(title=DEMO_SERIES).exists() or not Member.objects.filter(username="dana").exists():
        return []
    first = (now.astimezone(clinic_zone()) - timedelta(days=7)).date()
    series, sessions = do_schedule_series(
        title=DEMO_SERIES,
        facilitator="dana",
        co_facilitators=[],
        patients=PATIENTS,
        weekdays=[0, 1, 2, 3],
        at=parse_wall_time("18:00"),
        first_date=first,
        weeks=3,
        duration_minutes=60,
    )
    past = [s for s in sessions if s.ends_at < now]
    if past:
        # One evening of the past week was called off (it shows as cancelled, and counts neither way).
        do_cancel_session(past[-1].pk, "Clinic closed for a staff training", now)
    for session, pattern in zip(past[:-1], cycle(PATTERNS), strict=False):
        hold(session, pattern)
    excused = next((s for s in past[:-1] if Participant.objects.filter(session=s, member__username="riley")), None)
    if excused is not None:
        excuse(excused, now)
    return [f"Demo series {series.pk}: /series/{series.pk}/ (4 evenings a week, a week of history)"]


def hold(session: GroupSession, pattern: dict[str, tuple[int, int] | None]) -> None:
    started, ended = session.starts_at, session.ends_at
    GroupSession.objects.filter(pk=session.pk).update(status=Status.ENDED, started_at=started, ended_at=ended)
    for username, minutes in pattern.items():
        if minutes is None:
            continue
        seat = Participant.objects.get(session=session, member__username=username)
        Attendance.objects.create(
            session=session,
            participant=seat,
            joined_at=started + timedelta(minutes=minutes[0]),
            left_at=started + timedelta(minutes=minutes[1]),
        )


def excuse(session: GroupSession, now: datetime) -> None:
    lead = Participant.objects.get(session=session, role=ParticipantRole.FACILITATOR, member__username="dana")
    absent = Participant.objects.get(session=session, member__username="riley")
    do_correct_seat_status(session.pk, lead.pk, absent.pk, "excused", "Called ahead: a family emergency", now)
