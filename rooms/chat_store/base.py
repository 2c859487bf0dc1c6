"""The chat store's interface, and what its two implementations share: the statements' text and reading their rows.

The statements are written out rather than built by the ORM, which would send
five statements and compile each of them for every message (docs/performance-journal.md,
"The chat transaction"). They are assembled once, at import, from the models'
own table and column names (constants, never input: the S608 warnings below are
about exactly that).
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

from django.db import connection, transaction
from django.db.models import Model
from django.utils.dateparse import parse_datetime

from rooms.models import Audience, GroupSession, Message, Participant, ParticipantRole
from rooms.rules import SendHistory

M = TypeVar("M", bound=Model)
Statement = tuple[str, list[Any]]

ROOMS = GroupSession._meta.db_table
PARTICIPANTS = Participant._meta.db_table
MESSAGES = Message._meta.db_table

# The room: UPDATE its row's `last_seq`, RETURNING what the rules read. The UPDATE takes the same
# row lock as every other room action (`rooms.actions.lock_room`), so the row is still the room's
# mutex, and it allocates the seq in the same statement.
ROOM_FIELDS = ("status", "mode", "floor_holder_id", "floor_expires_at", "slowmode_seconds", "current_prompt_id")
CLAIM_ROOM_SQL = f"""
UPDATE {ROOMS} SET last_seq = last_seq + 1 WHERE id = %s
RETURNING last_seq, {", ".join(ROOM_FIELDS)}
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
# The guests of the sender's room admitted now: the only guests who may see the message live
# (rooms.broadcast.is_recipient), whichever worker serves them and whenever a lobby.return's event
# reaches it. Read with the sender, after the room's UPDATE took the lock (a subquery of the UPDATE
# itself would read the rows as they were before it waited), each store aggregating the ids its way
# (the stores' ADMITTED_GUESTS, `guest_ids`).
ADMITTED_GUESTS_FROM = f"""FROM {PARTICIPANTS} g
    WHERE g.session_id = p.session_id AND g.role = '{ParticipantRole.GUEST.value}' AND g.admitted"""
SENDER_FROM = f"""
FROM {PARTICIPANTS} p
LEFT JOIN {PARTICIPANTS} host ON host.id = p.guest_of_id
WHERE p.id = %s AND p.session_id = %s
"""

# Group commit: the batch's rooms, locked in one statement in id order, as every batch locks them,
# so that two batches wait for each other rather than deadlock; its senders in one statement.
# `= ANY(%s)` takes an array (ChatStore.any_of says how each database takes the ids).
LOCK_ROOMS_SQL = f"""
SELECT id, last_seq, {", ".join(ROOM_FIELDS)} FROM {ROOMS} WHERE id = ANY(%s) ORDER BY id FOR UPDATE
"""  # noqa: S608
SENDERS_FROM = f"""
FROM {PARTICIPANTS} p
LEFT JOIN {PARTICIPANTS} host ON host.id = p.guest_of_id
WHERE p.id = ANY(%s)
"""
SET_LAST_SEQ_SQL = f"UPDATE {ROOMS} SET last_seq = %s WHERE id = %s"  # noqa: S608

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
    "txn_id",
)

# The messages that the senders already sent with the txn_ids they give again (a resend: chat.send's
# `txn_id`). One statement for a message or a batch, leaving with the claim: no round trip of its
# own. `= ANY(%s)` for each column, each list one entry per request; the caller keeps the rows whose
# participant and txn_id are those of one request (`already_sent`). The unique constraint
# `unique_txn_per_sender` (rooms.models.Message) serves it, and is the arbiter should two race.
FIND_SENT_SQL = f"""
SELECT participant_id, txn_id, id, seq FROM {MESSAGES}
WHERE session_id = ANY(%s) AND participant_id = ANY(%s) AND txn_id = ANY(%s)
"""  # noqa: S608

# The participation counters (Participant.room_messages, room_characters; facilitator.stats reads
# them) have this one statement and one rule (`participation`): a message adds to them as it is
# stored (`ChatStore.insert_message`) and takes itself back when removed (`ChatStore.uncount`).
COUNT_PARTICIPATION_SQL = f"""
UPDATE {PARTICIPANTS} SET room_messages = room_messages + %s, room_characters = room_characters + %s
WHERE id = %s
"""  # noqa: S608


def participation(message: Message) -> tuple[int, int]:
    """What the message adds to its sender's participation: (messages, characters).

    A message to the room counts, with its characters; the private line does not.
    """
    return (1, len(message.text)) if message.audience == Audience.ROOM else (0, 0)


