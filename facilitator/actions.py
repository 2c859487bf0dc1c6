"""Facilitation: hands, the floor, timed turns, rounds and prompts.

Every function here runs inside the room lock (`lock_room`), so a grant, a
yield and a hand raise arriving at once through two workers are applied one
after the other and every client hears the same holder and queue.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F

from facilitator.models import AgendaItem, Attendance, FloorTurn
from facilitator.rules import (
    AgendaEntry,
    RosterSeat,
    agenda_order_after_move,
    floor_deadline,
    next_agenda_item,
    next_in_round,
    seats_for,
)
from rooms.actions import (
    load_target,
    refuse,
    room_as_facilitator,
    room_as_participant,
    room_view,
    speaker_view,
)
from rooms.audit import record
from rooms.broadcast import send_event_on_commit
from rooms.errors import ActionError
from rooms.models import GroupSession, Mode, Participant, Prompt, RoomClock
from rooms.rules import hand_refusal
from rooms.schemas import (
    AgendaUpdated,
    FloorChanged,
    ModeChanged,
    ParticipantUpdated,
    PromptPosted,
    QueueUpdated,
    RoundTurn,
)
from rooms.serializers import participant_out, prompt_out, with_online

# ------------------------------------------------------------------ version


def room_version(session: GroupSession) -> int:
    """This transaction's floor/queue version: bumped once per transaction, under the room lock.

    Every floor.changed and queue.updated carries it, so a client that hears two
    workers' events out of order (each publishes after its own commit) keeps the
    newer one: versions follow the order in which the room lock was taken.
    """
    cached = getattr(session, "_circle_version", None)
    if cached is not None:
        return cached
    if not RoomClock.objects.filter(session_id=session.pk).update(version=F("version") + 1):
        RoomClock.objects.create(session_id=session.pk, version=1)
    version = RoomClock.objects.values_list("version", flat=True).get(session_id=session.pk)
    session._circle_version = version  # type: ignore[attr-defined]
    return version


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
    send_event_on_commit(session.pk, QueueUpdated(queue=queue_ids(session), version=room_version(session)))


def do_raise_hand(session_id: int, participant_id: int, now: datetime) -> None:
    with room_as_participant(session_id, participant_id) as (session, actor):
        refuse(hand_refusal(room_view(session), speaker_view(actor, now)))
        if actor.hand_raised_at is not None:
            return  # raising twice changes nothing
        actor.hand_raised_at = now
        actor.save(update_fields=["hand_raised_at"])
        broadcast_participant(session, actor, now)
        broadcast_queue(session)


def do_lower_hand(session_id: int, participant_id: int, now: datetime) -> None:
    with room_as_participant(session_id, participant_id) as (session, actor):
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


def set_floor(
    session: GroupSession, holder: Participant | None, now: datetime, *, seconds: int | None, reason: str
) -> None:
    circle = settings.CIRCLE
    end_floor_turn(session, now)
    session.floor_holder = holder
    session.floor_granted_at = now if holder else None
    session.floor_expires_at = (
        floor_deadline(now, seconds, default=circle["FLOOR_DEFAULT_SECONDS"], maximum=circle["FLOOR_MAX_SECONDS"])
        if holder
        else None
    )
    session.save(update_fields=["floor_holder", "floor_granted_at", "floor_expires_at"])
    if holder is not None:
        FloorTurn.objects.create(session=session, participant=holder, started_at=now)
    send_event_on_commit(
        session.pk,
        FloorChanged(
            holder=session.floor_holder_id,
            expires_at=session.floor_expires_at,
            reason=reason,
            version=room_version(session),
        ),
    )


def end_floor_turn(session: GroupSession, now: datetime) -> None:
    """Close the running turn; one that ran past its deadline ended at the deadline."""
    end = now
    if session.floor_expires_at is not None and session.floor_expires_at < now:
        end = session.floor_expires_at
    FloorTurn.objects.filter(session=session, ended_at__isnull=True).update(ended_at=end)


def end_round(session: GroupSession, now: datetime, *, how: str, passed: Participant | None = None) -> None:
    """Back to moderated (the caller decides what happens to the floor)."""
    session.mode = Mode.MODERATED
    session.save(update_fields=["mode"])
    send_event_on_commit(session.pk, ModeChanged(mode="moderated", round_seconds=session.round_seconds))
    send_event_on_commit(
        session.pk,
        RoundTurn(holder=None, next=None, expires_at=None, passed=passed.pk if passed else None, how=how),  # type: ignore[arg-type]
    )


def round_seats(session: GroupSession, now: datetime) -> list[RosterSeat]:
    patients = with_online(Participant.objects.filter(session=session, role="patient", removed_at__isnull=True))
    return seats_for(patients, now)


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
    with room_as_facilitator(session_id, facilitator_id, open_only=True) as (session, actor):
        target = load_target(session, target_id)
        if target.role == "guest" and not target.admitted:
            raise ActionError("not_admitted", f"{target.display_name} is still in the lobby.")
        if target.is_muted(now):
            raise ActionError("muted", f"{target.display_name} is muted; unmute them first.")
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
            raise ActionError("no_floor", "You do not hold the floor.")
        release_floor(session, actor, now, reason="yield")


def do_next_round(session_id: int, facilitator_id: int, now: datetime) -> None:
    with room_as_facilitator(session_id, facilitator_id) as (session, actor):
        if session.mode != Mode.ROUND:
            raise ActionError("invalid", "No round is running; start one with mode.set round.")
        current = session.floor_holder
        advance_round(session, current, now, how="next", passed=current)
        record(session, actor, "round.next", now, target=current)


def do_set_mode(session_id: int, facilitator_id: int, mode: str, seconds: int | None, now: datetime) -> None:
    with room_as_facilitator(session_id, facilitator_id, open_only=True) as (session, actor):
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
            if leaving_round:
                send_event_on_commit(
                    session.pk,
                    RoundTurn(holder=None, next=None, expires_at=None, passed=session.floor_holder_id, how="end"),
                )
                if session.floor_holder_id is not None:
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


def choose_prompt(
    session: GroupSession, *, prompt_id: int | None, category: str | None, text: str | None
) -> Prompt:
    """A library prompt or this session's own by id, or a new custom prompt for this session."""
    if prompt_id is not None:
        prompt = (
            Prompt.objects.filter(pk=prompt_id, active=True, session=session).first()
            or Prompt.objects.filter(pk=prompt_id, active=True, session__isnull=True).first()
        )
        if prompt is None:
            raise ActionError("not_found", "No such prompt.")
        return prompt
    if not category or not text or not text.strip():
        raise ActionError("invalid", "Give either prompt_id, or category and text.")
    return Prompt.objects.create(category=category, text=text.strip(), session=session)


