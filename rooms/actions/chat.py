"""Sending messages: the room's hot write path (one locked transaction per message)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from moderation.audit import record
from moderation.lexicon import scan
from rooms.actions import (
    load_actor,
    load_target,
    lock_room,
    next_seq,
    refuse,
    room_as_facilitator,
    room_view,
    speaker_view,
)
from rooms.broadcast import send_event_on_commit
from rooms.errors import ActionError
from rooms.models import Audience, GroupSession, Message, Participant
from rooms.rules import chat_refusal, rate_refusal, text_refusal
from rooms.sanitize import render_message_html
from rooms.schemas import AlertEvent, ChatMessageEvent
from rooms.serializers import message_out


def check_send_rate(session: GroupSession, sender: Participant, now: datetime, *, private: bool = False) -> None:
    circle = settings.CIRCLE
    # Slow mode paces the room; facilitators are exempt, and so is the private line to
    # them (a patient must always be able to reach the facilitators; the rate limit still holds).
    slowmode = 0 if sender.role == "facilitator" or private else session.slowmode_seconds
    lookback = max(circle["RATE_LIMIT_SECONDS"], slowmode)
    recent = list(
        Message.objects.filter(participant=sender, sent_at__gt=now - timedelta(seconds=lookback))
        .order_by("sent_at")
        .values_list("sent_at", flat=True)
    )
    refuse(
        rate_refusal(
            recent,
            now,
            limit=circle["RATE_LIMIT_COUNT"],
            window_seconds=circle["RATE_LIMIT_SECONDS"],
            slowmode_seconds=slowmode,
        )
    )


def do_send_chat(session_id: int, participant_id: int, text: str, now: datetime, *, to: str | None = None) -> Message:
    """chat.send: to the room, or with to="facilitators" on the private line to them."""
    refuse(text_refusal(text, settings.CIRCLE["MAX_MESSAGE_CHARS"]))
    with transaction.atomic():
        session = lock_room(session_id)
        sender = load_actor(session, participant_id)
        private = to == "facilitators"
        refuse(chat_refusal(room_view(session), speaker_view(sender, now), now, private=private))
        check_send_rate(session, sender, now, private=private)
        # A facilitator's to="facilitators" stays among the facilitators too (never the room).
        audience = Audience.FACILITATORS if private else Audience.ROOM
        return store_and_broadcast(session, sender, text, now, audience=audience)


def do_send_private(session_id: int, facilitator_id: int, recipient_id: int, text: str, now: datetime) -> Message:
    """private.send: a facilitator writes to one participant; nobody else receives it."""
    refuse(text_refusal(text, settings.CIRCLE["MAX_MESSAGE_CHARS"]))
    with room_as_facilitator(session_id, facilitator_id, open_only=True) as (session, sender):
        recipient = load_target(session, recipient_id)
        if recipient.pk == sender.pk:
            raise ActionError("invalid", "Write to someone other than yourself.")
        if recipient.role == "guest" and not recipient.admitted:
            # The lobby sees nothing of the room; lobby.say is how to reach it.
            raise ActionError("not_admitted", f"{recipient.display_name} is in the lobby; use a lobby message.")
        check_send_rate(session, sender, now)
        return store_and_broadcast(session, sender, text, now, audience=Audience.PRIVATE, recipient=recipient)


def store_and_broadcast(
    session: GroupSession,
    sender: Participant,
    text: str,
    now: datetime,
    *,
    audience: str,
    recipient: Participant | None = None,
) -> Message:
    body = text.strip()
    message = Message.objects.create(
        session=session,
        participant=sender,
        seq=next_seq(session),
        text=body,
        html=render_message_html(body),
        sent_at=now,
        prompt_id=session.current_prompt_id,
        audience=audience,
        recipient=recipient,
    )
    event = message_out(message, as_event=ChatMessageEvent)
    if audience == Audience.ROOM:
        send_event_on_commit(session.pk, event, seq=message.seq)
    elif audience == Audience.FACILITATORS:
        send_event_on_commit(session.pk, event, to="facilitators", ids=[sender.pk])
    else:
        send_event_on_commit(session.pk, event, to="none", ids=[sender.pk, recipient.pk if recipient else sender.pk])
    if audience != Audience.ROOM:
        # The private line is audited: who wrote to whom, and when; never the text.
        action = "private.send" if recipient is not None else "private.to_facilitators"
        record(session, sender, action, now, target=recipient, message_seq=message.seq)
    if sender.role != "facilitator":
        raise_alert_if_at_risk(session, sender, message)
    return message


def raise_alert_if_at_risk(session: GroupSession, sender: Participant, message: Message) -> None:
    """Never blocks the message: facilitators alone are told, with the clinic's crisis resources."""
    match = scan(message.text)
    if match is None:
        return
    alert = AlertEvent(
        message_id=message.pk,
        participant_id=sender.pk,
        kind=match.kind,
        excerpt=match.excerpt,
        resources=settings.CIRCLE["CRISIS_RESOURCES"],
    )
    send_event_on_commit(session.pk, alert, to="facilitators")
    # The session report shows that an alert was raised (kind and message), not the excerpt.
    record(session, None, "alert", message.sent_at, target=sender, message_seq=message.seq, kind=match.kind)
