"""The chat store on PostgreSQL: two round trips a message, or a batch, after the BEGIN; prepared statements.

The claim's statements leave together (`rows_of`, psycopg's pipeline mode), and
the writes, one statement for a message (a common table expression that modifies
data), leave with the COMMIT (`send_with_commit`).
For that the message's id is drawn in the first round trip, as the last column of
the sender's read. The statements are prepared on each connection: planning them
cost PostgreSQL more than running them (`postgresql_connection`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import psycopg
from django.db import connection

from rooms.chat_store.base import (
    ADMITTED_GUESTS_FROM,
    COUNT_PARTICIPATION_SQL,
    MESSAGE_FIELDS,
    MESSAGES,
    SENDER_COLUMNS,
    SENDER_FROM,
    SENDERS_FROM,
    SET_LAST_SEQ_SQL,
    ChatStore,
    Statement,
    mark_stored,
    message_values,
    participation,
)
from rooms.models import Message

# The message's id, drawn as the last column of the sender's read (one statement fewer to send and
# bind than a SELECT of its own), so that the INSERT needs nothing back and can leave with the
# COMMIT. The INSERT takes that id, or the sequence's next where none was drawn (NULL: private.send).
NEXT_MESSAGE_ID = f"nextval(pg_get_serial_sequence('{MESSAGES}', 'id'))"
ADMITTED_GUESTS = f"ARRAY(SELECT g.id {ADMITTED_GUESTS_FROM})"
LOAD_SENDER_DRAWING_ID_SQL = f"SELECT {SENDER_COLUMNS}, {ADMITTED_GUESTS}, {NEXT_MESSAGE_ID}{SENDER_FROM}"
LOAD_SENDERS_DRAWING_IDS_SQL = (
    f"SELECT p.id, p.session_id, {SENDER_COLUMNS}, {ADMITTED_GUESTS}, {NEXT_MESSAGE_ID}{SENDERS_FROM}"
)
INSERT_MESSAGE_WITH_ID_SQL = f"""
INSERT INTO {MESSAGES} (id, {", ".join(MESSAGE_FIELDS)})
VALUES (COALESCE(%s, {NEXT_MESSAGE_ID}), {", ".join(["%s"] * len(MESSAGE_FIELDS))})
RETURNING id
"""  # noqa: S608
# A message that counts in its sender's participation: both writes as one statement (one round
# trip, one statement to bind).
INSERT_AND_COUNT_MESSAGE_SQL = f"WITH counted AS ({COUNT_PARTICIPATION_SQL}) {INSERT_MESSAGE_WITH_ID_SQL}"


class PostgreSQLChatStore(ChatStore):
    sender_sql = LOAD_SENDER_DRAWING_ID_SQL
    senders_sql = LOAD_SENDERS_DRAWING_IDS_SQL
    draws_ids = True

    def rows_of(self, *statements: Statement) -> list[list[Any]]:
        """The statements leave together, in one round trip (after the transaction's BEGIN, which psycopg syncs).

        psycopg's pipeline mode needs server-side binding: a plain psycopg cursor
        rather than Django's client-side one. It changes when they are sent, not what
        they do: each statement still starts after the one before it has finished (so
        a read after the room's UPDATE sees what committed while that UPDATE waited for
        the lock), which one statement made of both would not give.
        """
        pg = postgresql_connection()
        with connection.wrap_database_errors:
            cursors = [psycopg.Cursor(pg) for _ in statements]
            with pg.pipeline():
                for cursor, (sql, params) in zip(cursors, statements, strict=True):
                    cursor.execute(sql, params, prepare=True)
            return [cursor.fetchall() for cursor in cursors]

    def guest_ids(self, value: Any) -> tuple[int, ...]:
        return tuple(value)  # an int array

    def any_of(self, sql: str, *lists: Collection[Any]) -> Statement:
        return sql, [list(values) for values in lists]

    def insert_message(self, message: Message, *, with_commit: bool = False) -> None:
        if with_commit:
            send_with_commit(insert_statement(message))
        else:
            # One statement: no pipeline (it costs CPU for one).
            with connection.wrap_database_errors, psycopg.Cursor(postgresql_connection()) as cursor:
                cursor.execute(*insert_statement(message), prepare=True)
                [(message.pk,)] = cursor.fetchall()  # RETURNING id: one row
        mark_stored(message)

    def store_batch(self, unsaved: Sequence[Message], last_seqs: Mapping[int, int], *, with_commit: bool) -> None:
        """All in one round trip, with the COMMIT when `with_commit`."""
        statements = [
            *(insert_statement(message) for message in unsaved),
            *((SET_LAST_SEQ_SQL, [last_seq, room_id]) for room_id, last_seq in sorted(last_seqs.items())),
        ]
        if with_commit:
            send_with_commit(*statements)
        elif statements:
            send_together(*statements)
        for message in unsaved:
            mark_stored(message)


def insert_statement(message: Message) -> Statement:
    """The INSERT of one message, with its id drawn beforehand or not (NULL), and its count if it counts."""
    messages, characters = participation(message)
    if messages:
        count_params = [messages, characters, message.participant_id]
        return INSERT_AND_COUNT_MESSAGE_SQL, [*count_params, message.pk, *message_values(message)]
    return INSERT_MESSAGE_WITH_ID_SQL, [message.pk, *message_values(message)]


def send_with_commit(*statements: Statement) -> None:
    """Send the transaction's last statements and its COMMIT together: one round trip for all.

    Only for the outermost `atomic` block (the COMMIT is then its to send). When the
    block exits, Django's commit finds the connection idle and sends nothing more,
    then runs the on-commit hooks as usual. An error of a statement or of the COMMIT
    (where PostgreSQL checks the deferred foreign keys) raises here, inside the
    block, which rolls back as after any error: no hook runs. Nothing may run in the
    transaction after this.
    """
    send_together(*statements, commit=True)


def send_together(*statements: Statement, commit: bool = False) -> None:
    """Statements whose rows nobody reads, in one round trip (with the COMMIT if `commit`)."""
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
    pg: psycopg.Connection[Any] = connection.connection
    return pg
