"""A cancelled session over the socket (issue 24): anyone connected hears session.status cancelled and is
closed with 4410; a new socket is refused with 4410. A co-facilitator has the whole console."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from accounts.models import Member
from program.actions import do_cancel_session
from rooms.actions.lifecycle import do_schedule_session
from rooms.models import GroupSession
from tests.conftest import connect_all, make_member

pytestmark = pytest.mark.django_db(transaction=True)


async def test_cancel_closes_everyone_with_4410_and_refuses_new_sockets(connect, group, dana, alex, sam):
    dana_peer, alex_peer = await connect_all(connect, group, dana, alex)
    await sync_to_async(do_cancel_session)(group.pk, "snow", timezone.now())
    for peer in (dana_peer, alex_peer):
        status = await peer.receive_type("session.status")
        assert status["status"] == "cancelled"
        closed = await peer.communicator.receive_output(timeout=3)
        assert closed == {"type": "websocket.close", "code": 4410}
    _, code = await connect(sam, group.pk)
    assert code == 4410
    assert (await GroupSession.objects.aget(pk=group.pk)).status == "cancelled"


async def test_a_co_facilitator_runs_the_session(connect, dana, alex):
    casey: Member = await sync_to_async(make_member)("casey", "facilitator", "Casey")
    session = await sync_to_async(do_schedule_session)(
        title="Group", facilitator="dana", co_facilitators=["casey"], patients=["alex"], starts_at=timezone.now()
    )
    casey_peer, alex_peer = await connect_all(connect, session, casey, alex)
    assert "agenda" in casey_peer.state and casey_peer.state["me"]["role"] == "facilitator"
    assert (await casey_peer.request("session.start"))["type"] == "ack"
    assert (await alex_peer.receive_type("session.status"))["status"] == "live"
    alex_id = alex_peer.state["me"]["participant_id"]
    assert (await casey_peer.request("floor.grant", participant_id=alex_id))["type"] == "ack"
    assert (await casey_peer.request("participant.mute", participant_id=alex_id))["type"] == "ack"
    assert (await casey_peer.request("session.end"))["type"] == "ack"
