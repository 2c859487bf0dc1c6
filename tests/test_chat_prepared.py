"""chat.send's statements are prepared on PostgreSQL, once per connection, unless turned off.

Django opens psycopg connections with preparation off (`prepare_threshold` None),
and then psycopg ignores `execute(prepare=True)` too: until the seventh round of
docs/performance-journal.md PostgreSQL planned chat.send's statements for every message
while the code asked for them to be prepared. DB_PREPARED_STATEMENTS (default on)
sets the threshold; `0` leaves Django's default for poolers that cannot keep
protocol-level prepared statements (docs/deploy.md).
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from config.env import PREPARE_ONLY_WHEN_ASKED, database_from_url
from rooms.actions import chat
from rooms.chat_store import base, postgresql
from tests.conftest import participant

POSTGRES_URL = "postgres://circle@db.internal:5432/circle"


def options(monkeypatch: pytest.MonkeyPatch, setting: str | None) -> dict[str, object]:
    if setting is None:
        monkeypatch.delenv("DB_PREPARED_STATEMENTS", raising=False)
    else:
        monkeypatch.setenv("DB_PREPARED_STATEMENTS", setting)
    entry = database_from_url(POSTGRES_URL, default_sqlite_path="unused.sqlite3")
    assert isinstance(entry["OPTIONS"], dict)
    return entry["OPTIONS"]


def test_postgresql_prepares_only_what_asks_by_default(monkeypatch):
    assert options(monkeypatch, None)["prepare_threshold"] == PREPARE_ONLY_WHEN_ASKED
    assert options(monkeypatch, "1")["prepare_threshold"] == PREPARE_ONLY_WHEN_ASKED


def test_turned_off_leaves_djangos_default_of_no_preparation(monkeypatch):
    # Django reads a missing prepare_threshold as None: psycopg prepares nothing.
    assert "prepare_threshold" not in options(monkeypatch, "0")


def test_sqlite_has_no_such_option(monkeypatch):
    monkeypatch.setenv("DB_PREPARED_STATEMENTS", "1")
    entry = database_from_url("sqlite:///circle.sqlite3", default_sqlite_path="unused.sqlite3")
    assert isinstance(entry["OPTIONS"], dict)
    assert "prepare_threshold" not in entry["OPTIONS"]


def normalized(sql: str) -> str:
    return " ".join(sql.split())


def as_sent(sql: str) -> str:
    """The statement as psycopg sends it to be prepared: its %s placeholders numbered $1, $2..."""
    first, *rest = sql.split("%s")
    return first + "".join(f"${number}{part}" for number, part in enumerate(rest, start=1))


def prepared_on_this_connection() -> list[str]:
    """The statements prepared through the protocol (not by SQL PREPARE) on the action's connection."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE NOT from_sql")
        return [normalized(statement) for (statement,) in cursor.fetchall()]


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_chat_sends_statements_are_prepared_once_per_connection(live_group, dana):
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's (DATABASE_URL=postgres://...)")
    lead = participant(live_group, dana).pk

    for text in ("Welcome, everyone", "Let's begin", "First, a check-in"):
        chat.do_send_chat(live_group.pk, lead, text, timezone.now())

    hot = [
        normalized(sql)
        for sql in (
            base.CLAIM_ROOM_SQL,
            postgresql.LOAD_SENDER_DRAWING_ID_SQL,
            postgresql.INSERT_AND_COUNT_MESSAGE_SQL,
        )
    ]
    prepared = prepared_on_this_connection()
    assert {sql: prepared.count(as_sent(sql)) for sql in hot} == dict.fromkeys(hot, 1)
