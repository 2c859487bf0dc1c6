"""participant.remove: everyone is told, the person is closed with 4403 and cannot come back."""

import pytest
from django.test import Client

from rooms.models import AuditEntry, Connection, GroupSession, Participant
from tests.conftest import connect_all, pid
from tests.moderation_support import collect

pytestmark = pytest.mark.django_db(transaction=True)


async def test_removed_participant_is_closed_4403_and_everyone_is_told(connect, live_group, dana, alex, sam):
    dana_peer, alex_peer, alex_tab2, sam_peer = await connect_all(connect, live_group, dana, alex, alex, sam)
    alex_id = await pid(live_group, alex)

    reply, seen = await dana_peer.request_with_events(
        "participant.remove", participant_id=alex_id, reason="shared another member's name"
    )
    assert reply["type"] == "ack"
    assert (await dana_peer.event("participant.removed", seen))["participant_id"] == alex_id
    assert (await sam_peer.receive_type("participant.removed"))["participant_id"] == alex_id
    for tab in (alex_peer, alex_tab2):  # every one of their connections
        assert (await tab.receive_type("participant.removed"))["participant_id"] == alex_id
        assert (await tab.until_close())[1] == 4403

    # They cannot come back, by WebSocket or by the page.
    _, code = await connect(alex, live_group.pk)
    assert code == 4403
    assert not await Connection.objects.filter(participant_id=alex_id).aexists()
    fresh, _ = await connect(sam, live_group.pk)
    assert alex_id not in [p["participant_id"] for p in fresh.state["participants"]]

    entry = await AuditEntry.objects.aget(action="participant.remove")
    assert entry.target_id == alex_id and entry.target_label == "Alex (patient)"
    assert entry.actor_label == "Dana (facilitator)" and entry.reason == "shared another member's name"


def test_removed_participant_gets_403_on_the_room_page(live_group, alex):
    Participant.objects.filter(session=live_group, member=alex).update(removed_at=live_group.started_at)
    client = Client()
    client.force_login(alex)
    assert client.get(f"/sessions/{live_group.pk}/").status_code == 403


async def test_removing_the_floor_holder_and_a_raised_hand_releases_both(connect, live_group, dana, alex, sam):
    dana_peer, alex_peer, sam_peer = await connect_all(connect, live_group, dana, alex, sam)
    alex_id, sam_id = await pid(live_group, alex), await pid(live_group, sam)
    await sam_peer.request("hand.raise")
    await alex_peer.request("hand.raise")
    await dana_peer.request("floor.grant", participant_id=alex_id)
    await collect(sam_peer, 0.3)
    session = await GroupSession.objects.aget(pk=live_group.pk)
    assert session.floor_holder_id == alex_id

    await dana_peer.request("participant.remove", participant_id=alex_id)
    changed = await sam_peer.receive_type("floor.changed")
    assert changed["holder"] is None
    fresh, _ = await connect(dana, live_group.pk)
    assert fresh.state["floor"]["holder"] is None
    assert fresh.state["queue"] == [sam_id]
    assert (await Participant.objects.aget(pk=alex_id)).hand_raised_at is None


async def test_only_facilitators_remove_and_not_themselves(connect, live_group, dana, alex, sam):
    dana_peer, alex_peer = await connect_all(connect, live_group, dana, alex)
    sam_id, dana_id = await pid(live_group, sam), await pid(live_group, dana)
    assert (await alex_peer.request("participant.remove", participant_id=sam_id))["code"] == "not_allowed"
    assert (await dana_peer.request("participant.remove", participant_id=dana_id))["code"] == "invalid"
    assert (await dana_peer.request("participant.remove", participant_id=999_999))["code"] == "not_found"
    assert (await dana_peer.request("participant.remove", participant_id=sam_id, reason="x" * 501))["code"] == "invalid"
    assert not await Participant.objects.filter(session=live_group, removed_at__isnull=False).aexists()
    assert not await AuditEntry.objects.filter(action="participant.remove").aexists()