def post_prompt(session: GroupSession, actor: Participant, prompt: Prompt, now: datetime, **detail: object) -> None:
    """Pin `prompt` (room locked): it shows in session.state and messages from now on carry its id."""
    session.current_prompt = prompt
    session.save(update_fields=["current_prompt"])
    send_event_on_commit(session.pk, PromptPosted(prompt=prompt_out(prompt)))
    record(session, actor, "prompt.post", now, prompt_id=prompt.pk, **detail)


def do_post_prompt(
    session_id: int,
    facilitator_id: int,
    now: datetime,
    *,
    prompt_id: int | None = None,
    category: str | None = None,
    text: str | None = None,
) -> Prompt:
    with room_as_facilitator(session_id, facilitator_id, open_only=True) as (session, actor):
        prompt = choose_prompt(session, prompt_id=prompt_id, category=category, text=text)
        post_prompt(session, actor, prompt, now)
        return prompt


# ------------------------------------------------------------------ agenda

AGENDA_MAX_ITEMS = 50


def agenda_items(session: GroupSession) -> list[AgendaItem]:
    return list(AgendaItem.objects.filter(session=session).select_related("prompt").order_by("position", "pk"))


def renumber_agenda(order: list[int]) -> None:
    for position, item_id in enumerate(order):
        AgendaItem.objects.filter(pk=item_id).exclude(position=position).update(position=position)


def broadcast_agenda(session: GroupSession) -> None:
    from facilitator.stats import agenda_out  # read side; imported late to keep the layers one-way

    send_event_on_commit(session.pk, AgendaUpdated(agenda=agenda_out(agenda_items(session))), to="facilitators")


