"""PostgreSQL becomes unreachable mid-session: errors, never silence, never a false ack; then recovery.

The test owns its database. It closes it (ALTER DATABASE ... ALLOW_CONNECTIONS
false and every open connection terminated, as a crashed or restarting server
would look to the worker), then opens it again. The daphne worker is never
restarted.

What must hold (docs/deploy.md, "PostgreSQL unavailable"):
* every chat.send made meanwhile gets an `error` `unavailable` reply, promptly,
  and none is stored; /healthz answers 503; a new WebSocket is closed with 1013;
* after the database returns: /healthz 200 and chat works again, without a
  restart, and presence is still right: the outage outlasted the presence
  timeout, yet nobody connected is swept away as if their worker had died.

Two workers: after the outage every row looks stale, and a worker sweeping
before the other has beaten again would take the other's live connections for
a dead worker's. Worker A beats every 3 s, worker B every second (and sweeps
every STALE/3 s), so that race is likely to be tried.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from tests import e2e
from tests.faults_support import (
    assert_clean_log,
    close_database,
    open_database,
    seen_seqs,
    stored_texts,
    until,
    wait_healthz,
)

pytestmark = [pytest.mark.e2e, pytest.mark.services, pytest.mark.slow]

# The pool gives up on a connection after DB_POOL_TIMEOUT (3 s); the rest is for a loaded machine.
REPLY_SECONDS = 20
RECOVERY_SECONDS = 60
STALE_SECONDS = 6  # worker A beats every 3 s: a 3 s margin for a loaded machine
PRESENCE: dict[str, Any] = {"PRESENCE_STALE_SECONDS": STALE_SECONDS, "ABSENCE_GRACE_SECONDS": 1}


@pytest.fixture
def database():
    with e2e.postgres_database() as url:
        try:
            yield url
        finally:
            open_database(url)  # so that it can be dropped


@pytest.mark.timeout(300)
async def test_database_outage_gives_errors_not_silence_and_recovers(database):
    env = e2e.server_env(database, redis_url=e2e.redis_url(), **PRESENCE)
    clinic = e2e.provision(env, patients=["alex", "sam"], title="Database outage")
    a = e2e.ServerProcess({**env, "PRESENCE_HEARTBEAT_SECONDS": "3"}, name="worker-a")
    b = e2e.ServerProcess({**env, "PRESENCE_HEARTBEAT_SECONDS": "1"}, name="worker-b")
    clients: list[e2e.Client] = []
    try:
        await asyncio.gather(asyncio.to_thread(a.start, 40), asyncio.to_thread(b.start, 40))
        pids = (a.pid, b.pid)
        cookies = await asyncio.to_thread(e2e.login_all, a.base_url, clinic.people.values())

        async def connect(who: str, server: e2e.ServerProcess, since: int | None = None) -> e2e.Client:
            client = await e2e.ws_connect(
                server.base_url,
                clinic.session_id,
                cookies[who],
                since,
                name=f"{who}@{server.name}",
                timeout=REPLY_SECONDS,
            )
            clients.append(client)
            return client

        # Dana on B (so that B's hub runs its sweep), Alex and Sam on A (the slow beater).
        dana, alex, sam = await connect("dana", b), await connect("alex", a), await connect("sam", a)
        assert (await dana.request("session.start"))["type"] == "ack"
        assert (await dana.request("mode.set", mode="open"))["type"] == "ack"
        before = await alex.request("chat.send", text="before the outage")
        assert before["type"] == "ack", before
        acked = [before["seq"]]

        # ---- The database goes away.
        await asyncio.to_thread(close_database, database)
        refused_texts = []
        for n in range(4):
            text = f"during the outage #{n}"
            started = time.monotonic()
            reply = await alex.request("chat.send", text=text, timeout=REPLY_SECONDS)
            assert reply["type"] == "error" and reply["code"] == "unavailable", reply
            assert time.monotonic() - started < REPLY_SECONDS
            refused_texts.append(text)
        await asyncio.gather(*(wait_healthz(s, 503, timeout=REPLY_SECONDS) for s in (a, b)))
        late = await connect("sam", a)  # a second tab: it cannot be admitted now, and is told to retry
        assert late.close_code == 1013, late.close_code
        # The outage outlasts the presence timeout (PRESENCE_STALE_SECONDS): no heartbeat gets through.
        await asyncio.sleep(STALE_SECONDS + 2)

        # ---- The database is back; the same worker recovers by itself.
        await asyncio.to_thread(open_database, database)
        await asyncio.gather(*(wait_healthz(s, 200, timeout=RECOVERY_SECONDS) for s in (a, b)))

        async def chat_works() -> bool:
            reply = await alex.request("chat.send", text="after the outage", timeout=REPLY_SECONDS)
            assert reply["type"] in {"ack", "error"}, reply
            if reply["type"] == "error":
                assert reply["code"] == "unavailable", reply
                return False
            acked.append(reply["seq"])
            return True

        await until(chat_works, timeout=RECOVERY_SECONDS, interval=0.5, what="chat.send acknowledged again")
        for client in (dana, sam):
            await client.receive_type("chat.message", where=lambda f: f["seq"] == acked[-1], timeout=REPLY_SECONDS)

        # No false acks, no lost acks: what was refused is nowhere, what was acknowledged is everywhere.
        assert not await asyncio.to_thread(stored_texts, database, refused_texts)
        # Worker B recovers by itself too: a connection refused with 1013 (its breaker still
        # cooling after its own failed background calls) is retried, as the page does.
        admitted: list[e2e.Client] = []

        async def b_admits() -> bool:
            client = await connect("sam", b, since=0)
            assert client.close_code in {None, 1013}, client.close_code
            if client.close_code is None:
                admitted.append(client)
            return client.close_code is None

        await until(b_admits, timeout=RECOVERY_SECONDS, interval=0.5, what="worker B admits a new connection")
        fresh = admitted[0]
        assert set(acked) <= seen_seqs(fresh)
        assert not set(refused_texts) & {m["text"] for m in fresh.state["messages"]}

        # Presence survived the outage: after more than a presence timeout of normal
        # operation, everyone still connected is online, and nobody was announced as gone.
        await asyncio.sleep(2 * STALE_SECONDS + 1)
        fence = await dana.request("chat.send", text="fence")
        assert fence["type"] == "ack", fence
        for client in (dana, alex, sam):
            frames = await client.receive_until(lambda f: f["type"] == "chat.message" and f["seq"] == fence["seq"])
            left = [f for f in client.frames + frames if f["type"] == "participant.left"]
            assert not left, (client.name, left)
            assert client.is_open, client.name
        newcomer = await connect("sam", b)
        online = {p["participant_id"]: p["online"] for p in newcomer.state["participants"]}
        assert online == {dana.participant_id: True, alex.participant_id: True, sam.participant_id: True}

        assert (a.pid, b.pid) == pids and a.running() and b.running()
        for worker in (a, b):
            assert_clean_log(worker)
    finally:
        await e2e.close_all(clients)
        a.terminate()
        b.terminate()
