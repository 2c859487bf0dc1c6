"""Hands and the floor as facilitation uses them: raise, lower and clear hands; grant, revoke, yield and
expire the floor; the release of what absent people held."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from facilitator.actions.rounds import end_round
from facilitator.actions.turns import set_floor
from rooms.actions import (
    DueCondition,
    load_target,
    refuse,
    room_as_facilitator,
    room_as_participant,
    room_view,
    skip_locked,
    speaker_view,
)
from rooms.actions.floor import broadcast_participant, broadcast_queue, count_hand_toggle, lower_hand, release_floor
from rooms.audit import record
from rooms.errors import ActionError
from rooms.extensions import PeriodicDuty, deadline_tick_seconds, in_database_thread
from rooms.models import GroupSession, Mode, Participant, ParticipantRole
from rooms.rules import hand_refusal

# ------------------------------------------------------------------ hands


def do_raise_hand(session_id: int, participant_id: int, now: datetime) -> None:
    with room_as_participant(session_id, participant_id) as (session, actor):
        refuse(hand_refusal(room_view(session), speaker_view(actor, now)))
        count_hand_toggle(actor, now)
        if actor.hand_raised_at is not None:
            return  # raising twice changes nothing
        actor.hand_raised_at = now
        actor.save(update_fields=["hand_raised_at"])
        broadcast_participant(session, actor, now)
        broadcast_queue(session)


def do_lower_hand(session_id: int, participant_id: int, now: datetime) -> None:
    with room_as_participant(session_id, participant_id) as (session, actor):
        count_hand_toggle(actor, now)
        if lower_hand(session, actor, now):
            broadcast_queue(session)


def do_clear_hands(session_id: int, facilitator_id: int, now: datetime) -> int:
    with room_as_facilitator(session_id, facilitator_id) as (session, actor):
        raised = list(Participant.objects.filter(session=session, hand_raised_at__isnull=False))
        for participant in raised:
            lower_hand(session, participant, now)
        if raised:
            broadcast_queue(session)
            record(session, actor, "hand.clear", now, lowered=len(raised))
        return len(raised)


# ------------------------------------------------------------------ floor


def do_grant_floor(session_id: int, facilitator_id: int, target_id: int, seconds: int | None, now: datetime) -> None:
    with room_as_facilitator(session_id, facilitator_id, open_only=True) as (session, actor):
        target = load_target(session, target_id)
        if target.role == ParticipantRole.GUEST and not target.admitted:
            raise ActionError("not_admitted", format_lazy(_("{name} is still in the lobby."), name=target.display_name))
        if target.is_muted(now):
            raise ActionError("muted", format_lazy(_("{name} is muted; unmute them first."), name=target.display_name))
        if lower_hand(session, target, now):
            broadcast_queue(session)
        if session.mode == Mode.ROUND:
            # A grant breaks the roster order, so it ends the round; round.next skips within one.
            end_round(session, now, how="granted", passed=session.floor_holder)
        set_floor(session, target, now, seconds=seconds, reason="granted")
        record(session, actor, "floor.grant", now, target=target, seconds=seconds)


def do_revoke_floor(session_id: int, facilitator_id: int, now: datetime) -> None:
    """Take the floor back; during a round this ends the round."""
    with room_as_facilitator(session_id, facilitator_id) as (session, actor):
        if session.mode == Mode.ROUND:
            end_round(session, now, how="revoked", passed=session.floor_holder)
        if session.floor_holder_id is not None:
            target = session.floor_holder
            set_floor(session, None, now, seconds=None, reason="revoked")
            record(session, actor, "floor.revoke", now, target=target)


def do_yield_floor(session_id: int, participant_id: int, now: datetime) -> None:
    with room_as_participant(session_id, participant_id) as (session, actor):
        if session.floor_holder_id != actor.pk:
            raise ActionError("no_floor", _("You do not hold the floor."))
        release_floor(session, actor, now, reason="yield")


# Rooms whose floor has run out: the floor-expiry duty's due check, and its claim.
EXPIRED_FLOOR = DueCondition(
    GroupSession, "{table}.floor_expires_at <= %s AND {table}.floor_holder_id IS NOT NULL", "floor_expires_at"
)


def do_expire_due_floors(now: datetime) -> int:
    """The floor-expiry duty every worker runs: each expired floor is claimed once, under the room lock."""
    due = list(EXPIRED_FLOOR.rows(now).values_list("pk", flat=True))
    expired = 0
    for session_id in due:
        with transaction.atomic():
            # The holder is read after the claim: a join would put their (nullable) side under FOR UPDATE.
            session = EXPIRED_FLOOR.rows(now).select_for_update(skip_locked=skip_locked()).filter(pk=session_id).first()
            if session is None:
                continue  # another worker has it, or it changed meanwhile
            release_floor(session, session.floor_holder, now, reason="expired")  # type: ignore[arg-type]
            expired += 1
    return expired


FLOOR_EXPIRY = PeriodicDuty(
    name="facilitator.floor_expiry",
    every_seconds=deadline_tick_seconds,
    due=EXPIRED_FLOOR,
    run=in_database_thread(do_expire_due_floors),
)


def release_absent(session: GroupSession, absent: list[Participant], now: datetime) -> None:
    """The absence hook: people offline past the grace period leave the queue and lose the floor."""
    lowered = False
    for participant in absent:
        lowered |= lower_hand(session, participant, now)
        release_floor(session, participant, now, reason="left")
    if lowered:
        broadcast_queue(session)