@dataclass(frozen=True, slots=True)
class ClaimedSender:
    """The sender of a message being sent, as the rules read them."""

    sender: Participant  # only the fields the rules read are loaded (`partly_loaded`)
    history: SendHistory  # at the time the claim was asked for
    message_id: int | None  # the new message's id where the store draws it beforehand (PostgreSQL)
    admitted_guests: tuple[int, ...]  # the room's guests admitted as the claim read it (ADMITTED_GUESTS_FROM)
    # The message this sender already stored with the txn_id given (a resend): only its id and seq.
    already_sent: Message | None = None


class ChatStore(ABC):
    """How chat.send reads and writes the database, in as few round trips as the database allows.

    Every method runs in the caller's transaction (`atomic`). What the
    implementations share is here; they differ in how the statements reach the
    database (`rows_of`) and in how a message is inserted.
    """

    # The statement that reads one sender (`SENDER_FROM`'s parameters last) and the one that reads a
    # batch's senders (with each one's participant and session id first).
    sender_sql: ClassVar[str]
    senders_sql: ClassVar[str]
    # Whether those statements end with a drawn message id (`ClaimedSender.message_id`).
    draws_ids: ClassVar[bool]

    @contextmanager
    def atomic(self) -> Iterator[bool]:
        """One transaction (`transaction.atomic`); yields whether it is the outermost one.

        Only the outermost block's COMMIT is its own to send, so only then may the
        last write carry it (`with_commit`).
        """
        outermost = connection.get_autocommit() and not connection.in_atomic_block
        with transaction.atomic():
            yield outermost

    @abstractmethod
    def rows_of(self, *statements: Statement) -> list[list[Any]]:
        """The rows of each statement, run in order in the current transaction."""

    @abstractmethod
    def any_of(self, sql: str, *lists: Collection[Any]) -> Statement:
        """`sql` taking a list where it says `= ANY(%s)`, the first list at the first one and so on: its text and
        the parameters that stand for the lists (of the same length when there are several)."""

    @abstractmethod
    def insert_message(self, message: Message, *, with_commit: bool = False) -> None:
        """INSERT the message (its id is then `message.pk`) and count it in its sender's participation.

        The id is the one drawn beforehand (`message.pk`, set) or a new one.
        `with_commit`: the transaction's COMMIT may leave with the INSERT (the outermost
        block's, `atomic`); nothing may run in the transaction after this.
        """

    @abstractmethod
    def store_batch(self, unsaved: Sequence[Message], last_seqs: Mapping[int, int], *, with_commit: bool) -> None:
        """A batch's writes: the messages not inserted yet, each room's new last seq ({room id: seq})."""

    def claim_room_and_sender(
        self,
        session_id: int,
        participant_id: int,
        *,
        history_since: datetime,
        history_limit: int,
        txn_id: str | None = None,
    ) -> tuple[GroupSession | None, ClaimedSender | None]:
        """The room row, locked, with its next seq in `last_seq`; the sender in that room (None for either
        that is not there), with the message they already sent with `txn_id` if there is one.

        Their send history counts their sends after `history_since`, up to `history_limit`.
        Only the fields the rules read are loaded. The statements do not depend on one
        another, so they may leave together (`rows_of`); the look for an earlier message
        with the txn_id runs after the room's UPDATE has its lock, so it sees a message
        that another worker committed meanwhile. A refused message leaves a gap in the
        ids, as any rolled-back INSERT does.
        """
        room_rows, sender_rows, *sent_rows = self.rows_of(
            (CLAIM_ROOM_SQL, [session_id]),
            (self.sender_sql, [*history_params(history_since, history_limit), participant_id, session_id]),
            *self.find_sent({participant_id: (session_id, txn_id)}),
        )
        room = room_from_row(session_id, room_rows[0]) if room_rows else None
        if not sender_rows:
            return room, None
        sender = self.claimed_sender(session_id, participant_id, sender_rows[0])
        sent = already_sent({participant_id: (session_id, txn_id)}, *sent_rows)
        return room, with_sent(sender, sent.get(participant_id))

    def claim_rooms_and_senders(
        self,
        session_ids: Collection[int],
        participant_ids: Collection[int],
        *,
        history_since: datetime,
        history_limit: int,
        txn_ids: Mapping[int, tuple[int, str | None]] | None = None,
    ) -> tuple[dict[int, GroupSession], dict[int, ClaimedSender]]:
        """As `claim_room_and_sender`, for a batch: the rooms, locked ({id: room}); the senders ({id: sender}).

        The seqs are not counted here (`store_batch` stores each room's last), and each
        sender's session is for the caller to check (`sender.session_id`). `txn_ids`:
        {participant id: (session id, txn_id or None)}, the message each request names.
        """
        room_rows, sender_rows, *sent_rows = self.rows_of(
            self.any_of(LOCK_ROOMS_SQL, sorted(session_ids)),
            prefixed(history_params(history_since, history_limit), self.any_of(self.senders_sql, participant_ids)),
            *self.find_sent(txn_ids or {}),
        )
        rooms = {row[0]: room_from_row(row[0], row[1:]) for row in room_rows}
        sent = already_sent(txn_ids or {}, *sent_rows)
        senders = {
            row[0]: with_sent(self.claimed_sender(row[1], row[0], row[2:]), sent.get(row[0])) for row in sender_rows
        }
        return rooms, senders

    def find_sent(self, txn_ids: Mapping[int, tuple[int, str | None]]) -> list[Statement]:
        """The statement that looks for the messages of these {participant: (session, txn_id)}, if any has one."""
        named = [(session, participant, txn) for participant, (session, txn) in txn_ids.items() if txn is not None]
        if not named:
            return []  # a message without a txn_id costs nothing more
        sessions, participants, txns = zip(*named, strict=True)
        return [self.any_of(FIND_SENT_SQL, sessions, participants, txns)]

    @abstractmethod
    def guest_ids(self, value: Any) -> tuple[int, ...]:
        """The admitted guests' ids as the sender's read aggregated them."""

    def claimed_sender(self, session_id: int, participant_id: int, row: Sequence[Any]) -> ClaimedSender:
        *fields, host_name, window_full_since, newest, guests = row[:-1] if self.draws_ids else row
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
        history = SendHistory(window_full_since=read_datetime(window_full_since), newest=read_datetime(newest))
        return ClaimedSender(sender, history, row[-1] if self.draws_ids else None, self.guest_ids(guests))

    def uncount(self, message: Message) -> None:
        """A removed message no longer counts in its sender's participation (message.remove)."""
        messages, characters = participation(message)
        if messages:
            with connection.cursor() as cursor:
                cursor.execute(COUNT_PARTICIPATION_SQL, [-messages, -characters, message.participant_id])


