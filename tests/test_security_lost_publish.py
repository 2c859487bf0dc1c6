"""An event one worker could not publish is not lost for the other workers' clients (issue 22, class 12).

Two real daphne workers on PostgreSQL and Redis. Worker B's publishing fails
(tests/e2e_faults.py: its group_send raises as a dropped Redis connection would)
while Redis serves worker A, whose hub therefore notices nothing. What B committed
meanwhile is acknowledged; once B's layer takes messages again, every client in the
room, on both workers, is told to resync: an `error` `unavailable` without `ref`,
then close 1012, and the resumed `?since=` catch-up holds what they missed.
(Chosen over sending the lost events late: other workers' events went on meanwhile,
and a late one would show a state that no longer holds. docs/protocol.md.)

Inputs: 4 lost changes (a message, a raised hand, a message on the private line,
and three messages lost in a row), each on the failing worker.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests import e2e
from tests.workers_support import EVERYONE, Visit, create_clinic, schedule, visit

pytestmark = [pytest.mark.e2e, pytest.mark.services]

database = e2e.postgres_db


async def told_to_resync(client: e2e.Client) -> list[dict]:
    """The frames up to the resync notice; the socket must then be closed with 1012."""
    frames = await client.receive_until(
        lambda f: f["type"] == "error" and f.get("code") == "unavailable" and f.get("ref") is None, timeout=15
    )
    assert await client.wait_closed(timeout=10) == 1012, client.name
    return frames


async def test_a_publish_that_failed_on_one_worker_makes_every_worker_resync_its_clients(database, tmp_path: Path):
    control = tmp_path / "publish-fault"
    env = e2e.server_env(database, redis_url=e2e.redis_url())
    create_clinic(env)
    session_id = schedule(env, "A lost publish")
    a = e2e.ServerProcess(env, name="worker-a", log_dir=tmp_path)
    b = e2e.ServerProcess({**env, "E2E_PUBLISH_FAULT_FILE": str(control)}, name="worker-b", log_dir=tmp_path)
    try:
        await asyncio.gather(asyncio.to_thread(a.start), asyncio.to_thread(b.start))
        cookies = await asyncio.to_thread(e2e.login_all, a.base_url, EVERYONE)
        async with visit(session_id, cookies, clean=(a,)) as room:
            dana = await room.join(a, "dana")
            assert (await dana.request("session.start"))["type"] == "ack"
            assert (await dana.request("mode.set", mode="open"))["type"] == "ack"
            last_seq = (await dana.request("chat.send", text="before"))["seq"]

            async def lose(change: str) -> None:
                """Alex on worker B makes `change` while B cannot publish; Sam and Dana are on worker A."""
                alex = await room.join(b, "alex")
                sam = await room.join(a, "sam", since=last_seq)
                watcher = await room.join(a, "dana", since=last_seq)
                control.write_text("fail")
                if change == "message":
                    assert (await alex.request("chat.send", text="lost 1"))["type"] == "ack"
                elif change == "hand":
                    assert (await alex.request("hand.raise"))["type"] == "ack"
                elif change == "private line":
                    assert (await alex.request("chat.send", text="lost 1", to="facilitators"))["type"] == "ack"
                else:
                    for number in range(1, 4):
                        assert (await alex.request("chat.send", text=f"lost {number}"))["type"] == "ack"
                await asyncio.sleep(1)  # B's resync fails too while its publishing does
                control.write_text("")
                for client in (sam, watcher, alex):
                    frames = await told_to_resync(client)
                    assert not [f for f in frames if f["type"] == "chat.message" and f["text"].startswith("lost")]
                # Their resumed catch-up holds the change.
                sam_back = await room.join(a, "sam", since=last_seq)
                dana_back = await room.join(a, "dana", since=last_seq)
                if change == "hand":
                    assert alex.participant_id in sam_back.state["queue"]
                    assert (await alex_lowers(room, b))["type"] == "ack"
                elif change == "private line":
                    assert [m["text"] for m in dana_back.state["messages"]] == ["lost 1"]
                    assert sam_back.state["messages"] == []
                else:
                    count = 1 if change == "message" else 3
                    expected = [f"lost {number}" for number in range(1, count + 1)]
                    assert [m["text"] for m in sam_back.state["messages"]] == expected
                await e2e.close_all([sam_back, dana_back])

            for change in ("message", "hand", "private line", "three in a row"):
                await lose(change)
                last_seq = await newest(room, a)
    finally:
        a.terminate()
        b.terminate()


async def alex_lowers(room: Visit, b: e2e.ServerProcess) -> dict:
    alex = await room.join(b, "alex")
    return await alex.request("hand.lower")


async def newest(room: Visit, a: e2e.ServerProcess) -> int:
    """The room's newest seq, as a fresh connection sees it (where the next case resumes from)."""
    probe = await room.join(a, "riley")
    seqs = [m["seq"] for m in probe.state["messages"]]
    await probe.close()
    return max(seqs)
