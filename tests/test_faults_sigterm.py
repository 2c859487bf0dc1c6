"""SIGTERM on a worker (a deploy, a scale-down): its clients get 1012, move to the other worker, miss nothing.

Two daphne workers share PostgreSQL and Redis. Alex and Sam are connected
through worker A, Dana and Jordan through worker B. While Dana keeps talking and
Alex keeps sending too, A gets SIGTERM. A must close its sockets with 1012
(service restart, "reconnect now"), finish any reply it was computing first,
and exit by itself, promptly. Alex and Sam reconnect to B with ?since= and must
then hold every message that was acknowledged to anyone; people who moved are
still shown online.
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from websockets.exceptions import ConnectionClosed

from tests import e2e
from tests.faults_support import assert_clean_log, assert_nobody_missed

pytestmark = [pytest.mark.e2e, pytest.mark.services, pytest.mark.slow]

database = e2e.postgres_db

EXIT_SECONDS = 10  # the drain is bounded by 8 s (rooms.shutdown); Docker waits 10 s before SIGKILL


@pytest.mark.timeout(240)
async def test_sigterm_sends_clients_to_the_other_worker_with_1012(database):
    env = e2e.server_env(database, redis_url=e2e.redis_url(), CHAT_RATE_LIMIT=1000)
    clinic = e2e.provision(env, patients=["alex", "sam", "jordan", "riley"], title="Rolling restart")
    a = e2e.ServerProcess(env, name="worker-a")
    b = e2e.ServerProcess(env, name="worker-b")
    everyone: dict[str, list[e2e.Client]] = {}
    acked: list[int] = []
    try:
        await asyncio.gather(asyncio.to_thread(a.start, 40), asyncio.to_thread(b.start, 40))
        cookies = await asyncio.to_thread(e2e.login_all, b.base_url, clinic.people.values())

        async def connect(who: str, server: e2e.ServerProcess, since: int | None = None) -> e2e.Client:
            client = await e2e.ws_connect(
                server.base_url, clinic.session_id, cookies[who], since, name=f"{who}@{server.name}"
            )
            assert client.close_code is None, f"{who} refused by {server.name}: {client.close_code}"
            everyone.setdefault(who, []).append(client)
            return client

        dana, jordan = await connect("dana", b), await connect("jordan", b)
        alex, sam = await connect("alex", a), await connect("sam", a)
        assert (await dana.request("session.start"))["type"] == "ack"
        assert (await dana.request("mode.set", mode="open"))["type"] == "ack"
        for client in (alex, sam):
            await client.receive_type("mode.changed")

        stop = asyncio.Event()

        async def dana_talks() -> None:
            n = 0
            while not stop.is_set():
                n += 1
                reply = await dana.request("chat.send", text=f"dana {n}")
                assert reply["type"] == "ack", reply
                acked.append(reply["seq"])
                await asyncio.sleep(0.05)

        async def alex_talks_until_closed() -> int | None:
            """Alex sends as fast as replies come; every ack counts, the close ends it."""
            n = 0
            with contextlib.suppress(ConnectionClosed):
                while True:
                    n += 1
                    reply = await alex.request("chat.send", text=f"alex {n}", timeout=30)
                    assert reply["type"] == "ack", reply
                    acked.append(reply["seq"])
            # The close may surface on a send (no frame read): ask the socket for the code it got.
            assert alex.ws is not None
            await alex.ws.wait_closed()
            return alex.close_code or alex.ws.close_code

        talking = asyncio.create_task(dana_talks())
        alex_task = asyncio.create_task(alex_talks_until_closed())
        await asyncio.sleep(0.5)  # the room is busy when the signal comes

        terminated = asyncio.create_task(asyncio.to_thread(a.terminate, EXIT_SECONDS))
        sam_code = await sam.wait_closed(timeout=EXIT_SECONDS)
        alex_code = await asyncio.wait_for(alex_task, EXIT_SECONDS)
        assert (alex_code, sam_code) == (1012, 1012)
        # They come back through the other worker, resuming after the last message they saw.
        alex2 = await connect("alex", b, since=alex.last_seq)
        sam2 = await connect("sam", b, since=sam.last_seq)
        assert await terminated == 0, a.log_text()  # exited by itself, cleanly, within the bound
        assert "still running" not in a.log_text()

        await asyncio.sleep(0.5)
        stop.set()
        await talking
        fence = await dana.request("chat.send", text="fence")
        assert fence["type"] == "ack", fence
        acked.append(fence["seq"])
        for client in (dana, jordan, alex2, sam2):
            await client.receive_type("chat.message", where=lambda f: f["seq"] == fence["seq"], timeout=20)

        # Nobody missed anything acknowledged, on either side of the restart.
        assert_nobody_missed(acked, everyone)
        # Alex and Sam moved worker: they are online (A handed its rows over, B holds theirs).
        riley = await connect("riley", b)
        online = {p["participant_id"]: p["online"] for p in riley.state["participants"]}
        assert online[alex.participant_id] is True and online[sam.participant_id] is True

        log = a.log_text()
        assert "SIGTERM: sending 2 WebSocket clients to another worker" in log, log
        assert "graceful shutdown done" in log, log
        for server in (a, b):
            assert_clean_log(server)
    finally:
        await e2e.close_all(c for clients in everyone.values() for c in clients)
        a.kill()
        b.terminate()
