"""chat.send: fan-out, ref replies, the limits, seq and ?since=, messages sent at once."""

import asyncio
import threading

import pytest

from rooms import group_commit
from rooms.group_commit import chat_committer
from tests.conftest import connect_all, pid, set_room

pytestmark = pytest.mark.django_db(transaction=True)


async def test_open_mode_chat_reaches_everyone_with_ack(connect, live_group, dana, alex, sam):
    await set_room(live_group, mode="open")
    dana_peer, alex_peer, sam_peer = await connect_all(connect, live_group, dana, alex, sam)
    reply = await alex_peer.request("chat.send", text="I went for a walk instead <b>today</b>")
    assert reply["type"] == "ack"
    assert reply["seq"] == 1
    for peer in (dana_peer, sam_peer):
        message = await peer.receive_type("chat.message")
        assert message["seq"] == 1
        assert message["participant_id"] == await pid(live_group, alex)
        assert message["display_name"] == "Alex" and message["role"] == "patient"
        assert message["text"] == "I went for a walk instead <b>today</b>"
        assert message["html"] == "I went for a walk instead &lt;b&gt;today&lt;/b&gt;"


async def test_moderated_mode_patient_without_floor_gets_no_floor(connect, live_group, alex):
    alex_peer, _ = await connect(alex, live_group.pk)
    reply = await alex_peer.request("chat.send", text="hello")
    assert reply["type"] == "error" and reply["code"] == "no_floor"


async def test_before_live_only_facilitators_chat(connect, group, dana, alex):
    alex_peer, dana_peer = await connect_all(connect, group, alex, dana)
    assert (await alex_peer.request("chat.send", text="hi"))["code"] == "not_live"
    assert (await dana_peer.request("chat.send", text="Welcome, we start soon"))["type"] == "ack"


async def test_reconnect_with_since_gets_everything_after(connect, live_group, dana, alex):
    dana_peer, _ = await connect(dana, live_group.pk)
    for n in range(1, 5):
        await dana_peer.request("chat.send", text=f"note {n}")
    alex_peer, _ = await connect(alex, live_group.pk, since=2)
    assert [m["seq"] for m in alex_peer.state["messages"]] == [3, 4]


async def test_resuming_client_learns_of_messages_removed_while_away(connect, live_group, dana, alex):
    dana_peer, _ = await connect(dana, live_group.pk)
    first = await dana_peer.request("chat.send", text="one")
    await dana_peer.request("chat.send", text="two")
    removed = await dana_peer.request("message.remove", message_id=first["message_id"])
    assert removed["type"] == "ack"
    alex_peer, _ = await connect(alex, live_group.pk, since=2)
    assert alex_peer.state["removed_message_ids"] == [first["message_id"]]
    fresh, _ = await connect(alex, live_group.pk)
    assert fresh.state["removed_message_ids"] is None
    assert [m["text"] for m in fresh.state["messages"]] == ["two"]


async def test_messages_sent_at_once_share_a_transaction_and_reach_everyone_in_order(
    connect, live_group, dana, alex, sam, jordan, monkeypatch
):
    """Four people send at once: the first message is stored alone, the three that arrived
    meanwhile in one batch (rooms.group_commit); every sender gets an ack with its own seq,
    everyone gets all four in seq order."""
    await set_room(live_group, mode="open")
    peers = await connect_all(connect, live_group, dana, alex, sam, jordan)
    batches: list[list[str]] = []
    first_held = threading.Event()
    send_chats = group_commit.do_send_chats

    def held_first(requests):
        batches.append([r.text for r in requests])
        if len(batches) == 1:
            first_held.wait(10)
        return send_chats(requests)

    monkeypatch.setattr(group_commit, "do_send_chats", held_first)
    names = ["dana", "alex", "sam", "jordan"]
    for peer, name in zip(peers, names, strict=True):
        await peer.send(type="chat.send", ref=name, text=f"{name} here")
        if name == "dana":
            while not batches:
                await asyncio.sleep(0.01)
    while len(chat_committer().waiting) < 3:
        await asyncio.sleep(0.01)
    first_held.set()

    acks = {}
    received = {}
    for peer, name in zip(peers, names, strict=True):
        frames: list[dict] = []  # its ack and the four messages, in some order, among other events
        while sum(f["type"] in {"ack", "chat.message"} for f in frames) < 5:
            frames.append(await peer.receive())
        (ack,) = [f for f in frames if f["type"] == "ack"]
        acks[ack["ref"]] = ack["seq"]
        received[name] = [(f["seq"], f["text"]) for f in frames if f["type"] == "chat.message"]
    assert batches == [["dana here"], ["alex here", "sam here", "jordan here"]]
    assert acks == {"dana": 1, "alex": 2, "sam": 3, "jordan": 4}
    expected = [(1, "dana here"), (2, "alex here"), (3, "sam here"), (4, "jordan here")]
    assert all(seen == expected for seen in received.values()), received
