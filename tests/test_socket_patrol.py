"""The socket guard's re-checks are batches per process, not a few queries per socket.

(rooms.socket_guard.Guards: the safety sweep, the idle duty's picks, a pushed re-check;
the checks themselves are covered socket by socket in test_security_auth,
test_security_ws and test_socket_guard_push.)
"""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.idle import LAST_ACTIVITY_KEY
from rooms.errors import NOT_ON_ROSTER, NOT_SIGNED_IN
from rooms.extensions import DutyTick
from rooms.models import Participant
from rooms.socket_guard import SocketGuard, recheck_all
from tests.conftest import participant
from tests.security_support import logged_in_client, session_store


def guard_for(member, session_key: str, participant_id: int) -> SocketGuard:
    """A guard over a stand-in consumer: the scope a signed-in socket has, and its participant."""
    consumer = SimpleNamespace(
        scope={"session": session_store(session_key), "user": member, "client": ["127.0.0.1", 50000]},
        participant_id=participant_id,
        viewer=None,
    )
    return SocketGuard(consumer)


@pytest.fixture
def sockets(live_group, dana, alex, sam):
    """Two sockets each (two tabs) for Dana, Alex and Sam."""
    guards = []
    for member in (dana, alex, sam):
        _, cookie = logged_in_client(member)
        key = cookie.removeprefix("sessionid=")
        guards += [guard_for(member, key, participant(live_group, member).pk) for _ in range(2)]
    return guards


@pytest.mark.django_db
def test_every_socket_is_rechecked_in_three_reads(sockets):
    with CaptureQueriesContext(connection) as queries:
        verdicts = recheck_all([(guard, None) for guard in sockets], time.time())
    assert verdicts == [None] * 6
    assert len(queries.captured_queries) == 3  # sessions, members, participants: whatever the number of sockets


def store_activity(session_key: str, at: float) -> None:
    store = session_store(session_key)
    store[LAST_ACTIVITY_KEY] = at
    store.save()


@pytest.mark.django_db
def test_activity_is_written_once_per_signed_in_session(sockets, settings):
    now = time.time()
    dana_tab, dana_other_tab, alex_tab = sockets[0], sockets[1], sockets[2]
    store_activity(dana_tab.session_key, now - settings.SESSION_ACTIVITY_WRITE_SECONDS - 10)
    store_activity(alex_tab.session_key, now - 5)
    with CaptureQueriesContext(connection) as queries:
        recheck_all(
            [(dana_tab, now - 5), (dana_other_tab, now), (alex_tab, now), *((g, None) for g in sockets[3:])], now
        )
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(writes) == 1  # Dana's session, with the newer of her two sockets' activity
    assert session_store(dana_tab.session_key)[LAST_ACTIVITY_KEY] == now
    # Alex's stored activity is younger than SESSION_ACTIVITY_WRITE_SECONDS: left as it is, as the HTTP side does.
    assert session_store(alex_tab.session_key)[LAST_ACTIVITY_KEY] == now - 5


@pytest.mark.django_db
def test_a_removed_participant_and_a_signed_out_session_are_told_apart(sockets, live_group, alex):
    Participant.objects.filter(pk=participant(live_group, alex).pk).update(removed_at=timezone.now())
    session_store(sockets[4].session_key).delete()  # Sam signed out elsewhere
    verdicts = recheck_all([(guard, None) for guard in sockets], time.time())
    assert verdicts == [None, None, NOT_ON_ROSTER, NOT_ON_ROSTER, NOT_SIGNED_IN, NOT_SIGNED_IN]


async def test_the_sweep_checks_in_bounded_batches(monkeypatch):
    """However many sockets are open, one database call checks at most PATROL_BATCH of them."""
    from rooms import socket_guard as module

    batches: list[int] = []

    def fake_recheck_all(checks, now):
        batches.append(len(checks))
        return [None] * len(checks)

    monkeypatch.setattr(module, "PATROL_BATCH", 2)
    monkeypatch.setattr(module, "recheck_all", fake_recheck_all)

    class Watched:  # what the sweep reads of a guard
        consumer = SimpleNamespace(viewer=None)
        active_at = None

    guards = module.guards_of_this_loop()
    watched: list[Any] = [Watched() for _ in range(5)]  # stand-ins for SocketGuard
    guards.open.update(watched)
    try:
        await module.sweep(DutyTick(now=timezone.now(), number=0, rooms=SimpleNamespace()))
    finally:
        guards.open.difference_update(watched)
    assert batches == [2, 2, 1]
