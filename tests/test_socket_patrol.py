"""The socket guard's periodic re-check is one batch per process, not a few queries per socket.

(accounts.sockets.Patrol; the checks themselves are covered socket by socket in
test_security_auth and test_security_ws.)
"""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.idle import LAST_ACTIVITY_KEY
from accounts.sockets import SocketGuard, recheck_all
from rooms.errors import NOT_ON_ROSTER, NOT_SIGNED_IN
from rooms.models import Participant
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
        verdicts = recheck_all([(guard, None) for guard in sockets])
    assert verdicts == [None] * 6
    assert len(queries.captured_queries) == 3  # sessions, members, participants: whatever the number of sockets


@pytest.mark.django_db
def test_activity_is_written_once_per_signed_in_session(sockets):
    now = time.time()
    dana_tab, dana_other_tab = sockets[0], sockets[1]
    with CaptureQueriesContext(connection) as queries:
        recheck_all([(dana_tab, now - 5), (dana_other_tab, now), *((guard, None) for guard in sockets[2:])])
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(writes) == 1  # Dana's session, with the newer of her two sockets' activity
    assert session_store(dana_tab.session_key)[LAST_ACTIVITY_KEY] == now


@pytest.mark.django_db
def test_a_removed_participant_and_a_signed_out_session_are_told_apart(sockets, live_group, alex):
    Participant.objects.filter(pk=participant(live_group, alex).pk).update(removed_at=timezone.now())
    session_store(sockets[4].session_key).delete()  # Sam signed out elsewhere
    verdicts = recheck_all([(guard, None) for guard in sockets])
    assert verdicts == [None, None, NOT_ON_ROSTER, NOT_ON_ROSTER, NOT_SIGNED_IN, NOT_SIGNED_IN]
