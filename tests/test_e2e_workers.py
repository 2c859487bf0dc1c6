"""Two real daphne workers sharing one PostgreSQL database and one Redis channel layer.

The servers and the members are set up once for the module; each test schedules
its own session (so messages, presence and rate limits of one test do not touch
another) and checks both workers' logs at its end.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import pytest

from tests import e2e
from tests.workers_support import EVERYONE, Visit, create_clinic, schedule, visit

pytestmark = [pytest.mark.e2e, pytest.mark.services]

database = e2e.postgres_db


class Cluster:
    def __init__(self, env: dict[str, str], a: e2e.ServerProcess, b: e2e.ServerProcess) -> None:
        self.env = env
        self.a = a
        self.b = b
        self.cookies: dict[str, str] = {}  # username -> cookie, good on both workers
        self.sessions = 0

    def session(self) -> contextlib.AbstractAsyncContextManager[Visit]:
        """A new session of its own; the clients joined in it are closed, then both workers' logs checked."""
        self.sessions += 1
        session_id = schedule(self.env, f"Workers group {self.sessions}")
        return visit(session_id, self.cookies, clean=(self.a, self.b))


@pytest.fixture(scope="module")
def clinic_database(database: str) -> str:
    """The module's database with the members every session is scheduled with (made once for both layers)."""
    create_clinic(e2e.server_env(database, redis_url=e2e.redis_url()))
    return database


