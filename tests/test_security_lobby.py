"""A guest in the lobby learns only what the join page told them (issue 22, class 2; docs/protocol.md).

Their `session.state` had the room's topic (a custom prompt may name a patient), the
floor holder, the queue and `removed_message_ids` (with the id of a patient's private
message to the facilitators). Decided in one place each: `rooms.state.lobby_state`
for the state, `rooms.broadcast.is_recipient` for events. Tried: a room with all of
those, a waiting guest connecting with every kind of `since`, every room event a
facilitator and the patients can cause while the guest waits, and hypothesis over
the routing of any envelope.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rooms.broadcast import Envelope, Viewer, is_recipient
from rooms.models import ParticipantRole
from tests import e2e
from tests.conftest import connect_all, pid, set_room
from tests.guests_support import ainvite_and_redeem
from tests.test_security_logs import redeem


async def busy_room(connect, session, dana, alex, sam):
    """A room with a custom topic naming a patient, a floor holder, a queue, messages, a removed private one."""
    await set_room(session, mode="open")
    dana_peer, alex_peer, sam_peer = await connect_all(connect, session, dana, alex, sam)
    await dana_peer.request("prompt.post", category="family", text="Alex, tell us about your sister")
    await alex_peer.request("chat.send", text="Something for the room")
    private = await alex_peer.request("chat.send", text="Only for the facilitators", to="facilitators")
    await sam_peer.request("hand.raise")
    await dana_peer.request("floor.grant", participant_id=await pid(session, alex), seconds=600)
    await dana_peer.request("message.remove", message_id=private["message_id"])
    return dana_peer, alex_peer, sam_peer


def assert_learns_nothing(state, guest_id, facilitator_ids):
    assert state["prompt"] is None
    assert state["messages"] == []
    assert state["floor"] == {"holder": None, "expires_at": None}
    assert state["queue"] == []
    assert state["removed_message_ids"] is None
    assert state["round"] is None and state["agenda"] is None and state["stats"] is None
    assert state["invites"] is None and state["crisis_resources"] is None
    assert {p["participant_id"] for p in state["participants"]} == {guest_id, *facilitator_ids}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("since", [None, 0, 1, 2, 3, 10**6, "x", "²"])
async def test_a_waiting_guests_state_holds_no_topic_floor_queue_or_message_id(
    connect, live_group, dana, alex, sam, since
):
    await busy_room(connect, live_group, dana, alex, sam)
    _, redeemed, guest = await ainvite_and_redeem(live_group, alex, "Maria", "spouse")
    guest_peer, closed = await connect(redeemed.cookie, live_group.pk, since=since)
    assert closed is None
    assert_learns_nothing(guest_peer.state, guest.pk, {await pid(live_group, dana)})


@pytest.mark.django_db(transaction=True)
async def test_a_guest_sent_back_to_the_lobby_learns_nothing_new(connect, live_group, dana, alex, sam):
    dana_peer, _, _ = await busy_room(connect, live_group, dana, alex, sam)
    _, redeemed, guest = await ainvite_and_redeem(live_group, alex, "Maria", "spouse")
    guest_peer, _ = await connect(redeemed.cookie, live_group.pk)
    await dana_peer.request("lobby.admit", participant_id=guest.pk)
    await guest_peer.receive_type("session.state")
    await dana_peer.request("lobby.return", participant_id=guest.pk)
    back = await guest_peer.receive_type("session.state")
    assert_learns_nothing(back, guest.pk, {await pid(live_group, dana)})
    again, _ = await connect(redeemed.cookie, live_group.pk, since=1)
    assert_learns_nothing(again.state, guest.pk, {await pid(live_group, dana)})


@pytest.mark.django_db(transaction=True)
async def test_a_waiting_guest_gets_no_room_event(connect, live_group, dana, alex, sam):
    dana_peer, alex_peer, sam_peer = await connect_all(connect, live_group, dana, alex, sam)
    _, redeemed, guest = await ainvite_and_redeem(live_group, alex, "Maria", "spouse")
    guest_peer, _ = await connect(redeemed.cookie, live_group.pk)
    _, other_redeemed, other_guest = await ainvite_and_redeem(live_group, sam, "Lee", "friend")
    other_peer, _ = await connect(other_redeemed.cookie, live_group.pk)
    alex_id, sam_id = await pid(live_group, alex), await pid(live_group, sam)
    # Everything the room can do while Maria waits.
    await dana_peer.request("mode.set", mode="open")
    await dana_peer.request("prompt.post", category="family", text="Alex, about your sister")
    sent = await alex_peer.request("chat.send", text="For the room")
    private = await alex_peer.request("chat.send", text="For the facilitators", to="facilitators")
    await dana_peer.request("private.send", participant_id=sam_id, text="For Sam")
    await sam_peer.request("hand.raise")
    await sam_peer.request("hand.lower")
    await dana_peer.request("floor.grant", participant_id=alex_id)
    await dana_peer.request("floor.revoke")
    await dana_peer.request("participant.mute", participant_id=sam_id)
    await dana_peer.request("participant.unmute", participant_id=sam_id)
    await dana_peer.request("slowmode.set", seconds=5)
    await dana_peer.request("message.remove", message_id=sent["message_id"])
    await dana_peer.request("message.remove", message_id=private["message_id"])
    await dana_peer.request("lobby.admit", participant_id=other_guest.pk)
    await dana_peer.request("lobby.deny", participant_id=other_guest.pk)
    await dana_peer.request("mode.set", mode="moderated")
    await dana_peer.request("lobby.say", text="A minute, please")
    await other_peer.close()
    await alex_peer.close()
    got = await guest_peer.drain()
    assert [frame["type"] for frame in got] == ["lobby.message"], got
    # Their own admission still reaches them.
    await dana_peer.request("lobby.admit", participant_id=guest.pk)
    assert (await guest_peer.receive_type("session.state"))["me"]["admitted"] is True


LOBBY = Viewer(participant_id=7, role=ParticipantRole.GUEST, admitted=False, visible_after_seq=0)
recipients = st.sampled_from(["everyone", "members", "facilitators", "lobby", "none"])
ids = st.lists(st.integers(min_value=1, max_value=12), max_size=4)


@given(to=recipients, ids=ids, exclude=ids, seq=st.none() | st.integers(min_value=0, max_value=20))
def test_the_lobby_gets_only_what_is_addressed_to_it_to_the_guest_or_to_everyone(to, ids, exclude, seq):
    envelope: Envelope = {
        "type": "room.event", "session_id": 1, "text": "{}", "to": to, "ids": ids, "exclude": exclude, "seq": seq,
        "guests": [7], "effect": None, "effects_for": [],
    }  # fmt: skip
    expected = 7 not in exclude and (to in ("lobby", "everyone") or 7 in ids)
    assert is_recipient(LOBBY, envelope) is expected


# ---------------------------------------------------------------- over a real server

database = e2e.sqlite_db
daphne = e2e.daphne


@pytest.mark.e2e
@pytest.mark.slow
async def test_a_real_servers_lobby_tells_a_guest_nothing_of_the_room(database, daphne):
    env = e2e.server_env(database)
    clinic = e2e.provision(env, facilitator="dana", patients=["alex", "sam"], title="Lobby", allow_guests=True)
    join_path = e2e.invite_guest(env, clinic.session_id, for_patient="alex", name="Pat")
    server = daphne(env, name="daphne-lobby")
    cookies = await asyncio.to_thread(e2e.login_all, server.base_url, ["dana", "alex", "sam"])
    guest_cookie, _ = await asyncio.to_thread(redeem, server.base_url, join_path)
    dana, alex, sam = [
        await e2e.ws_connect(server.base_url, clinic.session_id, cookies[name], name=name) for name in cookies
    ]
    steps: list[tuple[str, dict[str, Any]]] = [
        ("session.start", {}),
        ("mode.set", {"mode": "open"}),
        ("prompt.post", {"category": "family", "text": "Alex, tell us about your sister"}),
    ]
    for frame, fields in steps:
        assert (await dana.request(frame, **fields))["type"] == "ack"
    assert (await alex.request("chat.send", text="For the room"))["type"] == "ack"
    private = await alex.request("chat.send", text="Only for the facilitators", to="facilitators")
    assert (await sam.request("hand.raise"))["type"] == "ack"
    assert (await dana.request("floor.grant", participant_id=alex.participant_id, seconds=600))["type"] == "ack"
    assert (await dana.request("message.remove", message_id=private["message_id"]))["type"] == "ack"
    for since in (None, 0, 2):
        guest = await e2e.ws_connect(server.base_url, clinic.session_id, guest_cookie, since, name="pat")
        assert_learns_nothing(guest.state, guest.participant_id, {dana.participant_id})
        await guest.close()
    guest = await e2e.ws_connect(server.base_url, clinic.session_id, guest_cookie, name="pat")
    assert (await dana.request("prompt.post", category="coping", text="Sam, what helped?"))["type"] == "ack"
    assert (await alex.request("chat.send", text="Said while Pat waits"))["type"] == "ack"
    assert (await dana.request("lobby.say", text="A minute, please"))["type"] == "ack"
    note = await guest.receive_type("lobby.message")
    assert note["text"] == "A minute, please"
    assert [f["type"] for f in guest.frames] == ["lobby.message"], guest.frames
    await e2e.close_all([dana, alex, sam, guest])
    e2e.assert_no_traceback(server.log_text())
