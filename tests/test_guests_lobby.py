"""The lobby: waiting guests, admit, deny, lobby.return, lobby.say; guests chat only with the floor."""

from __future__ import annotations

import pytest

from rooms.models import GroupSession, GuestAdmission, Participant
from tests.conftest import connect_all, pid, set_room
from tests.guests_support import ainvite_and_redeem

pytestmark = pytest.mark.django_db(transaction=True)


async def guest_in_lobby(connect, session, patient, name="Maria", relationship="spouse"):
    _, redeemed, guest = await ainvite_and_redeem(session, patient, name, relationship)
    peer, closed = await connect(redeemed.cookie, session.pk)
    assert closed is None
    return peer, guest, redeemed


async def test_waiting_guest_gets_a_lobby_state_and_facilitators_get_lobby_waiting(
    connect, live_group, dana, alex, sam
):
    dana_peer, sam_peer = await connect_all(connect, live_group, dana, sam)
    await dana_peer.request("chat.send", text="Said before any guest came")
    await sam_peer.receive_type("chat.message")
    guest_peer, guest, _ = await guest_in_lobby(connect, live_group, alex)

    state = guest_peer.state
    assert state["type"] == "session.state"
    assert state["messages"] == []
    assert state["me"]["admitted"] is False and state["me"]["role"] == "guest"
    assert state["me"]["guest_of"] == await pid(live_group, alex)
    # Who attends is confidential: a guest in the lobby sees only themselves and the facilitators.
    assert {p["display_name"] for p in state["participants"]} == {"Dana", "Maria"}
    assert state["invites"] is None and state["crisis_resources"] is None

    waiting = await dana_peer.receive_type("lobby.waiting")
    shown = waiting["participant"]
    assert shown["participant_id"] == guest.pk
    assert shown["display_name"] == "Maria" and shown["relationship"] == "spouse"
    assert shown["guest_of"] == await pid(live_group, alex) and shown["guest_of_name"] == "Alex"
    assert shown["label"] == "Maria (family of Alex)"
    assert shown["admitted"] is False
    # Patients do not see the lobby.
    assert await sam_peer.nothing_more()


async def test_a_lobby_guest_may_not_raise_a_hand_or_chat(connect, live_group, dana, alex):
    await set_room(live_group, mode="open")
    guest_peer, _, _ = await guest_in_lobby(connect, live_group, alex)
    assert (await guest_peer.request("hand.raise"))["code"] == "not_admitted"
    assert (await guest_peer.request("chat.send", text="hello?"))["code"] == "not_admitted"
    dana_peer, _ = await connect(dana, live_group.pk)
    guest_id = guest_peer.state["me"]["participant_id"]
    assert (await dana_peer.request("floor.grant", participant_id=guest_id))["code"] == "not_admitted"


async def test_admission_sends_a_fresh_state_without_anything_said_before(connect, live_group, dana, alex, sam):
    dana_peer, sam_peer = await connect_all(connect, live_group, dana, sam)
    guest_peer, guest, _ = await guest_in_lobby(connect, live_group, alex)
    await dana_peer.request("chat.send", text="Said while Maria waits")

    reply = await dana_peer.request("lobby.admit", participant_id=guest.pk)
    assert reply["type"] == "ack"
    updated = await guest_peer.receive_type("participant.updated")
    assert updated["participant"]["admitted"] is True
    fresh = await guest_peer.receive_type("session.state")
    assert fresh["me"]["admitted"] is True
    assert fresh["messages"] == []
    names = {p["display_name"] for p in fresh["participants"]}
    assert {"Dana", "Alex", "Sam", "Jordan", "Riley", "Maria"} == names
    # Everyone in the room sees the guest come in.
    seen_by_sam = await sam_peer.receive_type("participant.updated")
    assert seen_by_sam["participant"]["participant_id"] == guest.pk
    assert seen_by_sam["participant"]["admitted"] is True
    assert seen_by_sam["participant"]["label"] == "Maria (family of Alex)"

    await dana_peer.request("chat.send", text="Welcome, Maria")
    message = await guest_peer.receive_type("chat.message")
    assert message["text"] == "Welcome, Maria"
    admission = await GuestAdmission.objects.aget(participant=guest)
    assert admission.until_seq is None and message["seq"] > admission.from_seq


