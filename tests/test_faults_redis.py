"""Redis fails mid-session and comes back: nothing acknowledged is lost, no worker restarts.

Two daphne workers share PostgreSQL and a redis-server that only this test uses
(Circle's one layer, rooms.core_layer). While people on both
workers are talking, the test either SIGKILLs Redis (every group and queued event
is gone with it) and then starts it again on the same port, or SIGSTOPs it and
then SIGCONTs it: a Redis that stops answering fails no read or write (the layer's
connections have no socket timeout), so the workers must notice the silence
themselves (rooms.hub, LAYER_ANSWER_SECONDS).

What must hold (docs/deploy.md, "Redis restarts"):
* /healthz answers 503 on both workers while Redis is down, 200 after;
* every connected client is told (`error` code `unavailable`, no ref) and keeps
  its socket: messages sent meanwhile are stored and acknowledged;
* someone connecting meanwhile still gets the room from the database;
* when Redis is back each worker re-joins its rooms and closes its clients with
  1012; they reconnect with ?since= and then hold every acknowledged message;
  live delivery across workers works again, with the same worker processes.
"""

from __future__ import annotations

import asyncio

import pytest

from tests import e2e
from tests.faults_support import assert_clean_log, assert_nobody_missed, notices, redis_server, wait_healthz

pytestmark = [pytest.mark.e2e, pytest.mark.services, pytest.mark.slow]

redis = redis_server


@pytest.fixture
def database():
    """A fresh database for each fault's run (the clinic's people are provisioned by each)."""
    e2e.require_services()
    with e2e.postgres_database() as url:
        yield url


OUTAGE_NOTICE_SECONDS = 15  # generous: the hub notices at once when killed (its read fails), within 7 s when frozen
RECOVERY_SECONDS = 30  # generous: the hub probes every 0.5 s


@pytest.mark.timeout(300)
@pytest.mark.parametrize("fault", ["killed", "frozen"])
async def test_redis_outage_mid_session_loses_nothing(database, redis, fault):
    env = e2e.server_env(database, redis_url=redis.url)
    clinic = e2e.provision(env, patients=["alex", "sam", "jordan", "riley"], title="Redis restart")
    a = e2e.ServerProcess(env, name="worker-a")
    b = e2e.ServerProcess(env, name="worker-b")
    everyone: dict[str, list[e2e.Client]] = {}  # person -> their connections, oldest first
    acked: list[int] = []
    try:
        await asyncio.gather(asyncio.to_thread(a.start, 40), asyncio.to_thread(b.start, 40))
        pids = (a.pid, b.pid)
        cookies = await asyncio.to_thread(e2e.login_all, a.base_url, clinic.people.values())
        home = {"dana": a, "alex": b, "sam": a, "jordan": b, "riley": a}

        async def connect(who: str, since: int | None = None) -> e2e.Client:
            server = home[who]
            client = await e2e.ws_connect(
                server.base_url, clinic.session_id, cookies[who], since, name=f"{who}@{server.name}"
            )
            assert client.close_code is None, f"{who} refused: {client.close_code}"
            everyone.setdefault(who, []).append(client)
            return client

        async def say(client: e2e.Client, text: str) -> int:
            reply = await client.request("chat.send", text=text)
            assert reply["type"] == "ack", reply
            acked.append(reply["seq"])
            return int(reply["seq"])

        dana, alex, sam, jordan = [await connect(who) for who in ("dana", "alex", "sam", "jordan")]
        connected = [dana, alex, sam, jordan]
        assert (await dana.request("session.start"))["type"] == "ack"
        assert (await dana.request("mode.set", mode="open"))["type"] == "ack"
        for speaker in connected:
            seq = await say(speaker, f"before, from {speaker.name}")
            for client in connected:
                await client.receive_type("chat.message", where=e2e.frame_is("chat.message", seq=seq))

        # ---- Redis dies, or stops answering.
        if fault == "killed":
            redis.stop()
        else:
            redis.freeze()
        await asyncio.gather(*(wait_healthz(s, 503, timeout=OUTAGE_NOTICE_SECONDS) for s in (a, b)))
        for client in connected:  # told, and still connected
            notice = await client.receive_type(
                "error", where=lambda f: f["ref"] is None and f["code"] == "unavailable", timeout=OUTAGE_NOTICE_SECONDS
            )
            assert notice["message"], notice
            assert client.is_open, client.name
        # Messages are still stored and acknowledged (reaching others when Redis is back).
        during = [await say(alex, "during the outage, from worker B"), await say(dana, "during, from worker A")]
        # Someone arriving now gets the room from the database, and the same notice.
        riley = await connect("riley")
        assert {m["seq"] for m in riley.state["messages"]} >= set(during)
        await riley.receive_type("error", where=lambda f: f["code"] == "unavailable", timeout=OUTAGE_NOTICE_SECONDS)
        connected.append(riley)

        # ---- Redis is back (killed: empty, no groups, no queued events; frozen: all it held).
        if fault == "killed":
            redis.start()
        else:
            redis.thaw()
        await asyncio.gather(*(wait_healthz(s, 200, timeout=RECOVERY_SECONDS) for s in (a, b)))
        for client in connected:  # each worker asks its clients to resume
            assert await client.wait_closed(timeout=RECOVERY_SECONDS) == 1012, client.name
        resumed = {who: await connect(who, since=clients[-1].last_seq) for who, clients in everyone.items()}

        # Live delivery across workers works again.
        for speaker in (resumed["alex"], resumed["sam"]):
            seq = await say(speaker, f"after, from {speaker.name}")
            for client in resumed.values():
                await client.receive_type("chat.message", where=e2e.frame_is("chat.message", seq=seq))

        # Nobody misses anything that was acknowledged, before, during or after the outage.
        assert_nobody_missed(acked, everyone)
        for client in everyone["dana"][:1] + everyone["alex"][:1]:
            assert len(notices(client, "unavailable")) == 1, client.frames  # told once, not once per retry

        # The same worker processes throughout.
        assert (a.pid, b.pid) == pids and a.running() and b.running()
        for server in (a, b):
            assert_clean_log(server)
    finally:
        await e2e.close_all(c for clients in everyone.values() for c in clients)
        a.terminate()
        b.terminate()
