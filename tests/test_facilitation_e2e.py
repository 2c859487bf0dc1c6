"""Facilitation across two real daphne workers on PostgreSQL and Redis (issue 3).

* Floor expiry survives the death of the worker that granted it: the deadline lives in the
  database, and the surviving worker's due-timer sweep broadcasts the expiry once, within a
  second of the deadline.
* Grants, yields and hand raises sent at the same moment through the two workers leave one
  holder and one queue that every client (on either worker) agrees on.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime

import pytest

from tests import e2e
from tests.workers_support import EVERYONE, Visit, create_clinic, schedule, visit

pytestmark = [pytest.mark.e2e, pytest.mark.services, pytest.mark.slow]

database = e2e.postgres_db
daphne = e2e.daphne


@pytest.fixture(scope="module")
def env(database: str) -> Iterator[dict[str, str]]:
    env = e2e.server_env(database, redis_url=e2e.redis_url())
    create_clinic(env)
    yield env


@contextlib.asynccontextmanager
async def two_workers(
    env, daphne, title: str, first: str, second: str, *, first_survives: bool = True
) -> AsyncIterator[tuple[Visit, e2e.ServerProcess, e2e.ServerProcess]]:
    """A new session and two workers named `first` and `second`; the logs of those that survive are checked."""
    session_id = schedule(env, title)
    one, two = daphne(env, name=first), daphne(env, name=second)
    cookies = await asyncio.to_thread(e2e.login_all, one.base_url, EVERYONE)
    async with visit(session_id, cookies, clean=(one, two) if first_survives else (two,)) as room:
        yield room, one, two


def granting_and_surviving(env, daphne, title: str):
    """Two workers: one that grants and is then killed, one that survives it (only its log is checked)."""
    return two_workers(env, daphne, title, "worker-granting", "worker-surviving", first_survives=False)


def epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def view(client: e2e.Client) -> tuple[int | None, list[int]]:
    """The holder and queue this client shows: its session.state, then every event, newest version wins."""
    holder, queue = client.state["floor"]["holder"], list(client.state["queue"])
    floor_version = queue_version = client.state.get("version", 0)
    for frame in client.frames:
        if frame["type"] == "floor.changed" and frame["version"] >= floor_version:
            holder, floor_version = frame["holder"], frame["version"]
        elif frame["type"] == "queue.updated" and frame["version"] >= queue_version:
            queue, queue_version = frame["queue"], frame["version"]
    return holder, queue


async def test_floor_expiry_is_broadcast_once_after_the_granting_worker_is_killed(env, daphne):
    async with granting_and_surviving(env, daphne, "Expiry after SIGKILL") as (room, granting, surviving):
        dana = await room.join(granting, "dana")
        alex, sam = await room.join(surviving, "alex"), await room.join(surviving, "sam")
        assert (await dana.request("session.start"))["type"] == "ack"
        grant = await dana.request("floor.grant", participant_id=alex.participant_id, seconds=3)
        assert grant["type"] == "ack", grant
        granted = await sam.receive_type("floor.changed")
        assert granted["holder"] == alex.participant_id
        deadline = epoch(granted["expires_at"])

        # The worker that granted the floor dies without any clean-up, well before the deadline.
        granting.kill()
        assert not granting.running()
        assert deadline - time.time() > 1.5, "the kill happened before the deadline"

        for client in (alex, sam):
            expired = await client.receive_type(
                "floor.changed", timeout=deadline - time.time() + 3, where=lambda f: f["holder"] is None
            )
            heard = time.time()
            assert expired["holder"] is None and expired["expires_at"] is None
            assert expired["reason"] == "expired"
            assert -0.05 <= heard - deadline < 1.0, f"{client.name} heard the expiry {heard - deadline:.2f} s late"
        assert (await alex.request("chat.send", text="am I still on?"))["code"] == "no_floor"

        # Once: over several more sweeps nobody hears another floor change.
        await asyncio.sleep(1.5)
        for client in (alex, sam):
            changes = [f for f in client.frames if f["type"] == "floor.changed"]
            assert [f["holder"] for f in changes] == [alex.participant_id, None], client.name
        fresh = await room.join(surviving, "jordan")
        assert fresh.state["floor"] == {"holder": None, "expires_at": None}


async def test_round_turn_expires_on_the_surviving_worker(env, daphne):
    """A timed round turn is a floor deadline too: after the granting worker dies the round moves on."""
    async with granting_and_surviving(env, daphne, "Round after SIGKILL") as (room, granting, surviving):
        dana = await room.join(granting, "dana")
        alex, sam = await room.join(surviving, "alex"), await room.join(surviving, "sam")
        assert (await dana.request("session.start"))["type"] == "ack"
        assert (await dana.request("mode.set", mode="round", seconds=10))["type"] == "ack"
        turn = await sam.receive_type("round.turn")
        assert (turn["holder"], turn["next"]) == (alex.participant_id, sam.participant_id)
        granting.kill()
        # Dana's connection died with its worker; her row goes stale, but the round goes on.
        turn = await sam.receive_type("round.turn", timeout=epoch(turn["expires_at"]) - time.time() + 3)
        assert (turn["holder"], turn["passed"], turn["how"]) == (sam.participant_id, alex.participant_id, "expired")


PAIRS = 24


async def test_concurrent_pairs_through_two_workers_leave_one_holder_and_one_queue(env, daphne):
    async with two_workers(env, daphne, "Race through two workers", "worker-a", "worker-b") as (room, a, b):
        # The facilitator has a tab on each worker; the patients are split between them.
        dana_a, dana_b = await room.join(a, "dana"), await room.join(b, "dana")
        alex, jordan = await room.join(a, "alex"), await room.join(a, "jordan")
        sam, riley = await room.join(b, "sam"), await room.join(b, "riley")
        clients = [dana_a, dana_b, alex, jordan, sam, riley]
        on_a, on_b = [alex, jordan], [sam, riley]
        assert (await dana_a.request("session.start"))["type"] == "ack"
        for n in range(PAIRS):
            x, y = on_a[n % 2], on_b[(n // 2) % 2]
            holder = await current_holder(dana_a)
            kind = n % 4
            if kind == 0:  # two grants at once, one through each worker
                first = dana_a.request("floor.grant", participant_id=x.participant_id, seconds=300)
                second = dana_b.request("floor.grant", participant_id=y.participant_id, seconds=300)
            elif kind == 1:  # a grant through A against the holder's yield through B (or a raise)
                first = dana_a.request("floor.grant", participant_id=y.participant_id, seconds=300)
                second = (holder_client(clients, holder) or y).request("floor.yield" if holder else "hand.raise")
            elif kind == 2:  # a grant through B while that person raises a hand through A
                first = dana_b.request("floor.grant", participant_id=x.participant_id, seconds=300)
                second = x.request("hand.raise")
            else:  # hands raised through both workers at once, and a lowering
                first = x.request("hand.raise")
                second = y.request("hand.lower" if n % 8 == 7 else "hand.raise")
            replies = await asyncio.gather(first, second)
            for reply in replies:
                assert reply["type"] == "ack" or reply.get("code") == "no_floor", reply

        # Fences through both workers: everything caused before them has been published.
        for fence_by in (dana_a, dana_b):
            ack = await fence_by.request("chat.send", text=f"fence from {fence_by.name}")
            assert ack["type"] == "ack", ack
            for client in clients:
                await client.receive_until(e2e.frame_is("chat.message", seq=ack["seq"]))
        for client in clients:
            await drain(client)  # anything still in flight lands in client.frames

        # A fresh session.state on each worker is the database's answer.
        truth_a, truth_b = await room.join(a, "riley"), await room.join(b, "alex")
        truth = (truth_a.state["floor"]["holder"], truth_a.state["queue"])
        assert (truth_b.state["floor"]["holder"], truth_b.state["queue"]) == truth
        assert truth[0] is not None and len(truth[1]) == len(set(truth[1]))
        views = {client.name: view(client) for client in clients}
        assert all(seen == truth for seen in views.values()), f"clients disagree: {views} (database: {truth})"


async def current_holder(client: e2e.Client) -> int | None:
    return view(client)[0]


def holder_client(clients: list[e2e.Client], holder: int | None) -> e2e.Client | None:
    """The holder's connection on the worker other than the grant's (they are on B when the grant goes through A)."""
    return next((c for c in clients if holder is not None and c.participant_id == holder), None)


async def drain(client: e2e.Client, quiet: float = 0.3) -> int:
    count = 0
    while True:
        try:
            await client._next(quiet)
        except TimeoutError:
            return count
        count += 1
