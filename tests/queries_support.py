"""Every SQL statement any thread runs, for tests that count what a socket reads.

A socket's database work runs on the database thread pool (and a chat batch on its own
thread), out of reach of one connection's CaptureQueriesContext: the spy sits on the cursor.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db.backends import utils


class Queries:
    """The statements run while `recording`, on any thread."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self.lock = threading.Lock()
        self.recording = True

    def on(self, table: str) -> list[str]:
        return [sql for sql in self.statements if f'FROM "{table}"' in sql]


def spy_on_every_thread(monkeypatch: pytest.MonkeyPatch) -> Queries:
    recorded = Queries()
    original = utils.CursorWrapper._execute_with_wrappers  # type: ignore[attr-defined]  # Django's private hook

    def counted(self: Any, sql: str, params: Any, many: bool, executor: Any) -> Any:
        if recorded.recording:
            with recorded.lock:
                recorded.statements.append(sql)
        return original(self, sql, params, many, executor)

    monkeypatch.setattr(utils.CursorWrapper, "_execute_with_wrappers", counted)
    return recorded
