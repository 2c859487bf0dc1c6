"""Goals over real sockets (one daphne on SQLite, raw `websockets` clients): a goal set in a patient's first
individual session is in their session.state in the next session, of the other kind, with its review history;
in a group session no other patient's socket and no guest's socket (admitted or in the lobby) ever receives a
goal.* event or another patient's goals. On SQLite with the in-memory layer, and on PostgreSQL with Redis."""

from __future__ import annotations

import asyncio
import contextlib
import json

import pytest

from tests import e2e
from tests.test_security_logs import redeem

pytestmark = [pytest.mark.e2e]

sqlite_db = e2e.sqlite_db
postgres_db = e2e.postgres_db
daphne = e2e.daphne


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.services)])
def env(request: pytest.FixtureRequest) -> dict[str, str]:
    """One daphne on SQLite with the in-memory layer; and on PostgreSQL with the Redis layer (services needed)."""
    if request.param == "sqlite":
        return e2e.server_env(request.getfixturevalue("sqlite_db"))
    return e2e.server_env(request.getfixturevalue("postgres_db"), redis_url=e2e.redis_url())


def goal_texts(frames: list[dict]) -> str:
    return json.dumps(frames)


async def read_everything(client: e2e.Client, quiet: float = 0.5) -> None:
    """Read (into client.frames) whatever the server sent, until nothing comes for `quiet` seconds."""
    with contextlib.suppress(TimeoutError):
        while True:
            await client.receive(quiet)


async def test_goals_carry_across_sessions_and_reach_only_the_facilitators_and_their_patient(env, daphne):
    patients = [e2e.Person(name, "patient", name.capitalize()) for name in ("alex", "sam", "jordan")]
    e2e.create_members(env, [e2e.Person("dana", "facilitator", "Dana"), *patients])
    first = e2e.schedule_session(env, title="Alex 1:1", facilitator="dana", patients=["alex"], kind="individual")
    group = e2e.schedule_session(
        env, title="Thursday group", facilitator="dana", patients=["alex", "sam", "jordan"], allow_guests=True
    )
    join_path = e2e.invite_guest(env, group, for_patient="sam", name="Robin")
    lobby_path = e2e.invite_guest(env, group, for_patient="jordan", name="Kim")
    server = daphne(env, name="daphne-record")
    cookies = await asyncio.to_thread(e2e.login_all, server.base_url, ["dana", "alex", "sam", "jordan"])

    # The first individual session: Alex sets a goal, Dana reviews it with the readiness ruler.
    dana = await e2e.ws_connect(server.base_url, first, cookies["dana"], name="dana")
    alex = await e2e.ws_connect(server.base_url, first, cookies["alex"], name="alex")
    try:
        assert (await dana.request("session.start"))["type"] == "ack"
        set_ack = await alex.request("goal.set", participant_id=alex.participant_id, text="Call my sister on Sundays")
        goal_id = set_ack["goal_id"]
        review = await dana.request("goal.review", goal_id=goal_id, progress=3, importance=8, confidence=5)
        assert review["type"] == "ack"
        reviewed = await alex.receive_type("goal.updated", where=lambda f: bool(f["goal"]["reviews"]))
        assert reviewed["goal"]["goal_id"] == goal_id
        assert (await dana.request("session.end"))["type"] == "ack"
    finally:
        await e2e.close_all([dana, alex])

    # The group session, a week later: the goal is in Alex's and Dana's state; nobody else's.
    guest_cookie, _ = await asyncio.to_thread(redeem, server.base_url, join_path)
    lobby_cookie, _ = await asyncio.to_thread(redeem, server.base_url, lobby_path)
    names = ["dana", "alex", "sam", "jordan"]
    connected = await asyncio.gather(*(e2e.ws_connect(server.base_url, group, cookies[n], name=n) for n in names))
    clients = dict(zip(names, connected, strict=True))
    clients["alex again"] = await e2e.ws_connect(server.base_url, group, cookies["alex"], name="alex again")
    clients["robin"] = await e2e.ws_connect(server.base_url, group, guest_cookie, name="robin")
    clients["kim"] = await e2e.ws_connect(server.base_url, group, lobby_cookie, name="kim")
    try:
        dana, alex = clients["dana"], clients["alex"]
        robin_id = clients["robin"].participant_id
        assert (await dana.request("lobby.admit", participant_id=robin_id))["type"] == "ack"
        assert (await dana.request("session.start"))["type"] == "ack"
        (mine,) = alex.state["goals"]
        assert (mine["goal_id"], mine["participant_id"]) == (goal_id, alex.participant_id)
        assert mine["text"] == "Call my sister on Sundays"
        assert [(r["progress"], r["importance"], r["confidence"]) for r in mine["reviews"]] == [(3, 8, 5)]
        assert [g["goal_id"] for g in dana.state["goals"]] == [goal_id]
        for name in ("sam", "jordan"):
            assert clients[name].state["goals"] == [], name
        for name in ("robin", "kim"):
            assert clients[name].state.get("goals") is None, name

        # Changes in the group: Alex reviews their own goal, Dana sets one for Sam and closes Alex's.
        assert (await alex.request("goal.review", goal_id=goal_id, progress=6, note="Called twice"))["type"] == "ack"
        sam_goal = await dana.request("goal.set", participant_id=clients["sam"].participant_id, text="Walk after work")
        assert sam_goal["type"] == "ack"
        assert (await dana.request("goal.status", goal_id=goal_id, status="met"))["type"] == "ack"
        # A refused attempt tells nobody anything either.
        refused = await clients["sam"].request("goal.review", goal_id=goal_id, progress=10)
        assert refused["type"] == "error" and refused["code"] == "not_allowed"
        # One last event everybody admitted hears, so every socket has read past the goal events.
        assert (await dana.request("prompt.post", category="goals", text="One small step this week?"))["type"] == "ack"
        for name in ("dana", "alex", "alex again", "sam", "jordan", "robin"):
            await clients[name].receive_type("prompt.posted", timeout=10)
        await asyncio.gather(*(read_everything(client) for client in clients.values()))
        assert all(client.close_code is None for client in clients.values()), "everyone stayed connected"
        received = {name: client.frames for name, client in clients.items()}  # every frame read, from the first
        goal_events = {
            name: [f for f in frames if str(f.get("type", "")).startswith("goal.")] for name, frames in received.items()
        }

        assert len(goal_events["dana"]) == 3 and len(goal_events["alex"]) == 2 and len(goal_events["alex again"]) == 2
        assert len(goal_events["sam"]) == 1 and goal_events["sam"][0]["goal"]["text"] == "Walk after work"
        for name in ("jordan", "robin", "kim"):
            assert goal_events[name] == [], name
        for name in ("sam", "jordan", "robin", "kim"):
            everything = goal_texts(received[name])
            assert "Call my sister" not in everything and "Called twice" not in everything, name
        for name in ("alex", "alex again", "jordan", "robin", "kim"):
            assert "Walk after work" not in goal_texts(received[name]), name
    finally:
        await e2e.close_all(clients.values())
    e2e.assert_no_traceback(server.log_text())
