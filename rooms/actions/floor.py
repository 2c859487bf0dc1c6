"""The floor, the queue and hands: the room behaviour every app relies on (all under the room lock).

Who holds the floor, who has a hand up and in what order, and the room's
floor/queue version are the core's; what comes after a floor is released (a
round passing on, the record of the turn) belongs to the app that grants the
floor, through `floor_released_hooks` (rooms.extensions).
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.db.models import F

from rooms.actions import refuse
from rooms.broadcast import send_event_on_commit
from rooms.extensions import floor_released_hooks
from rooms.models import GroupSession, Participant, ParticipantRole, RoomClock
from rooms.rules import hand_toggle_refusal, toggles_kept
from rooms.schemas import ParticipantUpdated, QueueUpdated
from rooms.serializers import participant_out

# ------------------------------------------------------------------ version


def room_version(session: GroupSession) -> int:
    """This transaction's floor/queue version: bumped once per transaction, under the room lock.

    Every floor.changed and queue.updated carries it, so a client that hears two
    workers' events out of order (each publishes after its own commit) keeps the
    newer one: versions follow the order in which the room lock was taken.
    """
    cached: int | None = getattr(session, "_circle_version", None)
    if cached is not None:
        return cached
    if not RoomClock.objects.filter(session_id=session.pk).update(version=F("version") + 1):
        RoomClock.objects.create(session_id=session.pk, version=1)
    version = RoomClock.objects.values_list("version", flat=True).get(session_id=session.pk)
    session._circle_version = version  # type: ignore[attr-defined]
    return version


# ------------------------------------------------------------------ queue and hands


def queue_ids(session: GroupSession) -> list[int]:
    return list(
        Participant.objects.filter(session=session, hand_raised_at__isnull=False, removed_at__isnull=True)
        .order_by("hand_raised_at", "pk")
        .values_list("pk", flat=True)
    )


def broadcast_participant(session: GroupSession, participant: Participant, now: datetime) -> None:
    to = "facilitators" if participant.role == ParticipantRole.GUEST and not participant.admitted else "members"
    send_event_on_commit(
        session.pk, ParticipantUpdated(participant=participant_out(participant, now=now)), to=to, ids=[participant.pk]
    )


def count_hand_toggle(participant: Participant, now: datetime) -> None:
    """A hand.raise or hand.lower frame (room locked): refused past the rate limit, else counted in the
    participant's row, so every worker counts the same toggles (rooms.rules.hand_toggle_refusal)."""
    toggles = [datetime.fromtimestamp(at, UTC) for at in participant.hand_toggles]
    refuse(hand_toggle_refusal(participant.role, toggles, now))
    if participant.role != ParticipantRole.FACILITATOR:
        participant.hand_toggles = [at.timestamp() for at in toggles_kept(toggles, now)]
        participant.save(update_fields=["hand_toggles"])


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


# ------------------------------------------------------------------ floor


def release_floor(session: GroupSession, participant: Participant, now: datetime, *, reason: str) -> None:
    """Take the floor from `participant` if they hold it.

    The floor is only ever granted by an app above the core (facilitator), so that
    app's floor-released hook decides what follows (a round passes on; otherwise
    the floor is free) and keeps its record of the turn.
    """
    if session.floor_holder_id != participant.pk:
        return
    for hook in floor_released_hooks:
        hook(session, participant, now, reason)
