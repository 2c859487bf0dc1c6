"""A worker SIGKILLed mid-session: its people go offline and lose hand and floor within the stated bound.

Two daphne workers share PostgreSQL and Redis. Alex (holding the floor) and Sam
(hand raised) are connected through worker A, Dana and Jordan through worker B.
A is killed without any clean-up. Nothing tells B; only the presence rows that A
no longer refreshes do. B's sweep must announce Alex and Sam as gone, clear the
floor and the queue, and the room must carry on.

The bound (docs/deploy.md): a row is stale PRESENCE_STALE_SECONDS after its last
heartbeat and a sweep runs every STALE/3 seconds, so the dead worker's people
are released at most STALE + STALE/3 seconds after the kill (40 s with the
defaults, under the 60 s the deployment guide promises). The test shortens the
timings through the environment (tests.faults_support.FAST_PRESENCE) and allows
LOAD_TOLERANCE on top for a loaded two-core test machine.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from django.conf import settings

from tests import e2e
from tests.faults_support import FAST_PRESENCE, dump

database = e2e.postgres_db

# Extra seconds a busy CI machine may add to a sweep (scheduling, a slow transaction).
LOAD_TOLERANCE = 10.0


def presence_bound(stale: float) -> float:
    """Kill -> released: a row goes stale after STALE seconds; the sweep runs every STALE/3 seconds."""
    return stale + stale / 3


def test_the_documented_default_bound_is_under_a_minute():
    """docs/deploy.md states 40 s and promises under 60 s for the default timings."""
    circle = settings.CIRCLE
    # A dead worker's people have been away for STALE seconds when swept: past their grace already.
    assert circle["ABSENCE_GRACE_SECONDS"] <= circle["STALE_SECONDS"]
    assert circle["HEARTBEAT_SECONDS"] < circle["STALE_SECONDS"]
    assert presence_bound(circle["STALE_SECONDS"]) == 40
    assert presence_bound(circle["STALE_SECONDS"]) < 60


@pytest.mark.e2e
@pytest.mark.services
@pytest.mark.slow
@pytest.mark.timeout(240)
async def test_people_of_a_killed_worker_go_offline_and_lose_hand_and_floor(database):
    env = e2e.server_env(database, redis_url=e2e.redis_url(), **FAST_PRESENCE)
    clinic = e2e.provision(env, patients=["alex", "sam", "jordan", "riley"], title="Killed worker")
    a = e2e.ServerProcess(env, name="worker-a")
    b = e2e.ServerProcess(env, name="worker-b")
    clients: list[e2e.Client] = []
    try:
        await asyncio.gather(asyncio.to_thread(a.start, 40), asyncio.to_thread(b.start, 40))
        cookies = await asyncio.to_thread(e2e.login_all, b.base_url, clinic.people.values())

        async def connect(server: e2e.ServerProcess, who: str, **options) -> e2e.Client:
            client = await e2e.ws_connect(
                server.base_url, clinic.session_id, cookies[who], name=f"{who}@{server.name}", **options
            )
            assert client.close_code is None, f"{who} refused: {client.close_code}"
            clients.append(client)
            return client

        dana = await connect(b, "dana")
        jordan = await connect(b, "jordan")
        alex = await connect(a, "alex")
        sam = await connect(a, "sam")
        assert (await dana.request("session.start"))["type"] == "ack"  # a group: moderated
        assert (await dana.request("floor.grant", participant_id=alex.participant_id, seconds=900))["type"] == "ack"
        assert (await sam.request("hand.raise"))["type"] == "ack"
        assert (await jordan.request("hand.raise"))["type"] == "ack"
        queue = [sam.participant_id, jordan.participant_id]
        await dana.receive_type("queue.updated", where=lambda f: f["queue"] == queue)
        said = await alex.request("chat.send", text="I have the floor, on worker A.")
        assert said["type"] == "ack", said
        await dana.receive_type("chat.message", where=lambda f: f["seq"] == said["seq"])

        # Worker A dies without a word.
        a.kill()
        killed_at = time.monotonic()
        gone = {alex.participant_id, sam.participant_id}
        released: dict[str, float] = {}
        bound = presence_bound(FAST_PRESENCE["PRESENCE_STALE_SECONDS"])
        frames: list[dict[str, Any]] = []
        while len(released) < 4:
            remaining = bound + LOAD_TOLERANCE - (time.monotonic() - killed_at)
            if remaining <= 0:
                pytest.fail(f"after {bound + LOAD_TOLERANCE:.0f} s only {sorted(released)}:\n{dump(frames)}")
            frame = await dana.receive(timeout=remaining)
            frames.append(frame)
            now = time.monotonic() - killed_at
            if frame["type"] == "participant.left" and frame["participant_id"] in gone:
                released.setdefault(f"left {frame['participant_id']}", now)
            elif frame["type"] == "floor.changed" and frame["holder"] is None:
                released.setdefault("floor", now)
            elif frame["type"] == "queue.updated" and frame["queue"] == [jordan.participant_id]:
                released.setdefault("queue", now)
        slowest = max(released.values())
        print(f"released after (s): { {k: round(v, 1) for k, v in released.items()} }")
        assert slowest <= bound + LOAD_TOLERANCE, released
        # Nothing is announced twice, and Jordan (on the live worker) keeps his place.
        assert [f["participant_id"] for f in frames if f["type"] == "participant.left"].count(alex.participant_id) == 1

        # The survivors carry on: Dana talks, gives Jordan the floor, Jordan talks.
        after = await dana.request("chat.send", text="Alex and Sam dropped out; let's carry on.")
        assert after["type"] == "ack", after
        assert (await dana.request("floor.grant", participant_id=jordan.participant_id))["type"] == "ack"
        turn = await jordan.request("chat.send", text="Thanks, I'll go.")
        assert turn["type"] == "ack", turn
        for client in (dana, jordan):
            await client.receive_type("chat.message", where=lambda f: f["seq"] == turn["seq"])

        # A newcomer sees the truth, and Alex, back through worker B with ?since=, misses nothing.
        riley = await connect(b, "riley")
        online = {p["participant_id"]: p["online"] for p in riley.state["participants"]}
        assert online[alex.participant_id] is False and online[sam.participant_id] is False
        assert riley.state["floor"]["holder"] == jordan.participant_id
        assert riley.state["queue"] == []  # Jordan left the queue when granted the floor
        since = alex.last_seq
        back = await connect(b, "alex", since=since)
        sent = [said["seq"], after["seq"], turn["seq"]]
        assert [m["seq"] for m in back.state["messages"]] == [seq for seq in sent if seq > since]
        assert back.state["me"]["online"] is True
        hands = {p["participant_id"]: p["hand_raised"] for p in riley.state["participants"]}
        assert hands[sam.participant_id] is False
        e2e.assert_no_traceback(b.log_text(), name=b.name)
        assert b.running()
    finally:
        await e2e.close_all(clients)
        a.kill()
        b.terminate()
