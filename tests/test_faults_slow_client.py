"""A client that stops reading is dropped, and the room does not slow down for it.

One daphne worker, a room of four readers and a facilitator who talks at a
steady pace with long messages. The same run is made twice: without and with
a fifth connection that completes its handshake and then never reads. Twisted
would buffer everything for it; the worker must drop it once what it left
unread passes OUTBOUND_BUFFER_KIB (shortened here to 64 KiB so the test fills
it quickly), and the others' 99th-percentile latency must stay within twice the
run without it.

Latency is measured from just before the facilitator's chat.send to a reader's
receipt, all clocks being this test process's. On a loaded two-core machine a
p99 of a few milliseconds is noise, so the baseline counts as at least
NOISE_FLOOR_MS (a documented tolerance, not a relaxation of the 2x rule).
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from tests import e2e
from tests.faults_support import StalledReader, assert_clean_log, wait_frame

pytestmark = [pytest.mark.e2e, pytest.mark.services, pytest.mark.slow]

database = e2e.postgres_db

BASELINE_MESSAGES = 300
# The kernel takes about 3 MB for a stalled loopback socket before Twisted's own buffer
# grows at all: 1,000 messages of 4 KiB are sure to pass that and the limit.
STALLED_MESSAGES = 1000
PACE_SECONDS = 0.02  # between two messages: ~50 messages/s, 4 KiB each on the wire
NOISE_FLOOR_MS = 25.0
LIMIT_KIB = 64


def p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


async def run(dana: e2e.Client, readers: list[e2e.Client], label: str, messages: int) -> list[float]:
    """Dana sends `messages` long messages at a steady pace; returns every reader's latency for each, in ms."""
    sent: dict[str, float] = {}
    latencies: list[float] = []
    body = "x" * 1900

    async def read(client: e2e.Client, measure: bool) -> None:
        assert client.ws is not None
        got = 0
        while got < messages:
            frame = json.loads(await asyncio.wait_for(client.ws.recv(), 30))
            arrived = time.monotonic()
            client.frames.append(frame)
            if frame.get("type") == "chat.message" and frame["text"].startswith(label):
                if measure:
                    latencies.append((arrived - sent[frame["text"][:24]]) * 1000)
                got += 1

    # Dana reads too (her own messages come back to her), but only the readers are measured.
    tasks = [asyncio.create_task(read(client, measure=True)) for client in readers]
    tasks.append(asyncio.create_task(read(dana, measure=False)))
    assert dana.ws is not None
    for n in range(messages):
        text = f"{label}-{n:06d}".ljust(24) + body
        sent[text[:24]] = time.monotonic()
        # No ref: nothing comes back but the broadcast, which Dana does not read here.
        await dana.ws.send(json.dumps({"type": "chat.send", "text": text}))
        await asyncio.sleep(PACE_SECONDS)
    await asyncio.gather(*tasks)
    return latencies


@pytest.mark.timeout(300)
async def test_a_client_that_stops_reading_is_dropped_without_slowing_the_room(database):
    env = e2e.server_env(database, redis_url=e2e.redis_url(), OUTBOUND_BUFFER_KIB=LIMIT_KIB, CHAT_RATE_LIMIT=100000)
    clinic = e2e.provision(env, patients=["alex", "sam", "jordan", "riley", "casey"], title="Slow reader")
    server = e2e.ServerProcess(env, name="worker")
    clients: list[e2e.Client] = []
    stalled: StalledReader | None = None
    try:
        await asyncio.to_thread(server.start, 40)
        cookies = await asyncio.to_thread(e2e.login_all, server.base_url, clinic.people.values())
        for who in ("dana", "alex", "sam", "jordan", "riley"):
            client = await e2e.ws_connect(server.base_url, clinic.session_id, cookies[who], name=who)
            assert client.close_code is None
            clients.append(client)
        dana, readers = clients[0], clients[1:]
        assert (await dana.request("session.start"))["type"] == "ack"
        assert (await dana.request("mode.set", mode="open"))["type"] == "ack"
        for client in readers:
            await client.receive_type("mode.changed")
        await run(dana, readers, "warmup", 100)
        baseline = await run(dana, readers, "baseline", BASELINE_MESSAGES)

        # With ?since= the latest message its first frame is small: the bound it gets is
        # OUTBOUND_BUFFER_KIB plus its largest frame, and a big session.state would widen it.
        latest = max(f["seq"] for f in readers[0].frames if f.get("type") == "chat.message")
        stalled = await asyncio.to_thread(
            StalledReader, server.base_url, clinic.session_id, cookies["casey"], since=latest
        )
        with_stalled = await run(dana, readers, "stalled", STALLED_MESSAGES)
        # The stalled client was dropped: everyone saw Casey come and go, and its socket was reset.
        alex = readers[0]
        joined = await wait_frame(
            alex, lambda f: f["type"] == "participant.joined" and f["participant"]["display_name"] == "Casey", 30
        )
        casey_id = joined["participant"]["participant_id"]
        await wait_frame(alex, lambda f: f["type"] == "participant.left" and f["participant_id"] == casey_id, 30)
        assert await asyncio.to_thread(stalled.drained) == "reset"
        assert "dropped a WebSocket that stopped reading" in server.log_text()

        base, slow = p99(baseline), p99(with_stalled)
        print(f"p99 latency: {base:.1f} ms without, {slow:.1f} ms with a stalled reader")
        assert slow <= 2 * max(base, NOISE_FLOOR_MS), (base, slow)
        assert server.running()
        assert_clean_log(server)
    finally:
        if stalled is not None:
            stalled.close()
        await e2e.close_all(clients)
        server.terminate()
