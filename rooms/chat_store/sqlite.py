"""The chat store on SQLite (development, tests): the same statements, one at a time through Django's cursor.

SQLite has no arrays and no row locks: `= ANY(%s)` becomes `IN (%s, ...)`, and the
lock goes (the IMMEDIATE transaction already holds the database's). The INSERT
returns the message's id, so a message is inserted before its event is built.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

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

ADMITTED_GUESTS = f"(SELECT group_concat(g.id) {ADMITTED_GUESTS_FROM})"  # "3,7", or NULL for none
INSERT_MESSAGE_SQL = f"""
INSERT INTO {MESSAGES} ({", ".join(MESSAGE_FIELDS)}) VALUES ({", ".join(["%s"] * len(MESSAGE_FIELDS))})
RETURNING id
"""  # noqa: S608


class SQLiteChatStore(ChatStore):
    sender_sql = f"SELECT {SENDER_COLUMNS}, {ADMITTED_GUESTS}{SENDER_FROM}"
    senders_sql = f"SELECT p.id, p.session_id, {SENDER_COLUMNS}, {ADMITTED_GUESTS}{SENDERS_FROM}"
    draws_ids = False

    def rows_of(self, *statements: Statement) -> list[list[Any]]:
        with connection.cursor() as cursor:
            results = []
            for sql, params in statements:
                cursor.execute(sql, params)
                results.append(cursor.fetchall())
            return results

    def guest_ids(self, value: Any) -> tuple[int, ...]:
        return tuple(int(guest) for guest in value.split(",")) if value else ()

    def any_of(self, sql: str, *lists: Collection[Any]) -> Statement:
        """Each `= ANY(%s)` becomes `IN (%s, ...)`; the lists are of one length (ChatStore.any_of)."""
        placeholders = ", ".join(["%s"] * len(lists[0]))
        in_lists = sql.replace("= ANY(%s)", f"IN ({placeholders})").replace(" FOR UPDATE", "")
        return in_lists, [value for values in lists for value in values]

    def insert_message(self, message: Message, *, with_commit: bool = False) -> None:
        """The COMMIT is Django's, when the block exits (`with_commit` changes nothing here)."""
        messages, characters = participation(message)
        with connection.cursor() as cursor:
            cursor.execute(INSERT_MESSAGE_SQL, message_values(message))
            [(message.pk,)] = cursor.fetchall()  # RETURNING id: one row
            if messages:
                cursor.execute(COUNT_PARTICIPATION_SQL, [messages, characters, message.participant_id])
        mark_stored(message)

    def store_batch(self, unsaved: Sequence[Message], last_seqs: Mapping[int, int], *, with_commit: bool) -> None:
        for message in unsaved:
            self.insert_message(message)
        with connection.cursor() as cursor:
            for room_id, last_seq in sorted(last_seqs.items()):
                cursor.execute(SET_LAST_SEQ_SQL, [last_seq, room_id])
