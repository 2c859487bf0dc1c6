"""Toggling and churn are limited (issue 22, class 5; docs/protocol.md).

120 hand.raise/hand.lower frames sent 240 events to everyone; 30 connect/close cycles sent
29 joins and 29 leaves; one patient held 30 sockets; a guest reconnecting in the lobby
sent an invite.updated and a lobby.waiting each time. Now: at most 10 hand toggles per
participant in 10 s (a pure rule, counted in the database, facilitators exempt), at most
5 open sockets per participant per session (the sixth closed with 4429, leaving nothing),
and presence debounced: a reconnect within the absence grace period announces nothing,
a real departure is announced once, by the hub's departures duty, when the grace has passed.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from facilitator.actions.floor_queue import do_lower_hand, do_raise_hand
from facilitator.models import Attendance
from rooms.actions.presence import DEPARTURES, MAX_CONNECTIONS_PER_PARTICIPANT
from rooms.errors import ActionError
from rooms.hub import get_hub
from rooms.models import Connection, ParticipantRole
from rooms.rules import HAND_TOGGLE_LIMIT, HAND_TOGGLE_WINDOW_SECONDS, hand_toggle_refusal, toggles_kept
from tests import e2e
from tests.conftest import after_the_grace, connect_all, participant, pid
from tests.guests_support import ainvite_and_redeem

START = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


# ---------------------------------------------------------------- the hand rule


def run_rule(role: str, offsets: list[float]) -> list[bool]:
    """Each attempt at START + offset seconds: accepted or refused, the accepted ones stored as the action does."""
    stored: list[datetime] = []
    accepted = []
    for offset in sorted(offsets):
        now = START + timedelta(seconds=offset)
        refused = hand_toggle_refusal(role, stored, now)
        accepted.append(refused is None)
        if refused is None and role != ParticipantRole.FACILITATOR:
            stored = toggles_kept(stored, now)
    return accepted


# Bursts a script would send: all at once, evenly, at the window's edges, slowly.
BURSTS = [
    [0.0] * 120,
    [i * 0.01 for i in range(120)],
    [i * 0.5 for i in range(40)],
    [i * 0.99 for i in range(40)],
    [i * 1.0 for i in range(40)],
    [9.999] * 11 + [19.998] * 11,
    [0.0] * 10 + [9.99, 10.0, 10.01],
    [i * 10.0 for i in range(12)],
]


@pytest.mark.parametrize("offsets", BURSTS, ids=range(len(BURSTS)))
def test_no_window_ever_holds_more_than_the_limit_of_a_patients_toggles(offsets):
    times = sorted(offsets)
    accepted = [t for t, ok in zip(times, run_rule(ParticipantRole.PATIENT, times), strict=True) if ok]
    for start in accepted:
        in_window = [t for t in accepted if start <= t < start + HAND_TOGGLE_WINDOW_SECONDS]
        assert len(in_window) <= HAND_TOGGLE_LIMIT
    assert len(accepted) >= min(len(times), HAND_TOGGLE_LIMIT)


@given(st.lists(st.floats(min_value=0, max_value=60, allow_nan=False), max_size=80))
def test_the_hand_rule_allows_exactly_the_limit_per_window(offsets):
    times = sorted(offsets)
    verdicts = run_rule(ParticipantRole.GUEST, times)
    accepted: list[float] = []
    for at, ok in zip(times, verdicts, strict=True):
        recent = [t for t in accepted if t > at - HAND_TOGGLE_WINDOW_SECONDS]
        assert ok == (len(recent) < HAND_TOGGLE_LIMIT)
        if ok:
            accepted.append(at)


def test_facilitators_are_exempt():
    assert all(run_rule(ParticipantRole.FACILITATOR, [0.0] * 100))


# ---------------------------------------------------------------- the hand rule in the actions


@pytest.mark.django_db
def test_the_eleventh_toggle_is_rate_limited_whichever_worker_and_frame(live_group, alex, dana):
    alex_id, dana_id = participant(live_group, alex).pk, participant(live_group, dana).pk
    now = timezone.now()
    for i in range(HAND_TOGGLE_LIMIT):  # raise and lower alternately, as two workers' frames would land
        (do_raise_hand if i % 2 == 0 else do_lower_hand)(live_group.pk, alex_id, now + timedelta(seconds=i * 0.5))
    for toggle in (do_raise_hand, do_lower_hand):
        with pytest.raises(ActionError) as refused:
            toggle(live_group.pk, alex_id, now + timedelta(seconds=6))
        assert refused.value.code == "rate_limited"
        retry_after = refused.value.extra["retry_after"]
        assert isinstance(retry_after, float) and 0 < retry_after <= HAND_TOGGLE_WINDOW_SECONDS
    do_raise_hand(live_group.pk, alex_id, now + timedelta(seconds=10.01))  # the first one left the window
    for i in range(3 * HAND_TOGGLE_LIMIT):
        (do_raise_hand if i % 2 == 0 else do_lower_hand)(live_group.pk, dana_id, now)


@pytest.mark.django_db(transaction=True)
async def test_a_burst_of_hand_frames_reaches_the_room_at_most_ten_times(connect, live_group, dana, alex, sam):
    _, alex_peer, sam_peer = await connect_all(connect, live_group, dana, alex, sam)
    codes = []
    for i in range(60):
        reply = await alex_peer.request("hand.raise" if i % 2 == 0 else "hand.lower")
        codes.append(reply.get("code", reply["type"]))
    assert codes[:HAND_TOGGLE_LIMIT] == ["ack"] * HAND_TOGGLE_LIMIT
    assert set(codes[HAND_TOGGLE_LIMIT:]) == {"rate_limited"}
    queue_events = [f for f in await sam_peer.drain() if f["type"] == "queue.updated"]
    assert len(queue_events) <= HAND_TOGGLE_LIMIT


# ---------------------------------------------------------------- five sockets at most


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("extra", [1, 3])
async def test_a_sixth_socket_is_closed_with_4429_and_leaves_nothing(connect, live_group, dana, alex, extra):
    dana_peer, _ = await connect(dana, live_group.pk)
    tabs = []
    for _ in range(MAX_CONNECTIONS_PER_PARTICIPANT):
        tab, closed = await connect(alex, live_group.pk)
        assert closed is None
        tabs.append(tab)
    alex_id = await pid(live_group, alex)
    for _ in range(extra):
        _, closed = await connect(alex, live_group.pk)
        assert closed == 4429
    assert await Connection.objects.filter(participant_id=alex_id).acount() == MAX_CONNECTIONS_PER_PARTICIPANT
    assert await Attendance.objects.filter(participant_id=alex_id, left_at__isnull=True).acount() == 1
    joins = [f for f in await dana_peer.drain() if f["type"] == "participant.joined"]
    assert len(joins) == 1
    await tabs[0].close()
    _, closed = await connect(alex, live_group.pk)  # a freed place can be taken again
    assert closed is None


# ---------------------------------------------------------------- debounced presence


@pytest.mark.django_db(transaction=True)
async def test_a_reconnect_within_the_grace_announces_nothing_and_a_departure_is_announced_once(
    connect, live_group, dana, alex
):
    dana_peer, _ = await connect(dana, live_group.pk)
    alex_peer, _ = await connect(alex, live_group.pk)
    assert [f["type"] for f in await dana_peer.drain()] == ["participant.joined"]
    for _ in range(30):
        await alex_peer.close()
        alex_peer, _ = await connect(alex, live_group.pk)
    assert [f["type"] for f in await dana_peer.drain() if f["type"].startswith("participant.")] == []
    await alex_peer.close()
    await get_hub().run_duties([DEPARTURES], timezone.now())  # within the grace: not due yet
    assert await dana_peer.nothing_more()
    await after_the_grace()
    left = await dana_peer.receive_type("participant.left")
    assert left["participant_id"] == await pid(live_group, alex)
    await after_the_grace()  # announced once
    assert await dana_peer.nothing_more()
    _, closed = await connect(alex, live_group.pk)  # after an announced departure, a return is announced
    assert closed is None
    joined = await dana_peer.receive_type("participant.joined")
    assert joined["participant"]["participant_id"] == left["participant_id"]


@pytest.mark.django_db(transaction=True)
async def test_a_guest_reconnecting_in_the_lobby_is_announced_once(connect, live_group, dana, alex):
    dana_peer, alex_peer = await connect_all(connect, live_group, dana, alex)
    _, redeemed, _ = await ainvite_and_redeem(live_group, alex, "Maria", "spouse")
    await dana_peer.drain()
    await alex_peer.drain()
    guest_peer, _ = await connect(redeemed.cookie, live_group.pk)
    first = [f["type"] for f in await dana_peer.drain()]
    assert first.count("lobby.waiting") == 1 and first.count("invite.updated") == 1
    assert [f["type"] for f in await alex_peer.drain()] == ["invite.updated"]
    for _ in range(10):
        await guest_peer.close()
        guest_peer, _ = await connect(redeemed.cookie, live_group.pk)
    assert await dana_peer.drain() == []
    assert await alex_peer.drain() == []
    await guest_peer.close()
    await after_the_grace()
    gone = [f["type"] for f in await dana_peer.drain()]
    assert gone.count("participant.left") == 1 and gone.count("invite.updated") == 1


# ---------------------------------------------------------------- over a real server

database = e2e.sqlite_db
daphne = e2e.daphne


@pytest.mark.e2e
@pytest.mark.slow
async def test_a_real_server_limits_sockets_and_churn(database, daphne):
    env = e2e.server_env(database, ABSENCE_GRACE_SECONDS="2")
    clinic = e2e.provision(env, facilitator="dana", patients=["alex"], title="Churn")
    server = daphne(env, name="daphne-churn")
    cookies = await asyncio.to_thread(e2e.login_all, server.base_url, ["dana", "alex"])
    lead = await e2e.ws_connect(server.base_url, clinic.session_id, cookies["dana"], name="dana")
    tabs = [
        await e2e.ws_connect(server.base_url, clinic.session_id, cookies["alex"], name=f"alex-{i}") for i in range(30)
    ]
    assert [tab.close_code for tab in tabs[:MAX_CONNECTIONS_PER_PARTICIPANT]] == [None] * 5
    assert {tab.close_code for tab in tabs[MAX_CONNECTIONS_PER_PARTICIPANT:]} == {4429}
    await e2e.close_all(tabs)
    for i in range(30):  # connect/close cycles, each back within the grace
        tab = await e2e.ws_connect(server.base_url, clinic.session_id, cookies["alex"], name=f"cycle-{i}")
        assert tab.close_code is None
        await tab.close()
    await lead.receive_type("participant.left", timeout=10)
    await asyncio.sleep(float(env["ABSENCE_GRACE_SECONDS"]) + 1)
    with pytest.raises(TimeoutError):
        await lead.receive_type("participant.joined", timeout=0.5)
    seen = [f["type"] for f in lead.frames if f["type"].startswith("participant.")]
    assert seen == ["participant.joined", "participant.left"], seen
    await lead.close()
    e2e.assert_no_traceback(server.log_text())
