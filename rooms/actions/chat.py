"""Sending messages: the room's hot write path.

`chat.send` is the one action that runs for every message of every room, so its
transaction is written out here rather than built by the ORM, which would send
five statements and compile each of them for every message (docs/performance.md,
"The chat transaction"):

1. the room (`CLAIM_ROOM_SQL`): UPDATE the room row's `last_seq`, RETURNING what
   the rules read. The UPDATE takes the same row lock as every other room action
   (`lock_room`), so the row is still the room's mutex, and it allocates the seq
   in the same statement. A refusal raises inside the transaction, which rolls
   the seq back.
2. the sender (`LOAD_SENDER_SQL`): the participant, their host's name (a guest's
   label) and their send history (two instants, not one row per send); on
   PostgreSQL also the message's id, drawn from its sequence
   (`LOAD_SENDER_DRAWING_ID_SQL`).
3. `insert_message`: INSERT the message; a message to the room also counts in its
   sender's participation (`COUNT_ROOM_MESSAGE_SQL`).

On PostgreSQL a message costs two round trips: 1 and 2 leave together with the
BEGIN (`first_rows`), and 3 (one statement, a
common table expression that modifies data) leaves with the COMMIT
(`send_with_commit`). These statements are prepared on each connection (planning
them cost PostgreSQL more than running them; DB_PREPARED_STATEMENTS). Everything else
(the rules, the rendering, the event, the crisis scan) is the same code the rest
of the room uses.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import psycopg
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
from rooms.rules import SendHistory, chat_refusal, rate_refusal, send_history, text_refusal
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
# The sender, their host's name (a guest's label) and their send history (rooms.rules.SendHistory):
# the limit-th newest send in the rate window and their newest send. Two instants
# read through the (participant, sent_at) index, however high the limit is set.
SENDER_COLUMNS = f"""{", ".join(f"p.{field}" for field in SENDER_FIELDS)}, host.display_name,
    (SELECT m.sent_at FROM {MESSAGES} m WHERE m.participant_id = p.id AND m.sent_at > %s
     ORDER BY m.sent_at DESC LIMIT 1 OFFSET %s),
    (SELECT MAX(m.sent_at) FROM {MESSAGES} m WHERE m.participant_id = p.id)"""  # noqa: S608
SENDER_FROM = f"""
FROM {PARTICIPANTS} p
LEFT JOIN {PARTICIPANTS} host ON host.id = p.guest_of_id
WHERE p.id = %s AND p.session_id = %s
"""
LOAD_SENDER_SQL = f"SELECT {SENDER_COLUMNS}{SENDER_FROM}"

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
# PostgreSQL: chat.send draws the message's id in its first round trip, as the last column of the
# sender's read (one statement fewer to send and bind than a SELECT of its own), so that the INSERT
# needs nothing back and can leave with the COMMIT (`send_with_commit`). The INSERT takes that id,
# or the sequence's next where none was drawn (NULL: private.send).
NEXT_MESSAGE_ID = f"nextval(pg_get_serial_sequence('{MESSAGES}', 'id'))"
LOAD_SENDER_DRAWING_ID_SQL = f"SELECT {SENDER_COLUMNS}, {NEXT_MESSAGE_ID}{SENDER_FROM}"
INSERT_MESSAGE_WITH_ID_SQL = f"""
INSERT INTO {MESSAGES} (id, {", ".join(MESSAGE_FIELDS)})
VALUES (COALESCE(%s, {NEXT_MESSAGE_ID}), {", ".join(["%s"] * len(MESSAGE_FIELDS))})
RETURNING id
"""  # noqa: S608
# A message to the room counts in its sender's participation (facilitator.stats).
COUNT_ROOM_MESSAGE_SQL = f"""
UPDATE {PARTICIPANTS} SET room_messages = room_messages + 1, room_characters = room_characters + %s
WHERE id = %s
"""  # noqa: S608

# PostgreSQL: both writes as one statement (one round trip, one statement to bind).
INSERT_AND_COUNT_ROOM_MESSAGE_SQL = f"WITH counted AS ({COUNT_ROOM_MESSAGE_SQL}) {INSERT_MESSAGE_WITH_ID_SQL}"


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


def first_rows(*statements: tuple[str, list[Any]]) -> list[Any]:
    """The first row of each statement, run in order in the current transaction.

    On PostgreSQL they leave together, with the transaction's BEGIN, in one round
    trip (psycopg's pipeline mode, which needs server-side binding: a plain psycopg
    cursor rather than Django's client-side one) instead of one each. That changes
    when they are sent, not what they do: each statement still starts after the one
    before it has finished (so a read after the room's UPDATE sees what committed
    while that UPDATE waited for the lock), which one statement made of both would
    not give.
    """
    if connection.vendor != "postgresql":
        return [first_row(sql, params) for sql, params in statements]
    pg = postgresql_connection()
    with connection.wrap_database_errors:
        cursors = [psycopg.Cursor(pg) for _ in statements]
        with pg.pipeline():
            for cursor, (sql, params) in zip(cursors, statements, strict=True):
                cursor.execute(sql, params, prepare=True)
        return [cursor.fetchone() for cursor in cursors]


def first_row(sql: str, params: list[Any]) -> Any:
    """The first row of one statement, run in the current transaction (no pipeline: it costs CPU for one)."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()
    with connection.wrap_database_errors, psycopg.Cursor(postgresql_connection()) as cursor:
        cursor.execute(sql, params, prepare=True)
        return cursor.fetchone()


def send_with_commit(sql: str, params: list[Any]) -> None:
    """Send the transaction's last statement and its COMMIT together: one round trip for both.

    Only for the outermost `atomic` block on PostgreSQL (the COMMIT is then its to
    send). When the block exits, Django's commit finds the connection idle and sends
    nothing more, then runs the on-commit hooks as usual. An error of the statement
    or of the COMMIT (where PostgreSQL checks the deferred foreign keys) raises here,
    inside the block, which rolls back as after any error: no hook runs. Nothing may
    run in the transaction after this.
    """
    pg = postgresql_connection()
    with connection.wrap_database_errors, psycopg.Cursor(pg) as cursor, pg.pipeline():
        cursor.execute(sql, params, prepare=True)
        cursor.execute("COMMIT")


def postgresql_connection() -> psycopg.Connection[Any]:
    """Django's psycopg connection, for a plain cursor: server-side binding and prepared statements.

    The hot statements above ask to be prepared (`prepare=True`), once per connection:
    planning them cost PostgreSQL more than running them. psycopg honours that only
    with a `prepare_threshold`, which Django sets to None (preparation breaks behind a
    pooler that does not track it, such as PgBouncer before 1.21 in transaction mode)
    and config.env sets to a number unless DB_PREPARED_STATEMENTS is 0.
    """
    connection.ensure_connection()
    return connection.connection


def claim_room_and_sender(
    session_id: int, participant_id: int, now: datetime
) -> tuple[GroupSession, Participant, SendHistory, int | None]:
    """The room row, locked, with its next seq in `last_seq`; the sender; their send history at `now`;
    on PostgreSQL the new message's id (None elsewhere: the INSERT returns it).

    Only the fields the rules read are loaded. The statements do not depend on one
    another, so they leave together (`first_rows`). A refused message leaves a gap
    in the ids, as any rolled-back INSERT does.
    """
    circle = settings.CIRCLE
    window_start = now - timedelta(seconds=circle["RATE_LIMIT_SECONDS"])
    draws_id = connection.vendor == "postgresql"
    room_row, sender_row = first_rows(
        (CLAIM_ROOM_SQL, [session_id]),
        (
            LOAD_SENDER_DRAWING_ID_SQL if draws_id else LOAD_SENDER_SQL,
            [write_datetime(window_start), circle["RATE_LIMIT_COUNT"] - 1, participant_id, session_id],
        ),
    )
    if room_row is None:
        raise ActionError("not_found", "No such session.")
    if sender_row is None:
        raise ActionError("not_allowed", "You are not in this session.")
    message_id = None
    if draws_id:
        *sender_row, message_id = sender_row
    return room_from_row(session_id, room_row), *sender_from_row(session_id, participant_id, sender_row), message_id


def room_from_row(session_id: int, row: Any) -> GroupSession:
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


def sender_from_row(session_id: int, participant_id: int, row: Any) -> tuple[Participant, SendHistory]:
    *fields, host_name, window_full_since, newest = row
    values = dict(zip(SENDER_FIELDS, fields, strict=True))
    values.update(
        admitted=bool(values["admitted"]),
        muted=bool(values["muted"]),
        muted_until=read_datetime(values["muted_until"]),
        removed_at=read_datetime(values["removed_at"]),
    )
    sender = partly_loaded(Participant, id=participant_id, session_id=session_id, **values)
    if sender.guest_of_id is not None:
        sender.guest_of = partly_loaded(Participant, id=sender.guest_of_id, display_name=host_name)
    return sender, SendHistory(window_full_since=read_datetime(window_full_since), newest=read_datetime(newest))


def insert_message(message: Message, *, with_commit: bool = False) -> Message:
    """INSERT the message; one to the room also counts in its sender's participation (one statement on PostgreSQL).

    On PostgreSQL the id is the one drawn beforehand (`message.pk`, chat.send) or the
    sequence's next; `with_commit` sends the INSERT with the transaction's COMMIT
    (`send_with_commit`), for an id drawn beforehand and nothing written after it.
    """
    values = [getattr(message, field) for field in MESSAGE_FIELDS]
    values[MESSAGE_FIELDS.index("sent_at")] = write_datetime(message.sent_at)
    values[MESSAGE_FIELDS.index("audience")] = str(message.audience)  # a TextChoices member -> its value
    counted = message.audience == Audience.ROOM
    count_params = [len(message.text), message.participant_id]
    if connection.vendor != "postgresql":
        (message.pk,) = first_row(INSERT_MESSAGE_SQL, values)
        if counted:
            first_row(COUNT_ROOM_MESSAGE_SQL, count_params)
    else:
        sql, params = (
            (INSERT_AND_COUNT_ROOM_MESSAGE_SQL, [*count_params, message.pk, *values])
            if counted
            else (INSERT_MESSAGE_WITH_ID_SQL, [message.pk, *values])
        )
        if with_commit:
            send_with_commit(sql, params)
        else:
            (message.pk,) = first_row(sql, params)
    message._state.adding = False
    message._state.db = connection.alias
    return message


def check_send_rate(history: SendHistory, now: datetime, *, slowmode_seconds: int) -> None:
    circle = settings.CIRCLE
    refuse(
        rate_refusal(
            history,
            now,
            limit=circle["RATE_LIMIT_COUNT"],
            window_seconds=circle["RATE_LIMIT_SECONDS"],
            slowmode_seconds=slowmode_seconds,
        )
    )


def recent_history(sender: Participant, now: datetime) -> SendHistory:
    """The sender's send history (the private line's check; chat.send reads it with the sender)."""
    circle = settings.CIRCLE
    since = now - timedelta(seconds=circle["RATE_LIMIT_SECONDS"])  # no slow mode on the private line
    sends = list(
        Message.objects.filter(participant=sender, sent_at__gt=since)
        .order_by("sent_at")
        .values_list("sent_at", flat=True)
    )
    return send_history(sends, now, limit=circle["RATE_LIMIT_COUNT"], window_seconds=circle["RATE_LIMIT_SECONDS"])


def do_send_chat(session_id: int, participant_id: int, text: str, now: datetime, *, to: str | None = None) -> Message:
    """chat.send: to the room, or with to="facilitators" on the private line to them."""
    refuse(text_refusal(text, settings.CIRCLE["MAX_MESSAGE_CHARS"]))
    private = to == "facilitators"
    # The outermost transaction's COMMIT is this action's to send, with its INSERT (send_with_commit).
    outermost = connection.get_autocommit() and not connection.in_atomic_block
    with transaction.atomic():
        session, sender, history, message_id = claim_room_and_sender(session_id, participant_id, now)
        refuse(chat_refusal(room_view(session), speaker_view(sender, now), now, private=private))
        # Slow mode paces the room; facilitators are exempt, and so is the private line to
        # them (a patient must always be able to reach the facilitators; the rate limit still holds).
        exempt = sender.role == "facilitator" or private
        check_send_rate(history, now, slowmode_seconds=0 if exempt else session.slowmode_seconds)
        # A facilitator's to="facilitators" stays among the facilitators too (never the room).
        audience = Audience.FACILITATORS if private else Audience.ROOM
        return store_and_broadcast(
            session,
            sender,
            text,
            now,
            seq=session.last_seq,
            audience=audience,
            message_id=message_id,
            commit_with_insert=outermost,
        )


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
        check_send_rate(recent_history(sender, now), now, slowmode_seconds=0)
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
    message_id: int | None = None,
    commit_with_insert: bool = False,
) -> Message:
    """Store the message, broadcast it on commit, audit the private line, alert on a crisis.

    With its id drawn beforehand (`message_id`: chat.send on PostgreSQL) the message is
    written last, so that its INSERT can leave with the COMMIT (`commit_with_insert`).
    """
    body = text.strip()
    message = Message(
        id=message_id,
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
    if message_id is None:
        insert_message(message)  # the INSERT gives the id that the event and the alert carry
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
    if message_id is not None:
        insert_message(message, with_commit=commit_with_insert)
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
