"""Facilitation: hands, the floor, timed turns, rounds and prompts.

Every function here runs inside the room lock (`lock_room`), so a grant, a
yield and a hand raise arriving at once through two workers are applied one
after the other and every client hears the same holder and queue.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import connection, transaction

from facilitator.models import Prompt
from facilitator.rules import RosterSeat, floor_deadline, next_in_round
from moderation.audit import record
from rooms.actions import (
    check_facilitator,
    check_not_ended,
    load_actor,
    load_target,
    lock_room,
    refuse,
    room_view,
    speaker_view,
)
from rooms.broadcast import send_event_on_commit
from rooms.errors import ActionError
from rooms.models import GroupSession, Mode, Participant
from rooms.rules import hand_refusal
from rooms.schemas import FloorChanged, ModeChanged, ParticipantUpdated, PromptPosted, QueueUpdated, RoundTurn
from rooms.serializers import participant_out, prompt_out, with_online

# ------------------------------------------------------------------ queue


def queue_ids(session: GroupSession) -> list[int]:
    return list(
        Participant.objects.filter(session=session, hand_raised_at__isnull=False, removed_at__isnull=True)
        .order_by("hand_raised_at", "pk")
        .values_list("pk", flat=True)
    )


def broadcast_participant(session: GroupSession, participant: Participant, now: datetime) -> None:
    to = "facilitators" if participant.role == "guest" and not participant.admitted else "members"
    send_event_on_commit(
        session.pk, ParticipantUpdated(participant=participant_out(participant, now=now)), to=to, ids=[participant.pk]
    )


def lower_hand(session: GroupSession, participant: Participant, now: datetime) -> bool:
    """Take someone out of the queue; True if they were in it (the caller broadcasts the queue)."""
    if participant.hand_raised_at is None:
        return False
    participant.hand_raised_at = None
    participant.save(update_fields=["hand_raised_at"])
    broadcast_participant(session, participant, now)
    return True


def broadcast_queue(session: GroupSession) -> None:
    send_event_on_commit(session.pk, QueueUpdated(queue=queue_ids(session)))


def do_raise_hand(session_id: int, participant_id: int, now: datetime) -> None:
    with transaction.atomic():
        session = lock_room(session_id)
        actor = load_actor(session, participant_id)
        refuse(hand_refusal(room_view(session), speaker_view(actor, now)))
        if actor.hand_raised_at is not None:
            return  # raising twice changes nothing
        actor.hand_raised_at = now
        actor.save(update_fields=["hand_raised_at"])
        broadcast_participant(session, actor, now)
        broadcast_queue(session)


def do_lower_hand(session_id: int, participant_id: int, now: datetime) -> None:
    with transaction.atomic():
        session = lock_room(session_id)
        actor = load_actor(session, participant_id)
        if lower_hand(session, actor, now):
            broadcast_queue(session)


def do_clear_hands(session_id: int, facilitator_id: int, now: datetime) -> int:
    with transaction.atomic():
        session = lock_room(session_id)
        actor = load_actor(session, facilitator_id)
        check_facilitator(actor)
        raised = list(Participant.objects.filter(session=session, hand_raised_at__isnull=False))
        for participant in raised:
            lower_hand(session, participant, now)
        if raised:
            broadcast_queue(session)
            record(session, actor, "hand.clear", now, lowered=len(raised))
        return len(raised)


# ------------------------------------------------------------------ floor


def set_floor(
    session: GroupSession, holder: Participant | None, now: datetime, *, seconds: int | None, reason: str
) -> None:
    circle = settings.CIRCLE
    session.floor_holder = holder
    session.floor_granted_at = now if holder else None
    session.floor_expires_at = (
        floor_deadline(now, seconds, default=circle["FLOOR_DEFAULT_SECONDS"], maximum=circle["FLOOR_MAX_SECONDS"])
        if holder
        else None
    )
    session.save(update_fields=["floor_holder", "floor_granted_at", "floor_expires_at"])
    send_event_on_commit(
        session.pk,
        FloorChanged(holder=session.floor_holder_id, expires_at=session.floor_expires_at, reason=reason),
    )


def round_seats(session: GroupSession) -> list[RosterSeat]:
    patients = with_online(Participant.objects.filter(session=session, role="patient", removed_at__isnull=True))
    return [RosterSeat(p.pk, p.roster_position, p.is_online) for p in patients]  # type: ignore[attr-defined]


def advance_round(
    session: GroupSession, after: Participant | None, now: datetime, *, how: str, passed: Participant | None = None
) -> None:
    """Give the floor to the next online patient after `after`; after the last, back to moderated."""
    seats = round_seats(session)
    upcoming = next_in_round(seats, after.roster_position if after else None)
    if upcoming is None:
        session.mode = Mode.MODERATED
        session.save(update_fields=["mode"])
        set_floor(session, None, now, seconds=None, reason="round")
        send_event_on_commit(session.pk, ModeChanged(mode="moderated", round_seconds=session.round_seconds))
        send_event_on_commit(
            session.pk,
            RoundTurn(holder=None, next=None, expires_at=None, passed=passed.pk if passed else None, how="end"),
        )
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
            how="start" if after is None else how,  # type: ignore[arg-type]
        ),
    )


def release_floor(session: GroupSession, participant: Participant, now: datetime, *, reason: str) -> None:
    """Take the floor from `participant` if they hold it; a running round passes on."""
    if session.floor_holder_id != participant.pk:
        return
    if session.mode == Mode.ROUND:
        advance_round(session, participant, now, how=reason, passed=participant)
    else:
        set_floor(session, None, now, seconds=None, reason=reason)


def do_grant_floor(session_id: int, facilitator_id: int, target_id: int, seconds: int | None, now: datetime) -> None:
    with transaction.atomic():
        session = lock_room(session_id)
        actor = load_actor(session, facilitator_id)
        check_facilitator(actor)
        check_not_ended(session)
        target = load_target(session, target_id)
        if target.role == "guest" and not target.admitted:
            raise ActionError("not_admitted", f"{target.display_name} is still in the lobby.")
        if target.is_muted(now):
            raise ActionError("muted", f"{target.display_name} is muted; unmute them first.")
        if lower_hand(session, target, now):
            broadcast_queue(session)
        set_floor(session, target, now, seconds=seconds, reason="granted")
        record(session, actor, "floor.grant", now, target=target, seconds=seconds)


def do_revoke_floor(session_id: int, facilitator_id: int, now: datetime) -> None:
    """Take the floor back; during a round this ends the round."""
    with transaction.atomic():
        session = lock_room(session_id)
        actor = load_actor(session, facilitator_id)
        check_facilitator(actor)
        if session.mode == Mode.ROUND:
            session.mode = Mode.MODERATED
            session.save(update_fields=["mode"])
            send_event_on_commit(session.pk, ModeChanged(mode="moderated", round_seconds=session.round_seconds))
        if session.floor_holder_id is not None:
            target = session.floor_holder
            set_floor(session, None, now, seconds=None, reason="revoked")
            record(session, actor, "floor.revoke", now, target=target)


def do_yield_floor(session_id: int, participant_id: int, now: datetime) -> None:
    with transaction.atomic():
        session = lock_room(session_id)
        actor = load_actor(session, participant_id)
        if session.floor_holder_id != actor.pk:
            raise ActionError("no_floor", "You do not hold the floor.")
        release_floor(session, actor, now, reason="yield")


def do_next_round(session_id: int, facilitator_id: int, now: datetime) -> None:
    with transaction.atomic():
        session = lock_room(session_id)
        actor = load_actor(session, facilitator_id)
        check_facilitator(actor)
        if session.mode != Mode.ROUND:
            raise ActionError("invalid", "No round is running; start one with mode.set round.")
        current = session.floor_holder
        advance_round(session, current, now, how="next", passed=current)
        record(session, actor, "round.next", now, target=current)


def do_set_mode(session_id: int, facilitator_id: int, mode: str, seconds: int | None, now: datetime) -> None:
    with transaction.atomic():
        session = lock_room(session_id)
        actor = load_actor(session, facilitator_id)
        check_facilitator(actor)
        check_not_ended(session)
        if mode == Mode.ROUND:
            if session.status != "live":
                raise ActionError("not_live", "Start the session before starting a round.")
            session.round_seconds = seconds or settings.CIRCLE["ROUND_DEFAULT_SECONDS"]
            session.mode = Mode.ROUND
            session.save(update_fields=["mode", "round_seconds"])
            send_event_on_commit(session.pk, ModeChanged(mode="round", round_seconds=session.round_seconds))
            advance_round(session, None, now, how="start")
        else:
            leaving_round = session.mode == Mode.ROUND
            if session.mode == mode:
                return
            session.mode = mode
            session.save(update_fields=["mode"])
            send_event_on_commit(session.pk, ModeChanged(mode=mode, round_seconds=session.round_seconds))  # type: ignore[arg-type]
            if leaving_round and session.floor_holder_id is not None:
                set_floor(session, None, now, seconds=None, reason="round")
        record(session, actor, "mode.set", now, mode=mode, seconds=seconds)


def do_expire_due_floors(now: datetime) -> int:
    """The due-timer sweep every worker runs: each expired floor is claimed once, under the room lock."""
    due = list(
        GroupSession.objects.filter(floor_expires_at__lte=now, floor_holder__isnull=False).values_list("pk", flat=True)
    )
    expired = 0
    for session_id in due:
        with transaction.atomic():
            claimed = GroupSession.objects.select_for_update(**skip_locked()).filter(
                pk=session_id, floor_expires_at__lte=now, floor_holder__isnull=False
            )
            session = claimed.select_related("floor_holder").first()
            if session is None:
                continue  # another worker has it, or it changed meanwhile
            release_floor(session, session.floor_holder, now, reason="expired")  # type: ignore[arg-type]
            expired += 1
    return expired


def skip_locked() -> dict[str, bool]:
    return {"skip_locked": True} if connection.features.has_select_for_update_skip_locked else {}


def release_absent_participants(session: GroupSession, absent_before: datetime, now: datetime) -> None:
    """People offline past the grace period leave the queue and lose the floor (room already locked)."""
    absent = list(
        Participant.objects.filter(session=session, offline_since__lte=absent_before, connections__isnull=True)
    )
    lowered = False
    for participant in absent:
        lowered |= lower_hand(session, participant, now)
        release_floor(session, participant, now, reason="left")
    if lowered:
        broadcast_queue(session)


# ------------------------------------------------------------------ prompts


def do_post_prompt(
    session_id: int,
    facilitator_id: int,
    now: datetime,
    *,
    prompt_id: int | None = None,
    category: str | None = None,
    text: str | None = None,
) -> Prompt:
    with transaction.atomic():
        session = lock_room(session_id)
        actor = load_actor(session, facilitator_id)
        check_facilitator(actor)
        check_not_ended(session)
        if prompt_id is not None:
            prompt = Prompt.objects.filter(pk=prompt_id, active=True).filter(session__in=[session]).first() or (
                Prompt.objects.filter(pk=prompt_id, active=True, session__isnull=True).first()
            )
            if prompt is None:
                raise ActionError("not_found", "No such prompt.")
        else:
            if not category or not text or not text.strip():
                raise ActionError("invalid", "Give either prompt_id, or category and text.")
            prompt = Prompt.objects.create(category=category, text=text.strip(), session=session)
        session.current_prompt = prompt
        session.save(update_fields=["current_prompt"])
        send_event_on_commit(session.pk, PromptPosted(prompt=prompt_out(prompt)))
        record(session, actor, "prompt.post", now, prompt_id=prompt.pk)
        return prompt
