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

A busy worker stores its waiting chat.sends together (`do_send_chats`, group
commit, called by rooms.group_commit): the same steps for a batch, each statement
covering every message of it, in two round trips for the whole batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Model
from django.utils.dateparse import parse_datetime

from moderation.lexicon import scan
from rooms.actions import load_target, next_seq, refuse, room_as_facilitator, room_view, speaker_view
from rooms.audit import record
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

# Group commit (do_send_chats): the batch's rooms, locked in one statement in id order, as every
# batch locks them, so that two batches wait for each other rather than deadlock; its senders in
# one statement, each drawing its message's id on PostgreSQL.
ROOM_COLUMNS = "id, last_seq, status, mode, floor_holder_id, floor_expires_at, slowmode_seconds, current_prompt_id"
LOCK_ROOMS_SQL = f"SELECT {ROOM_COLUMNS} FROM {ROOMS} WHERE id = ANY(%s) ORDER BY id FOR UPDATE"  # noqa: S608
SENDERS_FROM = f"""
FROM {PARTICIPANTS} p
LEFT JOIN {PARTICIPANTS} host ON host.id = p.guest_of_id
WHERE p.id = ANY(%s)
"""
LOAD_SENDERS_SQL = f"SELECT p.id, p.session_id, {SENDER_COLUMNS}{SENDERS_FROM}"
LOAD_SENDERS_DRAWING_IDS_SQL = f"SELECT p.id, p.session_id, {SENDER_COLUMNS}, {NEXT_MESSAGE_ID}{SENDERS_FROM}"
SET_LAST_SEQ_SQL = f"UPDATE {ROOMS} SET last_seq = %s WHERE id = %s"  # noqa: S608


def sqlite_in(sql: str, count: int) -> str:
    """SQLite has no arrays: `= ANY(%s)` becomes `IN (%s, ...)` with one placeholder per value
    (and the lock goes: SQLite's IMMEDIATE transaction already holds the database's)."""
    return sql.replace("= ANY(%s)", f"IN ({', '.join(['%s'] * count)})").replace(" FOR UPDATE", "")


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
    """The first row of each statement (None if it has none), as `rows_of` runs them."""
    return [rows[0] if rows else None for rows in rows_of(*statements)]


def rows_of(*statements: tuple[str, list[Any]]) -> list[list[Any]]:
    """The rows of each statement, run in order in the current transaction.

    On PostgreSQL they leave together, with the transaction's BEGIN, in one round
    trip (psycopg's pipeline mode, which needs server-side binding: a plain psycopg
    cursor rather than Django's client-side one) instead of one each. That changes
    when they are sent, not what they do: each statement still starts after the one
    before it has finished (so a read after the room's UPDATE sees what committed
    while that UPDATE waited for the lock), which one statement made of both would
    not give.
    """
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            results = []
            for sql, params in statements:
                cursor.execute(sql, params)
                results.append(cursor.fetchall())
            return results
    pg = postgresql_connection()
    with connection.wrap_database_errors:
        cursors = [psycopg.Cursor(pg) for _ in statements]
        with pg.pipeline():
            for cursor, (sql, params) in zip(cursors, statements, strict=True):
                cursor.execute(sql, params, prepare=True)
        return [cursor.fetchall() for cursor in cursors]