def already_sent(
    txn_ids: Mapping[int, tuple[int, str | None]], rows: Sequence[Sequence[Any]] = ()
) -> dict[int, Message]:
    """{participant id: their message with the txn_id they named} from FIND_SENT_SQL's rows (only id and seq
    loaded). The statement matches each column on its own, so a row is kept only if its participant named
    its txn_id."""
    sent: dict[int, Message] = {}
    for participant_id, txn_id, message_id, seq in rows:
        session_id, named = txn_ids[participant_id]
        if named == txn_id:
            sent[participant_id] = partly_loaded(
                Message, id=message_id, session_id=session_id, participant_id=participant_id, seq=seq, txn_id=txn_id
            )
    return sent


def with_sent(claimed: ClaimedSender, sent: Message | None) -> ClaimedSender:
    return dataclasses.replace(claimed, already_sent=sent) if sent is not None else claimed


def history_params(since: datetime, limit: int) -> list[Any]:
    """The parameters of SENDER_COLUMNS: the rate window's start and the offset of its limit-th newest send."""
    return [write_datetime(since), limit - 1]


def prefixed(params: list[Any], statement: Statement) -> Statement:
    sql, rest = statement
    return sql, [*params, *rest]


def message_values(message: Message) -> list[Any]:
    """The message's MESSAGE_FIELDS, as the database takes them."""
    values = [getattr(message, field) for field in MESSAGE_FIELDS]
    values[MESSAGE_FIELDS.index("sent_at")] = write_datetime(message.sent_at)
    values[MESSAGE_FIELDS.index("audience")] = str(message.audience)  # a TextChoices member -> its value
    return values


def room_from_row(session_id: int, row: Sequence[Any]) -> GroupSession:
    seq, *fields = row
    values = dict(zip(ROOM_FIELDS, fields, strict=True))
    values["floor_expires_at"] = read_datetime(values["floor_expires_at"])
    return partly_loaded(GroupSession, id=session_id, last_seq=seq, **values)


def read_datetime(value: Any) -> datetime | None:
    """A datetime column from a hand-written statement: PostgreSQL gives it aware, SQLite as UTC text."""
    if value is None or (isinstance(value, datetime) and value.tzinfo is not None):
        return value
    parsed = value if isinstance(value, datetime) else parse_datetime(value)
    return parsed.replace(tzinfo=UTC) if parsed is not None else None


def write_datetime(value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def partly_loaded(model: type[M], **values: Any) -> M:
    """A model instance of the fields read, the others deferred (loaded if touched; save() writes only these)."""
    fields = model._meta.concrete_fields
    return model.from_db(connection.alias, list(values), [values[f.attname] for f in fields if f.attname in values])


def mark_stored(message: Message) -> None:
    message._state.adding = False
    message._state.db = connection.alias
