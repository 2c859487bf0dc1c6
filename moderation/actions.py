"""Moderation: mute, remove a participant, remove a message. Each one audited."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction

from facilitator.actions import broadcast_participant, broadcast_queue, lower_hand, release_floor
from moderation.audit import record
from rooms.actions import check_facilitator, load_actor, load_target, lock_room
from rooms.broadcast import send_event_on_commit
from rooms.errors import NOT_ON_ROSTER, ActionError
from rooms.models import Connection, Message
from rooms.schemas import MessageRemoved, ParticipantRemoved


def do_mute(session_id: int, facilitator_id: int, target_id: int, minutes: int | None, now: datetime) -> None:
    """Mute: no chat, no hand; out of the queue and off the floor. `minutes` makes it lapse by itself."""
    with transaction.atomic():
        session = lock_room(session_id)
        actor = load_actor(session, facilitator_id)
        check_facilitator(actor)
        target = load_target(session, target_id)
        if target.role == "facilitator":
            raise ActionError("not_allowed", "Facilitators cannot be muted.")
        target.muted = True
        target.muted_until = now + timedelta(minutes=minutes) if minutes else None
        target.save(update_fields=["muted", "muted_until"])
        if lower_hand(session, target, now):
            broadcast_queue(session)
        else:
            broadcast_participant(session, target, now)
        release_floor(session, target, now, reason="muted")
        record(session, actor, "participant.mute", now, target=target, minutes=minutes)


def do_unmute(session_id: int, facilitator_id: int, target_id: int, now: datetime) -> None:
    with transaction.atomic():
        session = lock_room(session_id)
        actor = load_actor(session, facilitator_id)
        check_facilitator(actor)
        target = load_target(session, target_id)
        target.muted = False
        target.muted_until = None
        target.save(update_fields=["muted", "muted_until"])
        broadcast_participant(session, target, now)
        record(session, actor, "participant.unmute", now, target=target)


def do_remove_participant(
    session_id: int, facilitator_id: int, target_id: int, reason: str | None, now: datetime
) -> None:
    """Remove from this session for good: everyone is told, the person is closed with 4403."""
    with transaction.atomic():
        session = lock_room(session_id)
        actor = load_actor(session, facilitator_id)
        check_facilitator(actor)
        target = load_target(session, target_id)
        if target.pk == actor.pk:
            raise ActionError("invalid", "You cannot remove yourself.")
        if lower_hand(session, target, now):
            broadcast_queue(session)
        release_floor(session, target, now, reason="removed")
        target.removed_at = now
        target.save(update_fields=["removed_at"])
        Connection.objects.filter(participant=target).delete()
        record(session, actor, "participant.remove", now, target=target, reason=reason or "")
        send_event_on_commit(
            session.pk,
            ParticipantRemoved(participant_id=target.pk),
            ids=[target.pk],
            effects_for={target.pk: f"close:{NOT_ON_ROSTER}"},
        )


def do_remove_message(
    session_id: int, facilitator_id: int, message_id: int, reason: str | None, now: datetime
) -> None:
    """A tombstone for everyone; the audit log keeps the text until the retention period ends."""
    with transaction.atomic():
        session = lock_room(session_id)
        actor = load_actor(session, facilitator_id)
        check_facilitator(actor)
        message = Message.objects.select_related("participant").filter(pk=message_id, session=session).first()
        if message is None:
            raise ActionError("not_found", "No such message in this session.")
        if message.removed_at is not None:
            return
        message.removed_at = now
        message.save(update_fields=["removed_at"])
        record(
            session,
            actor,
            "message.remove",
            now,
            target=message.participant,
            message_seq=message.seq,
            reason=reason or "",
            removed_text=message.text,
        )
        send_event_on_commit(session.pk, MessageRemoved(message_id=message.pk))
