"""Sending messages: the room's hot write path.

`chat.send` is the one action that runs for every message of every room, so its
transaction is three statements written out here rather than the five the ORM
would build and compile for every message (docs/performance.md, "The chat
transaction"):

1. `claim_room`: UPDATE the room row's `last_seq`, RETURNING what the rules read.
   The UPDATE takes the same row lock as every other room action (`lock_room`),
   so the row is still the room's mutex, and it allocates the seq in the same
   statement. A refusal raises inside the transaction, which rolls the seq back.
2. `load_sender`: the participant, their host's name (a guest's label) and their
   own sends within the rate window, in one SELECT.
3. `insert_message`: INSERT ... RETURNING id.

Everything else (the rules, the rendering, the event, the crisis scan) is the
same code the rest of the room uses.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Model
from django.utils.dateparse import parse_datetime

from moderation.audit import record
from moderation.lexicon import scan
from rooms.actions import load_target, next_seq, refuse, room_as_facilitator, room_view, speaker_view
from rooms.broadcast import send_event_on_commit
from rooms.errors import ActionError
from rooms.models import Audience, GroupSession, Message, Participant
from rooms.rules import chat_refusal, rate_refusal, text_refusal
from rooms.sanitize import render_message_html
from rooms.schemas import AlertEvent, ChatMessageEvent
from rooms.serializers import message_out

M = TypeVar("M", bound=Model)

# The statements are assembled once, at import, from the models' own table and column names
# (constants, never input: the S608 warnings below are about exactly that).
ROOMS = GroupSession._meta.db_table
PARTICIPANTS = Participant._meta.db_table
MESSAGES = Message._meta.db_table

CLAIM_ROOM_SQL = f"""
UPDATE {ROOMS} SET last_seq = last_seq + 1 WHERE id = %s
RETURNING last_seq, status, mode, floor_holder_id, floor_expires_at, slowmode_seconds, current_prompt_id
"""  # noqa: S608

# One row per send of the sender since the lookback (or one row with a NULL sent_at when none).
SENDER_FIELDS = (
    "role",
    "display_name",
    "relationship",
    "admitted",
    "muted",
    "muted_until",
    "removed_at",
    "guest_of_id",
)
LOAD_SENDER_SQL = f"""
SELECT {", ".join(f"p.{field}" for field in SENDER_FIELDS)}, host.display_name, m.sent_at
FROM {PARTICIPANTS} p
LEFT JOIN {PARTICIPANTS} host ON host.id = p.guest_of_id
LEFT JOIN {MESSAGES} m ON m.participant_id = p.id AND m.sent_at > %s
WHERE p.id = %s AND p.session_id = %s
ORDER BY m.sent_at
"""  # noqa: S608

MESSAGE_FIELDS = (
    "session_id",
    "participant_id",
    "seq",
    "text",
    "html",
    "sent_at",
    "prompt_id",
    "audience",
    "recipient_id",
)
INSERT_MESSAGE_SQL = f"""
INSERT INTO {MESSAGES} ({", ".join(MESSAGE_FIELDS)}) VALUES ({", ".join(["%s"] * len(MESSAGE_FIELDS))})
RETURNING id
"""  # noqa: S608


def read_datetime(value: Any) -> datetime | None:
    """A datetime column from a hand-written statement: PostgreSQL gives it aware, SQLite as UTC text."""
    if value is None or (isinstance(value, datetime) and value.tzinfo is not None):
        return value
    parsed = value if isinstance(value, datetime) else parse_datetime(value)
    return parsed.replace(tzinfo=UTC) if parsed is not None else None


def partly_loaded(model: type[M], **values: Any) -> M:
    """A model instance of the fields read, the others deferred (loaded if touched; save() writes only these)."""
    fields = model._meta.concrete_fields
    return model.from_db(connection.alias, list(values), [values[f.attname] for f in fields if f.attname in values])


def write_datetime(value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def claim_room(session_id: int) -> GroupSession:
    """The room row, locked, with its next seq in `last_seq` (only the fields the rules read are loaded)."""
    with connection.cursor() as cursor:
        cursor.execute(CLAIM_ROOM_SQL, [session_id])
        row = cursor.fetchone()
    if row is None:
        raise ActionError("not_found", "No such session.")
    seq, status, mode, floor_holder_id, floor_expires_at, slowmode_seconds, current_prompt_id = row
    return partly_loaded(
        GroupSession,
        id=session_id,
        last_seq=seq,
        status=status,
        mode=mode,
        floor_holder_id=floor_holder_id,
        floor_expires_at=read_datetime(floor_expires_at),
        slowmode_seconds=slowmode_seconds,
        current_prompt_id=current_prompt_id,
    )


def load_sender(session_id: int, participant_id: int, *, sent_since: datetime) -> tuple[Participant, list[datetime]]:
    """The sender (as a partly loaded row) and their sends after `sent_since`, oldest first."""
    with connection.cursor() as cursor:
        cursor.execute(LOAD_SENDER_SQL, [write_datetime(sent_since), participant_id, session_id])
        rows = cursor.fetchall()
    if not rows:
        raise ActionError("not_allowed", "You are not in this session.")
    first = rows[0]
    values = dict(zip(SENDER_FIELDS, first, strict=False))
    values.update(
        admitted=bool(values["admitted"]),
        muted=bool(values["muted"]),
        muted_until=read_datetime(values["muted_until"]),
        removed_at=read_datetime(values["removed_at"]),
    )
    sender = partly_loaded(Participant, id=participant_id, session_id=session_id, **values)
    if sender.guest_of_id is not None:
        sender.guest_of = partly_loaded(Participant, id=sender.guest_of_id, display_name=first[-2])
    recent = [sent for row in rows if (sent := read_datetime(row[-1])) is not None]
    return sender, recent


def insert_message(message: Message) -> Message:
    values = [getattr(message, field) for field in MESSAGE_FIELDS]
    values[MESSAGE_FIELDS.index("sent_at")] = write_datetime(message.sent_at)
    values[MESSAGE_FIELDS.index("audience")] = str(message.audience)  # a TextChoices member -> its value
    with connection.cursor() as cursor:
        cursor.execute(INSERT_MESSAGE_SQL, values)
        (message.pk,) = cursor.fetchone()
    message._state.adding = False
    message._state.db = connection.alias
    return message


def rate_lookback(slowmode_seconds: int) -> int:
    return max(settings.CIRCLE["RATE_LIMIT_SECONDS"], slowmode_seconds)


def check_send_rate(recent: list[datetime], now: datetime, *, slowmode_seconds: int) -> None:
    circle = settings.CIRCLE
    refuse(
        rate_refusal(
            recent,
            now,
            limit=circle["RATE_LIMIT_COUNT"],
            window_seconds=circle["RATE_LIMIT_SECONDS"],
            slowmode_seconds=slowmode_seconds,
        )
    )


def recent_sends(sender: Participant, now: datetime) -> list[datetime]:
    """The sender's sends within the rate window (the private line's check; chat.send reads them in load_sender)."""
    since = now - timedelta(seconds=rate_lookback(0))
    return list(
        Message.objects.filter(participant=sender, sent_at__gt=since)
        .order_by("sent_at")
        .values_list("sent_at", flat=True)
    )


def do_send_chat(session_id: int, participant_id: int, text: str, now: datetime, *, to: str | None = None) -> Message:
    """chat.send: to the room, or with to="facilitators" on the private line to them."""
    refuse(text_refusal(text, settings.CIRCLE["MAX_MESSAGE_CHARS"]))
    private = to == "facilitators"
    with transaction.atomic():
        session = claim_room(session_id)
        sent_since = now - timedelta(seconds=rate_lookback(session.slowmode_seconds))
        sender, recent = load_sender(session_id, participant_id, sent_since=sent_since)
        refuse(chat_refusal(room_view(session), speaker_view(sender, now), now, private=private))
        # Slow mode paces the room; facilitators are exempt, and so is the private line to
        # them (a patient must always be able to reach the facilitators; the rate limit still holds).
        exempt = sender.role == "facilitator" or private
        check_send_rate(recent, now, slowmode_seconds=0 if exempt else session.slowmode_seconds)
        # A facilitator's to="facilitators" stays among the facilitators too (never the room).
        audience = Audience.FACILITATORS if private else Audience.ROOM
        return store_and_broadcast(session, sender, text, now, seq=session.last_seq, audience=audience)


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
        check_send_rate(recent_sends(sender, now), now, slowmode_seconds=0)
        seq = next_seq(session)
        return store_and_broadcast(session, sender, text, now, seq=seq, audience=Audience.PRIVATE, recipient=recipient)


def store_and_broadcast(
    session: GroupSession,
    sender: Participant,
    text: str,
    now: datetime,
    *,
    seq: int,
    audience: str,
    recipient: Participant | None = None,
) -> Message:
    body = text.strip()
    message = insert_message(
        Message(
            session=session,
            participant=sender,
            seq=seq,
            text=body,
            html=render_message_html(body),
            sent_at=now,
            prompt_id=session.current_prompt_id,
            audience=audience,
            recipient=recipient,
        )
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
