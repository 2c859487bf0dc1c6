"""Attendance: each person's presence spans (Attendance), opened and closed by the core's presence hooks."""

from __future__ import annotations

from datetime import datetime

from facilitator.actions.turns import end_floor_turn
from facilitator.models import Attendance
from rooms.models import GroupSession, Participant


def open_attendance(session: GroupSession, participant: Participant, now: datetime) -> None:
    """The arrival hook: their first connection opened (room locked), a new presence span starts."""
    close_attendance(session, participant, now)  # a span left open by a removal or a lost departure
    Attendance.objects.create(session=session, participant=participant, joined_at=now)


def close_attendance(session: GroupSession, participant: Participant, left_at: datetime) -> None:
    """The departure hook: their last connection went away (room locked)."""
    Attendance.objects.filter(participant=participant, left_at__isnull=True).update(left_at=left_at)


def close_session_records(session: GroupSession, now: datetime) -> None:
    """The session-ended hook: every presence span and the running floor turn end now (removed people: when
    removed)."""
    end_floor_turn(session, now)
    open_spans = Attendance.objects.filter(session=session, left_at__isnull=True).select_related("participant")
    for span in open_spans:
        removed = span.participant.removed_at
        span.left_at = removed if removed is not None and removed >= span.joined_at else now
        span.save(update_fields=["left_at"])
