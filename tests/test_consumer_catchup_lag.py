"""A message in a connection's session.state is not sent to it again when its event arrives late.

The reconnect storm (bench/storm.py, issue 25 item 3) found it: with the layer seconds behind,
a resumed socket's ?since catch-up held a message whose live event, published before the
state was read, reached the worker's hub after the state was sent; the consumer sent it
again (14 of 150 resumed clients got one seq twice). The hub delivering that event late is
what this test replays, without a slow layer.
"""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from rooms.broadcast import make_envelope
from rooms.hub import get_hub
from rooms.models import Message
from rooms.schemas import ChatMessageEvent
from rooms.serializers import message_out
from tests.conftest import connect_all, set_room

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("since", [None, 0], ids=["first-connection", "resumed"])
async def test_a_late_event_of_a_message_the_state_holds_is_not_sent_again(connect, live_group, dana, alex, since):
    await set_room(live_group, mode="open")
    (dana_peer,) = await connect_all(connect, live_group, dana)
    ack = await dana_peer.request("chat.send", text="said before Alex came back")
    assert ack["type"] == "ack"

    alex_peer, closed = await connect(alex, live_group.pk, since=since)
    assert closed is None
    assert [m["seq"] for m in alex_peer.state["messages"]] == [ack["seq"]]
    await alex_peer.drain()

    message = await Message.objects.select_related("participant").aget(pk=ack["message_id"])
    event = await sync_to_async(message_out)(message, as_event=ChatMessageEvent)
    late = make_envelope(live_group.pk, event, seq=message.seq)
    await get_hub().deliver_local(late)  # the layer brings the event only now
    assert await alex_peer.nothing_more(), "the message is in Alex's session.state: not shown twice"

    # What the state does not hold still arrives live.
    newer = await dana_peer.request("chat.send", text="said after")
    frame = await alex_peer.receive_type("chat.message")
    assert frame["seq"] == newer["seq"] == ack["seq"] + 1
