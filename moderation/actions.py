"""Moderation: mute (and its lapse), remove a participant, remove a message, slow mode. Each one audited."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from rooms.actions import (
    DueCondition,
    check_facilitator,
    load_actor,
    load_target,
    room_as_facilitator,
    skip_locked,
)
from rooms.actions.floor import broadcast_participant, broadcast_queue, lower_hand, release_floor
from rooms.actions.guest_announcements import announce_invite
from rooms.actions.guests import withdraw_pass
from rooms.actions.presence import drop_connections
from rooms.audit import record
from rooms.broadcast import send_event_on_commit
from rooms.chat_store import chat_store
from rooms.errors import NOT_ON_ROSTER, ActionError
from rooms.extensions import PeriodicDuty, deadline_tick_seconds, in_database_thread
from rooms.models import GroupSession, GuestPass, Message, Participant, ParticipantRole
from rooms.schemas import MessageRemoved, ParticipantRemoved, SlowmodeChanged
from rooms.visibility import readers_of


def do_mute(session_id: int, facilitator_id: int, target_id: int, minutes: int | None, now: datetime) -> None:
    """Mute: no chat, no hand; out of the queue and off the floor. `minutes` makes it lapse by itself."""
    with room_as_facilitator(session_id, facilitator_id) as (session, actor):
        target = load_target(session, target_id)
        if target.role == ParticipantRole.FACILITATOR:
            raise ActionError("not_allowed", _("Facilitators cannot be muted."))
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
    with room_as_facilitator(session_id, facilitator_id) as (session, actor):
        unmute(session, load_target(session, target_id), actor, now)


def unmute(
    session: GroupSession, target: Participant, actor: Participant | None, now: datetime, *, reason: str = ""
) -> None:
    """Lift a mute (room locked): whoever is still in the room hears participant.updated; audited.
    `actor` None: a timed mute lapsed by itself."""
    target.muted = False
    target.muted_until = None
    target.save(update_fields=["muted", "muted_until"])
    if target.removed_at is None:
        broadcast_participant(session, target, now)
    record(session, actor, "participant.unmute", now, target=target, reason=reason)


def do_remove_participant(
    session_id: int, facilitator_id: int, target_id: int, reason: str | None, now: datetime
) -> None:
    """Remove from this session for good: everyone is told, the person is closed with 4403."""
    with room_as_facilitator(session_id, facilitator_id) as (session, actor):
        target = load_target(session, target_id)
        if target.pk == actor.pk:
            raise ActionError("invalid", _("You cannot remove yourself."))
        if lower_hand(session, target, now):
            broadcast_queue(session)
        release_floor(session, target, now, reason="removed")
        target.removed_at = now
        target.save(update_fields=["removed_at"])
        drop_connections(session, target, now)
        record(session, actor, "participant.remove", now, target=target, reason=reason or "")
        send_event_on_commit(
            session.pk,
            ParticipantRemoved(participant_id=target.pk),
            ids=[target.pk],
            effects_for={target.pk: f"close:{NOT_ON_ROSTER}"},
        )
        remove_their_guests(session, actor, target, now)


def remove_their_guests(session: GroupSession, actor: Participant, patient: Participant, now: datetime) -> None:
    """A removed patient's invitations go with them (issue 22, class 6): every pass withdrawn, and each
    guest who used one removed (participant.removed, closed with 4403, admission closed), audited."""
    passes = GuestPass.objects.select_related("guest").filter(for_participant=patient, revoked_at__isnull=True)
    for guest_pass in passes:
        guest = guest_pass.guest
        withdraw_pass(session, guest_pass, now, declined=False)
        if guest is not None and guest.removed_at is not None:
            record(session, actor, "participant.remove", now, target=guest, reason="their host was removed")
        announce_invite(session, guest_pass)


def do_remove_message(
    session_id: int, facilitator_id: int, message_id: int, reason: str | None, now: datetime
) -> None:
    """A tombstone for everyone; the audit log keeps the text until the retention period ends."""
    with room_as_facilitator(session_id, facilitator_id) as (session, actor):
        message = Message.objects.select_related("participant").filter(pk=message_id, session=session).first()
        if message is None:
            raise ActionError("not_found", _("No such message in this session."))
        if message.removed_at is not None:
            return
        message.removed_at = now
        message.save(update_fields=["removed_at"])
        chat_store().uncount(message)  # no longer counts in the sender's participation
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
        send_event_on_commit(session.pk, MessageRemoved(message_id=message.pk), **readers_of(message))


# People whose timed mute has run out: the mute-lapse duty's due check (through the partial index on muted
# participants' muted_until, rooms.models), and its claim.
LAPSED_MUTE = DueCondition(Participant, "{table}.muted AND {table}.muted_until <= %s", "muted_until")


def do_expire_due_mutes(now: datetime) -> int:
    """The mute-lapse duty (rooms.extensions, run by every worker's hub): a timed mute whose `muted_until`
    has passed lapses, as if a facilitator had unmuted them.

    Everyone hears `participant.updated` with muted false. Each room is claimed
    with SKIP LOCKED, so of several workers sweeping at once exactly one acts;
    a room busy with another action is picked up on the next tick.
    """
    due = list(LAPSED_MUTE.rows(now).values_list("session_id", flat=True).distinct())
    lapsed = 0
    for session_id in due:
        with transaction.atomic():
            session = GroupSession.objects.select_for_update(skip_locked=skip_locked()).filter(pk=session_id).first()
            if session is None:
                continue  # another worker holds the room; next tick
            for target in LAPSED_MUTE.rows(now).filter(session=session).select_related("guest_of"):
                unmute(session, target, None, now, reason="timed mute lapsed")
                lapsed += 1
    return lapsed


MUTE_LAPSE = PeriodicDuty(
    name="moderation.mute_lapse",
    every_seconds=deadline_tick_seconds,
    due=LAPSED_MUTE,
    run=in_database_thread(do_expire_due_mutes),
)


def do_set_slowmode(session_id: int, facilitator_id: int, seconds: int, now: datetime) -> None:
    """slow mode: patients and guests wait `seconds` between messages (facilitators are exempt); 0 = off."""
    with room_as_facilitator(session_id, facilitator_id, open_only=True) as (session, actor):
        if seconds < 0:
            raise ActionError("invalid", "seconds: 0 or more.")
        if session.slowmode_seconds == seconds:
            return
        session.slowmode_seconds = seconds
        session.save(update_fields=["slowmode_seconds"])
        send_event_on_commit(session.pk, SlowmodeChanged(seconds=seconds))
        record(session, actor, "slowmode.set", now, seconds=seconds)


def do_record_transcript_access(session_id: int, facilitator_id: int, fmt: str, now: datetime) -> None:
    """A facilitator opened or downloaded the transcript: an access to the record, so it is audited."""
    with transaction.atomic():
        session = GroupSession.objects.get(pk=session_id)
        actor = load_actor(session, facilitator_id)
        check_facilitator(actor)
        record(session, actor, "transcript.view", now, format=fmt)
