"""The attendance export for billing and reports: one row per roster seat of a facilitator's own sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from accounts.models import Member
from config.spreadsheet import csv_text
from facilitator.attendance import seat_statuses
from rooms.models import GroupSession, GuestAdmission, Participant, ParticipantRole, Status

HEADER = [
    "patient", "display_name", "session_id", "kind", "date", "scheduled_minutes", "attended_minutes", "status",
    "service_code",
]


@dataclass(frozen=True)
class ExportRow:
    patient: str
    display_name: str
    session_id: int
    kind: str
    day: date
    scheduled_minutes: int
    attended_minutes: int
    status: str

    @property
    def service_code(self) -> str:
        return settings.SERVICE_CODES.get(self.kind, "")

    def cells(self) -> list[object]:
        return [
            self.patient, self.display_name, self.session_id, self.kind, self.day.isoformat(), self.scheduled_minutes,
            self.attended_minutes, self.status, self.service_code,
        ]


def billing_kind(session: GroupSession, with_family: set[int]) -> str:
    """group, individual, or family when a guest was admitted to the session."""
    return "family" if session.pk in with_family else str(session.kind)


def export_rows(facilitator: Member, first: date, last: date) -> list[ExportRow]:
    """The facilitator's sessions starting from `first` to `last` (days in the clinic's time zone), every patient
    seat of each: cancelled sessions are listed as cancelled, sessions not yet held with no status."""
    zone = ZoneInfo(settings.TIME_ZONE)
    start = datetime.combine(first, time(0), tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone)
    sessions = GroupSession.objects.filter(
        participants__member=facilitator,
        participants__role=ParticipantRole.FACILITATOR,
        participants__removed_at__isnull=True,
        starts_at__gte=start,
        starts_at__lt=end,
    )
    seats = list(
        Participant.objects.filter(session__in=sessions, role=ParticipantRole.PATIENT)
        .select_related("session", "member")
        .order_by("session__starts_at", "session_id", "roster_position", "pk")
    )
    with_family = set(
        GuestAdmission.objects.filter(participant__session__in=sessions).values_list(
            "participant__session_id", flat=True
        )
    )
    readings = seat_statuses(seats)
    rows = []
    for seat in seats:
        session = seat.session
        reading = readings[seat.pk]
        status = "cancelled" if session.status == Status.CANCELLED else (reading.status or "")
        rows.append(
            ExportRow(
                patient=seat.member.username if seat.member else "",
                display_name=seat.display_name,
                session_id=session.pk,
                kind=billing_kind(session, with_family),
                day=session.starts_at.astimezone(zone).date(),
                scheduled_minutes=session.duration_minutes,
                attended_minutes=reading.seconds // 60,
                status=str(status),
            )
        )
    return rows


def attendance_export_csv(rows: list[ExportRow]) -> str:
    return csv_text([HEADER, *(row.cells() for row in rows)])
