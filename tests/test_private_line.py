"""The private line: patient -> facilitators (chat.send to) and facilitator -> one participant (private.send).

Nobody else receives either, live or in session.state / ?since=; both are audited without their text.
"""

import asyncio

import pytest
from asgiref.sync import sync_to_async

from rooms.actions.lifecycle import do_schedule_session
from rooms.models import AuditEntry, GroupSession
from tests.conftest import pid
from tests.moderation_support import add_cofacilitator, collect, guest_cookie, make_guest

pytestmark = pytest.mark.django_db(transaction=True)


async def full_room(connect, session, dana, alex, sam):
    """Dana and Morgan facilitate; Alex, Sam and Sam's admitted guest are in. Moderated mode: nobody has the floor."""
    morgan = await sync_to_async(add_cofacilitator)(session)
    guest = await sync_to_async(make_guest)(session, sam)
    cookie = await sync_to_async(guest_cookie)(guest)
    who = {"dana": dana, "morgan": morgan, "alex": alex, "sam": sam, "guest": cookie}
    peers = {name: (await connect(member, session.pk))[0] for name, member in who.items()}
    await everything(peers, 0.3)  # arrivals
    return who, peers


async def everything(peers, seconds=0.8):
    frames = await asyncio.gather(*(collect(peer, seconds) for peer in peers.values()))
    return {name: [f for f in got if f["type"] == "chat.message"] for name, got in zip(peers, frames, strict=True)}


async def test_patient_writes_to_the_facilitators_only(connect, live_group, dana, alex, sam):
    who, peers = await full_room(connect, live_group, dana, alex, sam)
    alex_id = await pid(live_group, alex)
    await peers["alex"].send(type="chat.send", text="I'm struggling today, can we talk after?", to="facilitators")
    got = await everything(peers)
    for name in ("dana", "morgan", "alex"):
        assert len(got[name]) == 1, name
        message = got[name][0]
        assert message["text"] == "I'm struggling today, can we talk after?"
        assert message["audience"] == "facilitators" and message["participant_id"] == alex_id
        assert message["recipient_id"] is None
    assert got["sam"] == [] and got["guest"] == []

    # Not in anyone else's session.state or ?since= either.
    for name in ("dana", "morgan", "alex"):
        for since in (None, 0):
            peer, _ = await connect(who[name], live_group.pk, since=since)
            assert [m["audience"] for m in peer.state["messages"]] == ["facilitators"], name
    for name in ("sam", "guest"):
        for since in (None, 0):
            peer, _ = await connect(who[name], live_group.pk, since=since)
            assert peer.state["messages"] == [], name

    entry = await AuditEntry.objects.aget(action="private.to_facilitators")
    assert entry.actor_id == alex_id and entry.target_id is None and entry.message_seq == 1
    assert "struggling" not in f"{entry.removed_text}{entry.reason}{entry.detail}"


async def test_facilitator_writes_to_one_participant_only(connect, live_group, dana, alex, sam):
    who, peers = await full_room(connect, live_group, dana, alex, sam)
    alex_id, dana_id = await pid(live_group, alex), await pid(live_group, dana)
    reply = await peers["dana"].request("private.send", participant_id=alex_id, text="Alex, stay a minute after group?")
    assert reply["type"] == "ack"
    got = await everything(peers)
    assert [m["text"] for m in got["alex"]] == ["Alex, stay a minute after group?"]
    assert got["alex"][0]["audience"] == "private" and got["alex"][0]["recipient_id"] == alex_id
    assert got["alex"][0]["participant_id"] == dana_id
    for name in ("morgan", "sam", "guest"):
        assert got[name] == [], name

    for name, expected in (("alex", 1), ("dana", 1), ("morgan", 0), ("sam", 0), ("guest", 0)):
        for since in (None, 0):
            peer, _ = await connect(who[name], live_group.pk, since=since)
            assert len(peer.state["messages"]) == expected, name

    entry = await AuditEntry.objects.aget(action="private.send")
    assert entry.actor_id == dana_id and entry.target_id == alex_id and entry.message_seq == reply["seq"]
    assert entry.target_label == "Alex (patient)"
    assert "stay a minute" not in f"{entry.removed_text}{entry.reason}{entry.detail}"


async def test_a_facilitators_note_to_the_facilitators_never_reaches_the_room(connect, live_group, dana, alex, sam):
    _, peers = await full_room(connect, live_group, dana, alex, sam)
    await peers["dana"].send(type="chat.send", text="Watch Alex today, rough week", to="facilitators")
    got = await everything(peers)
    assert [m["audience"] for m in got["morgan"]] == ["facilitators"]
    for name in ("alex", "sam", "guest"):
        assert got[name] == [], name


async def test_private_line_needs_no_floor_but_private_send_is_for_facilitators(connect, live_group, dana, alex, sam):
    dana_peer, _ = await connect(dana, live_group.pk)
    alex_peer, _ = await connect(alex, live_group.pk)
    sam_id, dana_id = await pid(live_group, sam), await pid(live_group, dana)
    # Moderated and nobody holds the floor: the room is closed to Alex, the line to the facilitators is not.
    assert (await alex_peer.request("chat.send", text="hello room"))["code"] == "no_floor"
    assert (await alex_peer.request("chat.send", text="hello Dana", to="facilitators"))["type"] == "ack"
    assert (await alex_peer.request("private.send", participant_id=sam_id, text="psst"))["code"] == "not_allowed"
    assert (await dana_peer.request("private.send", participant_id=dana_id, text="me"))["code"] == "invalid"
    assert (await dana_peer.request("private.send", participant_id=999_999, text="?"))["code"] == "not_found"
    assert (await dana_peer.request("private.send", participant_id=sam_id, text="   "))["code"] == "invalid"
    assert (await alex_peer.request("chat.send", text="x", to="everyone"))["code"] == "invalid"


async def test_private_send_cannot_reach_someone_in_another_session(connect, live_group, dana, alex, outsider):
    other = await sync_to_async(do_schedule_session)(
        title="Other", facilitator="dana", patients=["casey"], starts_at=live_group.starts_at
    )
    await GroupSession.objects.filter(pk=other.pk).aupdate(status="live")
    dana_peer, _ = await connect(dana, live_group.pk)
    casey_id = await pid(other, outsider)
    assert (await dana_peer.request("private.send", participant_id=casey_id, text="hi"))["code"] == "not_found"


async def test_private_send_to_a_guest_in_the_lobby_is_refused(connect, live_group, dana, alex):
    from tests.facilitation_support import make_guest as make_lobby_guest

    guest_id, cookie = await sync_to_async(make_lobby_guest)(live_group, admitted=False)
    guest_peer, closed = await connect(cookie, live_group.pk)
    assert closed is None
    dana_peer, _ = await connect(dana, live_group.pk)
    reply = await dana_peer.request("private.send", participant_id=guest_id, text="Are you comfortable joining?")
    assert reply["type"] == "error" and reply["code"] == "not_admitted"
    assert await guest_peer.nothing_more(0.5), "the lobby hears nothing of the room"
