"""Attendance: each person's presence spans (Attendance), opened and closed by the core's presence hooks."""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext_lazy as _

from config.text import clean_line, has_visible_text
from facilitator.actions.turns import end_floor_turn
from facilitator.models import Attendance, SeatStatus, SeatStatusCorrection
from rooms.actions import load_target, room_as_facilitator
from rooms.audit import record
from rooms.errors import ActionError
from rooms.models import GroupSession, Participant, ParticipantRole


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


CORRECTION_REASON_MAX_CHARS = 500


def do_correct_seat_status(
    session_id: int, facilitator_id: int, participant_id: int, status: str, reason: str, now: datetime
) -> SeatStatusCorrection:
    """A facilitator excuses a patient's absence or corrects a derived status, with a reason (audited).

    Kept as a new row each time: the latest counts, the earlier ones stay beside their audit entries.
    """
    if status not in SeatStatus.values:
        raise ActionError("invalid", _("Choose a status."))
    reason = clean_line(reason)
    if not has_visible_text(reason):
        raise ActionError("invalid", _("Give a reason."))
    if len(reason) > CORRECTION_REASON_MAX_CHARS:
        raise ActionError("invalid", _("The reason is too long."))
    with room_as_facilitator(session_id, facilitator_id) as (session, actor):
        seat = load_target(session, participant_id)
        if seat.role != ParticipantRole.PATIENT:
            raise ActionError("not_found", _("Only a patient's seat has an attendance status."))
        correction = SeatStatusCorrection.objects.create(
            session=session, participant=seat, status=status, reason=reason, set_by=actor.member, set_at=now
        )
        record(session, actor, "attendance.correct", now, target=seat, reason=reason, status=status)
        return correction