def load_agenda_item(session: GroupSession, item_id: int) -> AgendaItem:
    item = AgendaItem.objects.select_related("prompt").filter(pk=item_id, session=session).first()
    if item is None:
        raise ActionError("not_found", "No such agenda item in this session.")
    return item


def do_add_agenda_item(
    session_id: int,
    facilitator_id: int,
    now: datetime,
    *,
    prompt_id: int | None = None,
    category: str | None = None,
    text: str | None = None,
    position: int | None = None,
) -> AgendaItem:
    """Plan a prompt (before or during the session); `position` is 0-based, default last."""
    with room_as_facilitator(session_id, facilitator_id, open_only=True) as (session, actor):
        if AgendaItem.objects.filter(session=session).count() >= AGENDA_MAX_ITEMS:
            raise ActionError("invalid", f"An agenda can hold at most {AGENDA_MAX_ITEMS} prompts.")
        prompt = choose_prompt(session, prompt_id=prompt_id, category=category, text=text)
        order = [item.pk for item in agenda_items(session)]
        item = AgendaItem.objects.create(session=session, prompt=prompt, position=len(order))
        at = len(order) if position is None else position
        renumber_agenda(agenda_order_after_move([*order, item.pk], item.pk, at))
        record(session, actor, "agenda.add", now, item_id=item.pk, prompt_id=prompt.pk)
        broadcast_agenda(session)
        item.refresh_from_db()
        return item


def do_remove_agenda_item(session_id: int, facilitator_id: int, item_id: int, now: datetime) -> None:
    with room_as_facilitator(session_id, facilitator_id, open_only=True) as (session, actor):
        item = load_agenda_item(session, item_id)
        item.delete()
        renumber_agenda([other.pk for other in agenda_items(session)])
        record(session, actor, "agenda.remove", now, item_id=item_id, prompt_id=item.prompt_id)
        broadcast_agenda(session)


def do_move_agenda_item(session_id: int, facilitator_id: int, item_id: int, position: int, now: datetime) -> None:
    with room_as_facilitator(session_id, facilitator_id, open_only=True) as (session, actor):
        load_agenda_item(session, item_id)
        renumber_agenda(agenda_order_after_move([item.pk for item in agenda_items(session)], item_id, position))
        record(session, actor, "agenda.move", now, item_id=item_id, position=position)
        broadcast_agenda(session)


def do_next_agenda(session_id: int, facilitator_id: int, now: datetime) -> tuple[AgendaItem, Prompt]:
    """Post the first planned prompt not posted yet; `not_found` once the agenda is done."""
    with room_as_facilitator(session_id, facilitator_id, open_only=True) as (session, actor):
        items = agenda_items(session)
        upcoming = next_agenda_item([AgendaEntry(i.pk, i.position, i.posted_at is not None) for i in items])
        if upcoming is None:
            raise ActionError("not_found", "Every prompt on the agenda has been posted.")
        item = next(i for i in items if i.pk == upcoming.item_id)
        item.posted_at = now
        item.save(update_fields=["posted_at"])
        post_prompt(session, actor, item.prompt, now, item_id=item.pk)
        broadcast_agenda(session)
        return item, item.prompt


# ------------------------------------------------------------------ attendance


def open_attendance(session: GroupSession, participant: Participant, now: datetime) -> None:
    """Their first connection opened (room locked by the caller): a new presence span starts."""
    close_attendance(participant, now)  # a span left open by a removal or a lost departure
    Attendance.objects.create(session=session, participant=participant, joined_at=now)


def close_attendance(participant: Participant, left_at: datetime) -> None:
    """Their last connection went away (room locked by the caller)."""
    Attendance.objects.filter(participant=participant, left_at__isnull=True).update(left_at=left_at)


def close_session_records(session: GroupSession, now: datetime) -> None:
    """At session.end: every presence span and the running floor turn end now (removed people: when removed)."""
    end_floor_turn(session, now)
    open_spans = Attendance.objects.filter(session=session, left_at__isnull=True).select_related("participant")
    for span in open_spans:
        removed = span.participant.removed_at
        span.left_at = removed if removed is not None and removed >= span.joined_at else now
        span.save(update_fields=["left_at"])