async def test_deny_closes_the_guest_with_4403_for_good(connect, live_group, dana, alex):
    dana_peer, _ = await connect(dana, live_group.pk)
    guest_peer, guest, redeemed = await guest_in_lobby(connect, live_group, alex)
    assert "lobby.waiting" in [f["type"] for f in await dana_peer.drain()]

    reply, seen_by_dana = await dana_peer.request_with_events("lobby.deny", participant_id=guest.pk)
    assert reply["type"] == "ack"
    removed = await guest_peer.receive_type("participant.removed")
    assert removed["participant_id"] == guest.pk
    closing = await guest_peer.communicator.receive_output(timeout=3)
    assert closing == {"type": "websocket.close", "code": 4403}
    _, closed = await connect(redeemed.cookie, live_group.pk)
    assert closed == 4403
    seen_by_dana += await dana_peer.drain()
    assert {"type": "participant.removed", "participant_id": guest.pk} in seen_by_dana
    assert [f["invite"]["state"] for f in seen_by_dana if f["type"] == "invite.updated"] == ["revoked"]


async def test_lobby_return_closes_the_span_and_sends_a_lobby_state(connect, live_group, dana, alex, sam):
    dana_peer, sam_peer = await connect_all(connect, live_group, dana, sam)
    guest_peer, guest, _ = await guest_in_lobby(connect, live_group, alex)
    await dana_peer.request("lobby.admit", participant_id=guest.pk)
    await guest_peer.receive_type("session.state")
    await dana_peer.request("chat.send", text="Maria may see this")
    await guest_peer.receive_type("chat.message")
    await sam_peer.receive_type("chat.message")

    reply, seen_by_dana = await dana_peer.request_with_events("lobby.return", participant_id=guest.pk)
    assert reply["type"] == "ack"
    # The guest: told, then a fresh state with no messages, back in the lobby.
    updated = await guest_peer.receive_type("participant.updated")
    assert updated["participant"]["admitted"] is False
    lobby_state = await guest_peer.receive_type("session.state")
    assert lobby_state["messages"] == [] and lobby_state["me"]["admitted"] is False
    assert {p["display_name"] for p in lobby_state["participants"]} == {"Dana", "Maria"}
    # The room sees them leave it; the facilitators see them waiting again.
    seen_by_sam = await sam_peer.receive_type("participant.updated")
    assert seen_by_sam["participant"]["participant_id"] == guest.pk
    assert seen_by_sam["participant"]["admitted"] is False
    seen_by_dana += await dana_peer.drain()
    waiting = [f["participant"]["participant_id"] for f in seen_by_dana if f["type"] == "lobby.waiting"]
    assert waiting == [guest.pk]
    # The admission span is closed at the room's seq, with the time.
    admission = await GuestAdmission.objects.aget(participant=guest)
    session = await GroupSession.objects.aget(pk=live_group.pk)
    assert admission.until_seq == session.last_seq and admission.returned_at is not None

    # Said while they wait: not delivered.
    await dana_peer.request("chat.send", text="Only for the group")
    await sam_peer.receive_type("chat.message")
    assert await guest_peer.nothing_more()
    assert (await guest_peer.request("chat.send", text="hi"))["code"] == "not_admitted"


async def test_lobby_return_takes_the_guest_off_the_floor_and_out_of_the_queue(connect, live_group, dana, alex):
    dana_peer, _ = await connect(dana, live_group.pk)
    guest_peer, guest, _ = await guest_in_lobby(connect, live_group, alex)
    await dana_peer.request("lobby.admit", participant_id=guest.pk)
    await guest_peer.receive_type("session.state")
    assert (await guest_peer.request("hand.raise"))["type"] == "ack"
    await dana_peer.request("floor.grant", participant_id=guest.pk)
    await dana_peer.request("lobby.return", participant_id=guest.pk)
    session = await GroupSession.objects.aget(pk=live_group.pk)
    row = await Participant.objects.aget(pk=guest.pk)
    assert session.floor_holder_id is None and row.hand_raised_at is None and row.admitted is False


