"""message.remove: a tombstone for everyone, gone from every later session.state and ?since=, kept in the audit."""

import pytest
from django.utils import timezone

from moderation.actions import do_remove_message
from rooms.actions.chat import do_send_chat
from rooms.errors import ActionError
from rooms.models import AuditEntry, GroupSession, Message
from tests.conftest import connect_all, participant, set_room
from tests.moderation_support import guest_cookie, make_guest

pytestmark = pytest.mark.django_db(transaction=True)


async def test_removed_message_is_a_tombstone_for_everyone(connect, live_group, dana, alex, sam):
    await set_room(live_group, mode="open")
    dana_peer, alex_peer, sam_peer = await connect_all(connect, live_group, dana, alex, sam)
    first = await alex_peer.request("chat.send", text="my neighbour Chris Smith at 12 Elm St relapsed")
    await alex_peer.request("chat.send", text="sorry, I should not have said that")
    for peer in (dana_peer, sam_peer):
        await peer.receive_type("chat.message")
        await peer.receive_type("chat.message")

    reply, seen = await dana_peer.request_with_events(
        "message.remove", message_id=first["message_id"], reason="identifies a third party"
    )
    assert reply["type"] == "ack"
    assert (await dana_peer.event("message.removed", seen))["message_id"] == first["message_id"]
    for peer in (alex_peer, sam_peer):
        tombstone = await peer.receive_type("message.removed")
        assert tombstone == {"type": "message.removed", "message_id": first["message_id"]}

    # Gone from every later session.state and ?since=, for every role.
    for who, since in ((sam, None), (sam, 0), (alex, None), (dana, None), (dana, 0)):
        peer, _ = await connect(who, live_group.pk, since=since)
        assert [m["text"] for m in peer.state["messages"]] == ["sorry, I should not have said that"]

    # The audit keeps what was removed, by whom and why.
    entry = await AuditEntry.objects.aget(action="message.remove")
    assert entry.removed_text == "my neighbour Chris Smith at 12 Elm St relapsed"
    assert entry.message_seq == first["seq"]
    assert entry.actor_label == "Dana (facilitator)" and entry.target_label == "Alex (patient)"
    assert entry.reason == "identifies a third party"
    # The row stays (seq is never reused) but is marked removed.
    stored = await Message.objects.aget(pk=first["message_id"])
    assert stored.removed_at is not None


async def test_admitted_guest_gets_the_tombstone_too(connect, live_group, dana, alex):
    await set_room(live_group, mode="open")
    from asgiref.sync import sync_to_async

    guest = await sync_to_async(make_guest)(live_group, alex)
    cookie = await sync_to_async(guest_cookie)(guest)
    guest_peer, code = await connect(cookie, live_group.pk)
    assert code is None
    alex_peer, dana_peer = await connect_all(connect, live_group, alex, dana)
    sent = await alex_peer.request("chat.send", text="something to take back")
    assert (await guest_peer.receive_type("chat.message"))["message_id"] == sent["message_id"]
    await dana_peer.request("message.remove", message_id=sent["message_id"])
    assert (await guest_peer.receive_type("message.removed"))["message_id"] == sent["message_id"]
    again, _ = await connect(cookie, live_group.pk, since=0)
    assert again.state["messages"] == []


async def test_only_facilitators_remove_messages(connect, live_group, dana, alex, sam):
    dana_peer, sam_peer = await connect_all(connect, live_group, dana, sam)
    sent = await dana_peer.request("chat.send", text="Welcome, everyone")
    assert (await sam_peer.request("message.remove", message_id=sent["message_id"]))["code"] == "not_allowed"
    assert (await dana_peer.request("message.remove", message_id=999_999))["code"] == "not_found"
    assert (await dana_peer.request("message.remove", message_id="1"))["code"] == "invalid"
    assert not await AuditEntry.objects.filter(action="message.remove").aexists()
    fresh, _ = await connect(sam, live_group.pk)
    assert [m["text"] for m in fresh.state["messages"]] == ["Welcome, everyone"]


def test_a_message_of_another_session_is_not_found_and_removing_twice_changes_nothing(
    live_group, dana, alex, outsider
):
    from rooms.actions.lifecycle import do_schedule_session

    other = do_schedule_session(
        title="Other group", facilitator="dana", patients=["casey"], starts_at=timezone.now()
    )
    GroupSession.objects.filter(pk=other.pk).update(status="live", mode="open")
    now = timezone.now()
    elsewhere = do_send_chat(other.pk, participant(other, outsider).pk, "in the other room", now)
    dana_here = participant(live_group, dana).pk
    with pytest.raises(ActionError) as refused:
        do_remove_message(live_group.pk, dana_here, elsewhere.pk, None, now)
    assert refused.value.code == "not_found"

    mine = do_send_chat(live_group.pk, dana_here, "note", now)
    do_remove_message(live_group.pk, dana_here, mine.pk, "typo", now)
    do_remove_message(live_group.pk, dana_here, mine.pk, "again", now)
    assert list(AuditEntry.objects.filter(action="message.remove").values_list("reason", flat=True)) == ["typo"]


