"""On the embedded SQLite database, a thread keeps its connection from one action to the next.

Channels runs each action on a thread of the pool between two calls of
close_old_connections(). With CONN_MAX_AGE 0 those calls closed the connection
after every action: the next one opened a new connection (Django's set-up, the
pragmas) and closing the last open one checkpointed the WAL, a quarter of the
worker's time under load. PostgreSQL's connections come from the pool instead.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import close_old_connections, connection

from accounts.models import Member
from tests.conftest import on_another_thread

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_thread_keeps_its_sqlite_connection_from_one_action_to_the_next():
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL's connections come from the pool (DATABASE_URL is not SQLite here)")

    def two_actions() -> list[Any]:
        used = []
        for _ in range(2):
            close_old_connections()  # as Channels' database_sync_to_async does around each action
            Member.objects.exists()
            used.append(connection.connection)
            close_old_connections()
        return used

    first, second = on_another_thread(two_actions)
    assert second is first