def first_row(sql: str, params: list[Any]) -> Any:
    """The first row of one statement, run in the current transaction (no pipeline: it costs CPU for one)."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()
    with connection.wrap_database_errors, psycopg.Cursor(postgresql_connection()) as cursor:
        cursor.execute(sql, params, prepare=True)
        return cursor.fetchone()


def send_with_commit(*statements: tuple[str, list[Any]]) -> None:
    """Send the transaction's last statements and its COMMIT together: one round trip for all.

    Only for the outermost `atomic` block on PostgreSQL (the COMMIT is then its to
    send). When the block exits, Django's commit finds the connection idle and sends
    nothing more, then runs the on-commit hooks as usual. An error of a statement
    or of the COMMIT (where PostgreSQL checks the deferred foreign keys) raises here,
    inside the block, which rolls back as after any error: no hook runs. Nothing may
    run in the transaction after this.
    """
    send_together(*statements, commit=True)


def send_together(*statements: tuple[str, list[Any]], commit: bool = False) -> None:
    """PostgreSQL: statements whose rows nobody reads, in one round trip (with the COMMIT if `commit`)."""
    pg = postgresql_connection()
    with connection.wrap_database_errors, psycopg.Cursor(pg) as cursor, pg.pipeline():
        for sql, params in statements:
            cursor.execute(sql, params, prepare=True)
        if commit:
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
    if connection.vendor != "postgresql":
        values = message_values(message)
        (message.pk,) = first_row(INSERT_MESSAGE_SQL, values)
        if message.audience == Audience.ROOM:
            first_row(COUNT_ROOM_MESSAGE_SQL, [len(message.text), message.participant_id])
    elif with_commit:
        send_with_commit(insert_statement(message))
    else:
        (message.pk,) = first_row(*insert_statement(message))
    mark_stored(message)
    return message


def message_values(message: Message) -> list[Any]:
    values = [getattr(message, field) for field in MESSAGE_FIELDS]
    values[MESSAGE_FIELDS.index("sent_at")] = write_datetime(message.sent_at)
    values[MESSAGE_FIELDS.index("audience")] = str(message.audience)  # a TextChoices member -> its value
    return values


def insert_statement(message: Message) -> tuple[str, list[Any]]:
    """PostgreSQL: the INSERT of one message, with its id drawn beforehand or not (NULL), and its count."""
    if message.audience == Audience.ROOM:
        count_params = [len(message.text), message.participant_id]
        return INSERT_AND_COUNT_ROOM_MESSAGE_SQL, [*count_params, message.pk, *message_values(message)]
    return INSERT_MESSAGE_WITH_ID_SQL, [message.pk, *message_values(message)]


def mark_stored(message: Message) -> None:
    message._state.adding = False
    message._state.db = connection.alias


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
        audience = check_chat(session, sender, history, now, private=private)
        message = new_message(
            session, sender, text, now, seq=session.last_seq, audience=audience, message_id=message_id
        )
        return store_and_broadcast(message, commit_with_insert=outermost)


def check_chat(
    session: GroupSession, sender: Participant, history: SendHistory, now: datetime, *, private: bool
) -> Audience:
    """May the sender write this message now? Its audience if so (ActionError if not)."""
    refuse(chat_refusal(room_view(session), speaker_view(sender, now), now, private=private))
    # Slow mode paces the room; facilitators are exempt, and so is the private line to
    # them (a patient must always be able to reach the facilitators; the rate limit still holds).
    exempt = sender.role == "facilitator" or private
    check_send_rate(history, now, slowmode_seconds=0 if exempt else session.slowmode_seconds)
    # A facilitator's to="facilitators" stays among the facilitators too (never the room).
    return Audience.FACILITATORS if private else Audience.ROOM


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """One chat.send waiting to be stored (rooms.group_commit gathers a worker's into batches)."""

    session_id: int
    participant_id: int
    text: str
    now: datetime
    to: str | None = None


def do_send_chats(requests: Sequence[ChatRequest]) -> list[Message | ActionError]:
    """chat.send for several senders at once, in one transaction: group commit.

    Each request gets what `do_send_chat` would have given it, had they been sent one
    after the other in this order: its stored Message, or the ActionError that refused
    it. A refused request spends no seq and writes nothing; the others are stored all
    the same. The rooms are locked together (in id order), the senders and their send
    histories read in one statement, the rules applied here in the requests' order,
    and the writes sent with the COMMIT: on PostgreSQL two round trips for the whole
    batch, one database thread's turn and one transaction, where each message alone
    takes all of those. One request per participant, so that the send history read
    at the start is still theirs when the rate limit reads it. A database error fails
    the whole batch and stores nothing (rooms.group_commit then sends them one by one).
    """
    if len({request.participant_id for request in requests}) < len(requests):
        raise ValueError("group commit takes one request per participant")
    if len(requests) == 1:  # the single message's own path: its INSERT leaves with the COMMIT
        (request,) = requests
        try:
            return [do_send_chat(request.session_id, request.participant_id, request.text, request.now, to=request.to)]
        except ActionError as error:
            return [error]
    results: dict[int, Message | ActionError] = {}
    for index, request in enumerate(requests):
        try:
            refuse(text_refusal(request.text, settings.CIRCLE["MAX_MESSAGE_CHARS"]))
        except ActionError as error:
            results[index] = error
    to_store = [index for index in range(len(requests)) if index not in results]
    if to_store:
        outermost = connection.get_autocommit() and not connection.in_atomic_block
        with transaction.atomic():
            rooms, senders = claim_rooms_and_senders([requests[index] for index in to_store])
            stored: list[Message] = []
            for index in to_store:
                request = requests[index]
                try:
                    session = rooms.get(request.session_id)
                    if session is None:
                        raise ActionError("not_found", "No such session.")
                    sender, history, message_id = senders.get(request.participant_id, (None, None, None))
                    if sender is None or history is None or sender.session_id != request.session_id:
                        raise ActionError("not_allowed", "You are not in this session.")
                    audience = check_chat(session, sender, history, request.now, private=request.to == "facilitators")
                except ActionError as error:
                    results[index] = error
                    continue
                session.last_seq += 1
                message = new_message(
                    session,
                    sender,
                    request.text,
                    request.now,
                    seq=session.last_seq,
                    audience=audience,
                    message_id=message_id,
                )
                if message_id is None:
                    insert_message(message)  # SQLite: the INSERT gives the id that the event carries
                announce(message)
                stored.append(message)
                results[index] = message
            write_batch(stored, rooms, with_commit=outermost)
    return [results[index] for index in range(len(requests))]


def claim_rooms_and_senders(
    requests: Sequence[ChatRequest],
) -> tuple[dict[int, GroupSession], dict[int, tuple[Participant, SendHistory, int | None]]]:
    """The requests' rooms, locked: {id: room}; their senders: {id: (sender, send history, message id)}.

    As `claim_room_and_sender`, for a batch, except that the seqs are counted here
    (`write_batch` stores the rooms' last) and the sender's session is checked by the
    caller. The send history's window starts from the earliest request's `now`: a send
    that falls in it and not in a later request's window is one that no longer delays
    that request, so the rate rules answer the same.
    """
    circle = settings.CIRCLE
    window_start = min(request.now for request in requests) - timedelta(seconds=circle["RATE_LIMIT_SECONDS"])
    room_ids = sorted({request.session_id for request in requests})
    sender_ids = [request.participant_id for request in requests]
    history_params = [write_datetime(window_start), circle["RATE_LIMIT_COUNT"] - 1]
    draws_ids = connection.vendor == "postgresql"
    if draws_ids:
        room_rows, sender_rows = rows_of(
            (LOCK_ROOMS_SQL, [room_ids]), (LOAD_SENDERS_DRAWING_IDS_SQL, [*history_params, sender_ids])
        )
    else:
        room_rows, sender_rows = rows_of(
            (sqlite_in(LOCK_ROOMS_SQL, len(room_ids)), room_ids),
            (sqlite_in(LOAD_SENDERS_SQL, len(sender_ids)), [*history_params, *sender_ids]),
        )
    rooms = {row[0]: room_from_row(row[0], row[1:]) for row in room_rows}
    senders: dict[int, tuple[Participant, SendHistory, int | None]] = {}
    for participant_id, session_id, *row in sender_rows:
        message_id = row.pop() if draws_ids else None
        senders[participant_id] = (*sender_from_row(session_id, participant_id, row), message_id)
    return rooms, senders


def write_batch(stored: Sequence[Message], rooms: dict[int, GroupSession], *, with_commit: bool) -> None:
    """The batch's writes: its messages (already INSERTed on SQLite) and each room's new last seq.

    On PostgreSQL they leave together, with the COMMIT when the batch's transaction is
    the outermost one (`send_with_commit`).
    """
    seqs = sorted({message.session_id: rooms[message.session_id].last_seq for message in stored}.items())
    room_updates = [(SET_LAST_SEQ_SQL, [last_seq, room_id]) for room_id, last_seq in seqs]
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            for sql, params in room_updates:
                cursor.execute(sql, params)
        return
    statements = [*(insert_statement(message) for message in stored), *room_updates]
    if with_commit:
        send_with_commit(*statements)
    elif statements:
        send_together(*statements)
    for message in stored:
        mark_stored(message)


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
        message = new_message(session, sender, text, now, seq=seq, audience=Audience.PRIVATE, recipient=recipient)
        return store_and_broadcast(message)


def store_and_broadcast(message: Message, *, commit_with_insert: bool = False) -> Message:
    """Store the message, broadcast it on commit, audit the private line, alert on a crisis.

    With its id drawn beforehand (`message.pk`: chat.send on PostgreSQL) the message is
    written last, so that its INSERT can leave with the COMMIT (`commit_with_insert`).
    """
    drawn = message.pk is not None
    if not drawn:
        insert_message(message)  # the INSERT gives the id that the event and the alert carry
    announce(message)
    if drawn:
        insert_message(message, with_commit=commit_with_insert)
    return message


def new_message(
    session: GroupSession,
    sender: Participant,
    text: str,
    now: datetime,
    *,
    seq: int,
    audience: str,
    recipient: Participant | None = None,
    message_id: int | None = None,
) -> Message:
    """The message as it will be stored; `message_id` when drawn beforehand (chat.send on PostgreSQL)."""
    body = text.strip()
    return Message(
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


def announce(message: Message) -> None:
    """A stored message's event on commit to those who may read it; the private line's audit; a crisis alert."""
    event = message_out(message, as_event=ChatMessageEvent)
    session, sender, recipient, now = message.session, message.participant, message.recipient, message.sent_at
    audience = message.audience
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
