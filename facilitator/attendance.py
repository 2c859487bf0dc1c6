"""Attendance read side: who was there, when, for how long (facilitators only; see facilitator.views)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings

from config.spreadsheet import csv_text
from facilitator.models import Attendance, SeatStatus, SeatStatusCorrection
from facilitator.rules import Span, attended_seconds
from rooms.models import GroupSession, Participant, ParticipantRole, Status


@dataclass(frozen=True)
class AttendanceThresholds:
    late_minutes: int
    present_percent: int

    @classmethod
    def configured(cls) -> AttendanceThresholds:
        return cls(late_minutes=settings.LATE_MINUTES, present_percent=settings.PRESENT_PERCENT)


def within(spans: Sequence[Span], started_at: datetime, ended_at: datetime) -> list[Span]:
    """The spans' parts inside the session (time in the lobby before the start does not count)."""
    return [
        Span(max(span.joined_at, started_at), min(span.left_at or ended_at, ended_at))
        for span in spans
        if span.joined_at < ended_at and (span.left_at is None or span.left_at > started_at)
    ]


def seat_status(
    spans: Sequence[Span], started_at: datetime, ended_at: datetime, thresholds: AttendanceThresholds
) -> SeatStatus:
    """The derived status of one seat of a session that ran from `started_at` to `ended_at`.

    Only time inside the session counts: a span in the lobby before the start is clipped to it.
    Late wins over left_early: someone who came late has necessarily attended less, and the
    lateness is the fact a facilitator needs to see.
    """
    inside = within(spans, started_at, ended_at)
    if not inside:
        return SeatStatus.ABSENT
    first_joined = min(span.joined_at for span in inside)
    if first_joined - started_at > timedelta(minutes=thresholds.late_minutes):
        return SeatStatus.LATE
    length = (ended_at - started_at).total_seconds()
    if length > 0 and attended_seconds(inside, ended_at) * 100 < thresholds.present_percent * length:
        return SeatStatus.LEFT_EARLY
    return SeatStatus.PRESENT


@dataclass
class AttendanceRow:
    participant_id: int
    display_name: str
    role: str
    guest_of: str
    removed: bool
    spans: list[Span] = field(default_factory=list)
    seconds: int = 0
    # Roster seats of patients only: None before the session ended (and for facilitators and guests).
    status: SeatStatus | None = None
    corrected: bool = False

    @property
    def role_label(self) -> str:
        """The role as the page shows it, in the reader's language (the CSV keeps the value)."""
        return str(ParticipantRole(self.role).label)

    @property
    def first_joined(self) -> datetime | None:
        return min((s.joined_at for s in self.spans), default=None)

    @property
    def last_left(self) -> datetime | None:
        if not self.spans or any(s.left_at is None for s in self.spans):
            return None
        return max(s.left_at for s in self.spans if s.left_at is not None)

    @property
    def present(self) -> bool:
        return any(s.left_at is None for s in self.spans)

    @property
    def minutes(self) -> str:
        return f"{self.seconds // 60}:{self.seconds % 60:02d}"


def attendance_report(session: GroupSession, now: datetime) -> list[AttendanceRow]:
    """Everyone on the session (roster order, guests after), with their presence spans."""
    until = session.ended_at or now
    people = Participant.objects.filter(session=session).select_related("guest_of").order_by("roster_position", "pk")
    rows = {
        p.pk: AttendanceRow(
            participant_id=p.pk,
            display_name=p.display_name,
            role=p.role,
            guest_of=p.guest_of.display_name if p.guest_of else "",
            removed=p.removed_at is not None,
        )
        for p in people
    }
    for span in Attendance.objects.filter(session=session).order_by("joined_at", "pk"):
        row = rows.get(span.participant_id)
        if row is not None:
            row.spans.append(Span(span.joined_at, span.left_at))
    for row in rows.values():
        row.seconds = attended_seconds(row.spans, until)
    statuses = seat_statuses([p for p in people if p.role == ParticipantRole.PATIENT])
    for participant_id, seat in statuses.items():
        rows[participant_id].status, rows[participant_id].corrected = seat.status, seat.corrected
    return list(rows.values())


@dataclass(frozen=True)
class SeatReading:
    status: SeatStatus | None
    corrected: bool
    seconds: int


def seat_statuses(seats: Sequence[Participant]) -> dict[int, SeatReading]:
    """Each roster seat's status (with its session loaded): a facilitator's latest correction, else derived from
    the presence spans once the session ended; None before (and for a cancelled session). Also the seconds
    attended inside the session. Three queries whatever the number of seats (a patient's record, the CSV)."""
    thresholds = AttendanceThresholds.configured()
    ids = [seat.pk for seat in seats]
    spans: dict[int, list[Span]] = defaultdict(list)
    for span in Attendance.objects.filter(participant_id__in=ids).order_by("joined_at", "pk"):
        spans[span.participant_id].append(Span(span.joined_at, span.left_at))
    corrected: dict[int, SeatStatus] = {}
    for correction in SeatStatusCorrection.objects.filter(participant_id__in=ids).order_by("set_at", "pk"):
        corrected[correction.participant_id] = SeatStatus(correction.status)
    readings = {}
    for seat in seats:
        session = seat.session
        derived: SeatStatus | None = None
        seconds = 0
        if session.status == Status.ENDED and session.ended_at is not None:
            started = session.started_at or session.starts_at
            derived = seat_status(spans[seat.pk], started, session.ended_at, thresholds)
            seconds = attended_seconds(within(spans[seat.pk], started, session.ended_at), session.ended_at)
        status = corrected.get(seat.pk, derived)
        readings[seat.pk] = SeatReading(status, seat.pk in corrected, seconds)
    return readings


def attended(status: SeatStatus | None) -> bool:
    """Counted as attended (present, late or left early); absent, excused and not yet held are not."""
    return status in {SeatStatus.PRESENT, SeatStatus.LATE, SeatStatus.LEFT_EARLY}


def attendance_csv(session: GroupSession, rows: list[AttendanceRow]) -> str:
    """One line per presence span; someone who never came gets one line with empty times."""
    lines: list[list[object]] = [
        ["session_id", "participant_id", "display_name", "role", "guest_of", "joined_at", "left_at",
         "span_seconds", "total_seconds", "status"]
    ]
    until = session.ended_at
    for row in rows:
        base = [session.pk, row.participant_id, row.display_name, row.role, row.guest_of]
        status = row.status or ""
        if not row.spans:
            lines.append([*base, "", "", 0, 0, status])
        for span in row.spans:
            left = span.left_at
            end = left or until
            seconds = attended_seconds([span], end) if end else ""
            lines.append(
                [*base, span.joined_at.isoformat(), left.isoformat() if left else "", seconds, row.seconds, status]
            )
    return csv_text(lines)