@pytest.fixture(scope="module")
def cluster(clinic_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    env = e2e.server_env(clinic_database, redis_url=e2e.redis_url())
    logs = tmp_path_factory.mktemp("e2e-workers")
    a = e2e.ServerProcess(env, name="worker-a", log_dir=logs)
    b = e2e.ServerProcess(env, name="worker-b", log_dir=logs)
    try:
        a.start()
        b.start()
        cluster = Cluster(env, a, b)
        # A login is a session row in the shared database: a cookie from one worker works on the other.
        cluster.cookies = e2e.login_all(a.base_url, EVERYONE)
        yield cluster
    finally:
        a.terminate()
        b.terminate()


async def start_open(dana: e2e.Client) -> None:
    assert (await dana.request("session.start"))["type"] == "ack"
    assert (await dana.request("mode.set", mode="open"))["type"] == "ack"


async def split_across(room: Visit, cluster: Cluster) -> list[e2e.Client]:
    """Dana, Alex, Sam and Jordan, on worker A and worker B in turn."""
    return await room.join_all((cluster.a, "dana"), (cluster.b, "alex"), (cluster.a, "sam"), (cluster.b, "jordan"))


async def fence(dana: e2e.Client, others: list[e2e.Client], text: str) -> dict[str, list[dict]]:
    """Dana says `text`; returns, per client, every frame received up to that message.

    The fence message is published after everything the test did before it, so a
    frame caused earlier that is not in these lists was never sent.
    """
    ack = await dana.request("chat.send", text=text)
    assert ack["type"] == "ack", ack
    seen = {}
    for client in [dana, *others]:
        frames = await client.receive_until(lambda f: f["type"] == "chat.message" and f["seq"] == ack["seq"])
        seen[client.name] = frames
    return seen


async def test_chat_fans_out_to_clients_on_both_workers(cluster: Cluster):
    async with cluster.session() as room:
        clients = await split_across(room, cluster)
        dana, alex, sam, jordan = clients
        await start_open(dana)
        for client in clients:
            assert (await client.receive_type("session.status"))["status"] == "live"
            assert (await client.receive_type("mode.changed"))["mode"] == "open"

        # Speakers on both workers; every client on both workers gets every message, in seq order.
        sent = []
        for speaker in (alex, sam, jordan, dana):
            ack = await speaker.request("chat.send", text=f"from {speaker.name}")
            assert ack["type"] == "ack", ack
            sent.append((ack["seq"], speaker.participant_id, f"from {speaker.name}"))
        assert [seq for seq, _, _ in sent] == sorted(seq for seq, _, _ in sent)
        for client in clients:
            got = [await client.receive_type("chat.message") for _ in sent]
            assert [(m["seq"], m["participant_id"], m["text"]) for m in got] == sent, client.name

        # Catch-up works whichever worker the client comes back to.
        since = sent[1][0]
        riley = await room.join(cluster.a, "riley", since=since)
        assert [m["seq"] for m in riley.state["messages"]] == [seq for seq, _, _ in sent[2:]]


async def test_presence_is_shared_by_both_workers(cluster: Cluster):
    a, b = cluster.a, cluster.b
    async with cluster.session() as room:
        dana = await room.join(a, "dana")
        # Someone arriving on the other worker is announced to Dana.
        sam = await room.join(b, "sam")
        joined = await dana.receive_type("participant.joined")
        assert joined["participant"]["participant_id"] == sam.participant_id
        assert joined["participant"]["online"] is True

        # ...and someone arriving on Dana's worker is announced to Sam on the other one.
        jordan = await room.join(a, "jordan")
        joined = await sam.receive_type("participant.joined")
        assert joined["participant"]["participant_id"] == jordan.participant_id

        # Alex opens a tab on each worker: one arrival, announced once.
        alex_b = await room.join(b, "alex")
        alex_a = await room.join(a, "alex")
        assert alex_a.participant_id == alex_b.participant_id
        alex_id = alex_a.participant_id
        seen = await fence(dana, [sam, jordan], "fence 1")
        for frames in seen.values():
            arrivals = [f for f in frames if f["type"] == "participant.joined"]
            assert [f["participant"]["participant_id"] for f in arrivals].count(alex_id) == 1, frames

        # Alex closes the tab on worker A while Jordan (also on A) leaves for good. Jordan's
        # departure is announced across workers; Alex's is not: a tab is still open on B.
        await asyncio.gather(alex_a.close(), jordan.close())
        left = await sam.receive_type("participant.left")
        assert left["participant_id"] == jordan.participant_id
        left = await dana.receive_type("participant.left")
        assert left["participant_id"] == jordan.participant_id
        seen = await fence(dana, [sam, alex_b], "fence 2")
        for frames in seen.values():
            assert not [f for f in frames if f["type"] == "participant.left" and f["participant_id"] == alex_id], frames
        riley = await room.join(b, "riley")
        online = {p["participant_id"]: p["online"] for p in riley.state["participants"]}
        assert online[alex_id] is True
        assert online[jordan.participant_id] is False
        assert online[sam.participant_id] is True

        # Closing the last tab (on B) takes Alex offline, for everyone on both workers.
        await alex_b.close()
        for client in (dana, sam, riley):
            left = await client.receive_type("participant.left")
            assert left["participant_id"] == alex_id, client.name
        seen = await fence(dana, [sam, riley], "fence 3")
        for frames in seen.values():  # announced once, not once per tab
            assert not [f for f in frames if f["type"] == "participant.left"], frames
        again = await room.join(a, "jordan")
        online = {p["participant_id"]: p["online"] for p in again.state["participants"]}
        assert online[alex_id] is False


async def test_rate_limit_holds_across_workers(cluster: Cluster):
    a, b = cluster.a, cluster.b
    async with cluster.session() as room:
        dana, alex_a = await room.join(a, "dana"), await room.join(a, "alex")
        alex_b, sam = await room.join(b, "alex"), await room.join(b, "sam")
        await start_open(dana)
        tabs = [alex_a, alex_b]
        replies = []
        for n in range(6):
            replies.append(await tabs[n % 2].request("chat.send", text=f"message {n + 1}"))
        assert [r["type"] for r in replies[:5]] == ["ack"] * 5, replies
        assert replies[5]["type"] == "error" and replies[5]["code"] == "rate_limited", replies[5]
        accepted = [r["seq"] for r in replies[:5]]

        # The refused message reached nobody, on either worker.
        seen = await fence(dana, [sam, alex_a, alex_b], "fence")
        for name, frames in seen.items():
            from_alex = [f["seq"] for f in frames if f["type"] == "chat.message" and f["text"].startswith("message ")]
            assert from_alex == accepted, name
        # Someone else is not limited by Alex's messages.
        assert (await sam.request("chat.send", text="my turn"))["type"] == "ack"


async def test_floor_and_queue_agree_across_workers(cluster: Cluster):
    a, b = cluster.a, cluster.b
    async with cluster.session() as room:
        clients = await split_across(room, cluster)
        dana, alex, sam, jordan = clients
        assert (await dana.request("session.start"))["type"] == "ack"  # a group: moderated, nobody holds the floor

        # Hands raised on both workers make one queue, in order, seen the same way everywhere.
        assert (await alex.request("hand.raise"))["type"] == "ack"
        assert (await sam.request("hand.raise"))["type"] == "ack"
        queue = [alex.participant_id, sam.participant_id]
        for client in clients:
            await client.receive_type("queue.updated", where=lambda f: f["queue"] == queue)

        # Without the floor nobody but Dana may talk, whichever worker they are on.
        refused = await jordan.request("chat.send", text="may I?")
        assert refused["type"] == "error" and refused["code"] == "no_floor", refused

        # Dana (worker A) gives Alex (worker B) the floor: he leaves the queue, everyone learns it.
        assert (await dana.request("floor.grant", participant_id=alex.participant_id))["type"] == "ack"
        for client in clients:  # (the queue is announced first, then the floor)
            frames = await client.receive_until(lambda f: f["type"] == "floor.changed" and f["holder"] is not None)
            assert frames[-1]["holder"] == alex.participant_id, client.name
            assert [f["queue"] for f in frames if f["type"] == "queue.updated"] == [[sam.participant_id]], frames
        said = await alex.request("chat.send", text="Thank you for the floor.")
        assert said["type"] == "ack", said
        refused = await sam.request("chat.send", text="me too")
        assert refused["type"] == "error" and refused["code"] == "no_floor", refused

        # A short grant to Sam (worker A) expires: whichever worker claims the deadline,
        # both workers' clients hear that nobody holds the floor.
        assert (await dana.request("floor.grant", participant_id=sam.participant_id, seconds=2))["type"] == "ack"
        for client in clients:
            await client.receive_type("floor.changed", where=lambda f: f["holder"] == sam.participant_id)
        for client in clients:
            expired = await client.receive_type("floor.changed", where=lambda f: f["holder"] is None, timeout=15)
            assert expired.get("reason") == "expired", expired
        seen = await fence(dana, [alex, sam, jordan], "fence")
        for name, frames in seen.items():  # the expiry is announced once, not once per worker
            assert not [f for f in frames if f["type"] == "floor.changed"], (name, frames)

        # A newcomer on either worker gets the same floor and queue.
        for server in (a, b):
            riley = await room.join(server, "riley")
            assert riley.state["floor"]["holder"] is None
            assert riley.state["queue"] == []
