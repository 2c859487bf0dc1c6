"""Rounds: the floor passes from one online patient to the next, in roster order, for a set time each."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from facilitator.actions.turns import set_floor
from facilitator.rules import RosterSeat, next_in_round, seats_for
from rooms.actions import room_as_facilitator
from rooms.actions.floor import broadcast_queue, lower_hand
from rooms.audit import record
from rooms.broadcast import send_event_on_commit
from rooms.errors import ActionError
from rooms.models import GroupSession, Mode, Participant, ParticipantRole, Status
from rooms.schemas import ModeChanged, RoundTurn
from rooms.serializers import with_online


def end_round(session: GroupSession, now: datetime, *, how: str, passed: Participant | None = None) -> None:
    """Back to moderated (the caller decides what happens to the floor)."""
    session.mode = Mode.MODERATED
    session.save(update_fields=["mode"])
    send_event_on_commit(session.pk, ModeChanged(mode=Mode.MODERATED, round_seconds=session.round_seconds))
    send_event_on_commit(
        session.pk,
        RoundTurn(holder=None, next=None, expires_at=None, passed=passed.pk if passed else None, how=how),
    )


def round_seats(session: GroupSession, now: datetime) -> list[RosterSeat]:
    patients = Participant.objects.filter(session=session, role=ParticipantRole.PATIENT, removed_at__isnull=True)
    return seats_for(with_online(patients), now)


def advance_round(
    session: GroupSession, after: Participant | None, now: datetime, *, how: str, passed: Participant | None = None
) -> None:
    """Give the floor to the next online patient after `after`; after the last, back to moderated."""
    seats = round_seats(session, now)
    upcoming = next_in_round(seats, after.roster_position if after else None)
    if upcoming is None:
        set_floor(session, None, now, seconds=None, reason="round")
        end_round(session, now, how="end", passed=passed)
        return
    holder = Participant.objects.get(pk=upcoming.participant_id)
    if lower_hand(session, holder, now):
        broadcast_queue(session)
    set_floor(session, holder, now, seconds=session.round_seconds, reason="round")
    after_that = next_in_round(seats, upcoming.position)
    send_event_on_commit(
        session.pk,
        RoundTurn(
            holder=holder.pk,
            next=after_that.participant_id if after_that else None,
            expires_at=session.floor_expires_at,
            passed=passed.pk if passed else None,
            how="start" if after is None else how,
        ),
    )


def pass_floor_on(session: GroupSession, holder: Participant, now: datetime, reason: str) -> None:
    """The floor-released hook (rooms.actions.floor.release_floor): a running round passes on, else it is free."""
    if session.mode == Mode.ROUND:
        advance_round(session, holder, now, how=reason, passed=holder)
    else:
        set_floor(session, None, now, seconds=None, reason=reason)


def do_next_round(session_id: int, facilitator_id: int, now: datetime) -> None:
    with room_as_facilitator(session_id, facilitator_id) as (session, actor):
        if session.mode != Mode.ROUND:
            raise ActionError("invalid", _("No round is running; start one with mode.set round."))
        current = session.floor_holder
        advance_round(session, current, now, how="next", passed=current)
        record(session, actor, "round.next", now, target=current)


def do_set_mode(session_id: int, facilitator_id: int, mode: str, seconds: int | None, now: datetime) -> None:
    with room_as_facilitator(session_id, facilitator_id, open_only=True) as (session, actor):
        if mode == Mode.ROUND:
            if session.status != Status.LIVE:
                raise ActionError("not_live", _("Start the session before starting a round."))
            session.round_seconds = seconds or settings.CIRCLE["ROUND_DEFAULT_SECONDS"]
            session.mode = Mode.ROUND
            session.save(update_fields=["mode", "round_seconds"])
            send_event_on_commit(session.pk, ModeChanged(mode=Mode.ROUND, round_seconds=session.round_seconds))
            advance_round(session, None, now, how="start")
        else:
            leaving_round = session.mode == Mode.ROUND
            if session.mode == mode:
                return
            session.mode = mode
            session.save(update_fields=["mode"])
            send_event_on_commit(session.pk, ModeChanged(mode=mode, round_seconds=session.round_seconds))
            if leaving_round:
                send_event_on_commit(
                    session.pk,
                    RoundTurn(holder=None, next=None, expires_at=None, passed=session.floor_holder_id, how="end"),
                )
                if session.floor_holder_id is not None:
                    set_floor(session, None, now, seconds=None, reason="round")
        record(session, actor, "mode.set", now, mode=mode, seconds=seconds)
