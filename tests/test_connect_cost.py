"""What a connect reads (issue 25, C1): counted queries, not timed ones.

A connect's database work runs on the shared database threads, so the queries are
counted on every thread (the cursor, not one connection's CaptureQueriesContext).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from accounts.models import Member
from facilitator.models import Attendance
from tests.conftest import connect_all, cookie_for, set_room
from tests.queries_support import Queries, spy_on_every_thread

pytestmark = pytest.mark.django_db(transaction=True)

# Today's connect on the test database (SQLite): the middleware's session and member (the guard judges
# from those, reading neither again), the connection row's transaction (the room lock, the participant,
# their open connections, the row, their return from offline; the attendance span), then the catch-up:
# the room, its people, the goals, the invitations and, with ?since, the ids of messages removed
# meanwhile. Before issue 25 the same reconnect made 20: the participant and the floor version were read
# apart, the messages after ?since were read although the room had none, and the guard read the session
# and the member a second time.
CONNECT_QUERIES = 15


@pytest.fixture
def queries(monkeypatch: pytest.MonkeyPatch) -> Queries:
    return spy_on_every_thread(monkeypatch)


async def reconnect(connect: Any, queries: Queries, who: Member, session_id: int, since: int | None) -> dict[str, Any]:
    cookie = await sync_to_async(cookie_for)(who)  # signing in is not part of the connect
    queries.statements.clear()
    queries.recording = True
    peer, closed = await connect(cookie, session_id, since=since)
    queries.recording = False
    assert closed is None
    return peer.state


async def test_a_reconnect_that_missed_nothing_reads_no_message(connect, live_group, dana, alex, queries):
    await set_room(live_group, mode="open")
    _, alex_peer = await connect_all(connect, live_group, dana, alex)
    seq = (await alex_peer.request("chat.send", text="hello"))["seq"]
    await alex_peer.close()

    state = await reconnect(connect, queries, alex, live_group.pk, since=seq)

    assert state["messages"] == [] and state["removed_message_ids"] == []
    # Only the removed ids (a message may have been removed while the client was away) are read.
    assert len(queries.on("rooms_message")) == 1, queries.on("rooms_message")
    assert len(queries.statements) <= CONNECT_QUERIES, "\n".join(queries.statements)


async def test_a_reconnect_that_missed_a_message_reads_it(connect, live_group, dana, alex, queries):
    await set_room(live_group, mode="open")
    dana_peer, alex_peer = await connect_all(connect, live_group, dana, alex)
    seq = (await alex_peer.request("chat.send", text="hello"))["seq"]
    await alex_peer.close()
    assert (await dana_peer.request("chat.send", text="welcome back"))["type"] == "ack"

    state = await reconnect(connect, queries, alex, live_group.pk, since=seq)

    assert [m["text"] for m in state["messages"]] == ["welcome back"]
    assert len(queries.on("rooms_message")) == 2  # the missed messages, the removed ids
    assert len(queries.statements) <= CONNECT_QUERIES + 1, "\n".join(queries.statements)


async def test_a_first_connect_to_a_room_without_messages_reads_none(connect, live_group, alex, queries):
    state = await reconnect(connect, queries, alex, live_group.pk, since=None)

    assert state["messages"] == [] and state["version"] == 0
    assert queries.on("rooms_message") == []
    # One read for the room, its prompt and its floor version; one for its people.
    assert len(queries.on("rooms_groupsession")) == 2  # under the room lock, then the catch-up's
    assert len(queries.statements) <= CONNECT_QUERIES, "\n".join(queries.statements)


async def test_a_room_opened_by_many_at_once_announces_each_once(connect, live_group, dana, alex, sam, jordan):
    """Connects share the room's lock (presence.share_room): two tabs of one person still take turns on
    their own row, so each person arrives once, with one attendance span (PostgreSQL shows the race; on
    SQLite the database lock serializes every connect)."""
    dana_peer, _ = await connect(dana, live_group.pk)
    cookies = [await sync_to_async(cookie_for)(who) for who in (alex, alex, sam, sam, jordan, jordan)]
    opened = await asyncio.gather(*(connect(cookie, live_group.pk) for cookie in cookies))
    assert [closed for _, closed in opened] == [None] * 6
    joined = [e["participant"]["display_name"] for e in await dana_peer.drain() if e["type"] == "participant.joined"]
    assert sorted(joined) == ["Alex", "Jordan", "Sam"]
    spans = Attendance.objects.filter(session=live_group, left_at__isnull=True, participant__member__isnull=False)
    assert await spans.acount() == 4  # Dana's, and one for each of the three
