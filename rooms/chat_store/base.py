"""The chat store's interface, and what its two implementations share: the statements' text and reading their rows.

The statements are written out rather than built by the ORM, which would send
five statements and compile each of them for every message (docs/performance.md,
"The chat transaction"). They are assembled once, at import, from the models'
own table and column names (constants, never input: the S608 warnings below are
about exactly that).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

from django.db import connection, transaction
from django.db.models import Model
from django.utils.dateparse import parse_datetime

from rooms.models import Audience, GroupSession, Message, Participant
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
)

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
    def any_of(self, sql: str, ids: Collection[int]) -> Statement:
        """`sql` taking `ids` where it says `= ANY(%s)`: its text and the parameters that stand for the ids."""

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
        self, session_id: int, participant_id: int, *, history_since: datetime, history_limit: int
    ) -> tuple[GroupSession | None, ClaimedSender | None]:
        """The room row, locked, with its next seq in `last_seq`; the sender in that room (None for either
        that is not there).

        Their send history counts their sends after `history_since`, up to `history_limit`.
        Only the fields the rules read are loaded. The statements do not depend on one
        another, so they may leave together (`rows_of`). A refused message leaves a gap
        in the ids, as any rolled-back INSERT does.
        """
        room_rows, sender_rows = self.rows_of(
            (CLAIM_ROOM_SQL, [session_id]),
            (self.sender_sql, [*history_params(history_since, history_limit), participant_id, session_id]),
        )
        room = room_from_row(session_id, room_rows[0]) if room_rows else None
        sender = self.claimed_sender(session_id, participant_id, sender_rows[0]) if sender_rows else None
        return room, sender

    def claim_rooms_and_senders(
        self,
        session_ids: Collection[int],
        participant_ids: Collection[int],
        *,
        history_since: datetime,
        history_limit: int,
    ) -> tuple[dict[int, GroupSession], dict[int, ClaimedSender]]:
        """As `claim_room_and_sender`, for a batch: the rooms, locked ({id: room}); the senders ({id: sender}).

        The seqs are not counted here (`store_batch` stores each room's last), and each
        sender's session is for the caller to check (`sender.session_id`).
        """
        room_rows, sender_rows = self.rows_of(
            self.any_of(LOCK_ROOMS_SQL, sorted(session_ids)),
            prefixed(history_params(history_since, history_limit), self.any_of(self.senders_sql, participant_ids)),
        )
        rooms = {row[0]: room_from_row(row[0], row[1:]) for row in room_rows}
        senders = {row[0]: self.claimed_sender(row[1], row[0], row[2:]) for row in sender_rows}
        return rooms, senders

    def claimed_sender(self, session_id: int, participant_id: int, row: Sequence[Any]) -> ClaimedSender:
        *fields, host_name, window_full_since, newest = row[:-1] if self.draws_ids else row
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
        return ClaimedSender(sender, history, row[-1] if self.draws_ids else None)

    def uncount(self, message: Message) -> None:
        """A removed message no longer counts in its sender's participation (message.remove)."""
        messages, characters = participation(message)
        if messages:
            with connection.cursor() as cursor:
                cursor.execute(COUNT_PARTICIPATION_SQL, [-messages, -characters, message.participant_id])


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