async def test_lobby_say_reaches_only_the_lobby_and_the_facilitators(connect, live_group, dana, alex, sam, jordan):
    dana_peer, sam_peer = await connect_all(connect, live_group, dana, sam)
    waiting_peer, _, _ = await guest_in_lobby(connect, live_group, alex, "Maria")
    inside_peer, inside, _ = await guest_in_lobby(connect, live_group, jordan, "Lee", "parent")
    await dana_peer.request("lobby.admit", participant_id=inside.pk)
    await inside_peer.receive_type("session.state")

    reply, seen = await dana_peer.request_with_events("lobby.say", text="  We'll let you in in five minutes. ")
    assert reply["type"] == "ack" and reply["waiting"] == 1
    note = await waiting_peer.receive_type("lobby.message")
    assert note["text"] == "We'll let you in in five minutes."
    assert note["display_name"] == "Dana" and note["participant_id"] == await pid(live_group, dana)
    own = [f for f in seen if f["type"] == "lobby.message"] or [await dana_peer.receive_type("lobby.message")]
    assert own[0]["text"] == "We'll let you in in five minutes."
    # Nobody inside sees it, not a patient nor an admitted guest: up to a later marker message, no note.
    await dana_peer.request("chat.send", text="marker")
    for peer in (sam_peer, inside_peer):
        while (frame := await peer.receive())["type"] != "chat.message":
            assert frame["type"] != "lobby.message"
        assert frame["text"] == "marker"


async def test_lobby_say_is_for_facilitators_and_checks_its_text(connect, live_group, dana, alex):
    dana_peer, alex_peer = await connect_all(connect, live_group, dana, alex)
    assert (await alex_peer.request("lobby.say", text="let me in"))["code"] == "not_allowed"
    assert (await dana_peer.request("lobby.say", text="   "))["code"] == "invalid"
    assert (await dana_peer.request("lobby.say", text="x" * 501))["code"] == "too_long"
    assert (await dana_peer.request("lobby.say", text="x" * 2001))["code"] == "invalid"


async def test_lobby_frames_from_non_facilitators_are_refused(connect, live_group, dana, alex, sam):
    _, guest, _ = await guest_in_lobby(connect, live_group, alex)
    sam_peer, _ = await connect(sam, live_group.pk)
    for frame_type in ("lobby.admit", "lobby.deny", "lobby.return"):
        assert (await sam_peer.request(frame_type, participant_id=guest.pk))["code"] == "not_allowed"
    dana_peer, _ = await connect(dana, live_group.pk)
    sam_id = await pid(live_group, sam)
    assert (await dana_peer.request("lobby.return", participant_id=sam_id))["code"] == "invalid"
    assert (await dana_peer.request("lobby.admit", participant_id=999_999))["code"] == "not_found"


@pytest.mark.parametrize("mode", ["open", "moderated"])
async def test_guests_chat_only_with_the_floor_in_every_mode(connect, live_group, dana, alex, mode):
    await set_room(live_group, mode=mode)
    dana_peer, alex_peer = await connect_all(connect, live_group, dana, alex)
    guest_peer, guest, _ = await guest_in_lobby(connect, live_group, alex)
    await dana_peer.request("lobby.admit", participant_id=guest.pk)
    await guest_peer.receive_type("session.state")
    assert (await guest_peer.request("chat.send", text="May I?"))["code"] == "no_floor"
    assert (await guest_peer.request("hand.raise"))["type"] == "ack"
    queue = await alex_peer.receive_type("queue.updated")
    assert queue["queue"] == [guest.pk]
    assert (await dana_peer.request("floor.grant", participant_id=guest.pk))["type"] == "ack"
    assert (await guest_peer.request("chat.send", text="I'm proud of you, Alex"))["type"] == "ack"
    message = await alex_peer.receive_type("chat.message")
    assert message["role"] == "guest" and message["display_name"] == "Maria"
    assert message["label"] == "Maria (family of Alex)"


async def test_guests_are_not_in_a_round_and_cannot_chat_in_it(connect, live_group, dana, alex):
    dana_peer, _ = await connect(dana, live_group.pk)
    await connect(alex, live_group.pk)  # online, so the round starts with Alex
    guest_peer, guest, _ = await guest_in_lobby(connect, live_group, alex)
    await dana_peer.request("lobby.admit", participant_id=guest.pk)
    await guest_peer.receive_type("session.state")
    assert (await dana_peer.request("mode.set", mode="round"))["type"] == "ack"
    session = await GroupSession.objects.aget(pk=live_group.pk)
    assert session.floor_holder_id == await pid(live_group, alex)
    assert (await guest_peer.request("chat.send", text="me too"))["code"] == "no_floor"
