"""Connecting: authentication, origin, close codes, session.state."""

import pytest

from rooms.models import GroupSession
from tests.conftest import after_the_grace, pid

pytestmark = pytest.mark.django_db(transaction=True)


async def test_member_on_roster_gets_session_state(connect, group, alex):
    peer, closed = await connect(alex, group.pk)
    assert closed is None
    state = peer.state
    assert state["type"] == "session.state"
    assert state["session"]["id"] == group.pk
    assert state["session"]["status"] == "scheduled"
    assert state["session"]["mode"] == "moderated"
    assert state["me"]["display_name"] == "Alex"
    assert state["me"]["role"] == "patient"
    assert [p["display_name"] for p in state["participants"]] == ["Dana", "Alex", "Sam", "Jordan", "Riley"]
    assert state["floor"] == {"holder": None, "expires_at": None}
    assert state["queue"] == [] and state["messages"] == [] and state["prompt"] is None


async def test_anonymous_is_closed_4401(connect, group):
    _, closed = await connect(None, group.pk)
    assert closed == 4401


async def test_not_on_roster_is_closed_4403(connect, group, outsider):
    _, closed = await connect(outsider, group.pk)
    assert closed == 4403


async def test_unknown_session_is_closed_4404(connect, group, alex):
    _, closed = await connect(alex, group.pk + 1000)
    assert closed == 4404


async def test_ended_session_is_closed_4410(connect, group, alex):
    await GroupSession.objects.filter(pk=group.pk).aupdate(status="ended")
    _, closed = await connect(alex, group.pk)
    assert closed == 4410


@pytest.mark.parametrize("origin", ["http://evil.example", "http://localhost.evil.example", "null", "file://"])
async def test_foreign_origin_is_refused(connect, group, alex, origin):
    _, closed = await connect(alex, group.pk, origin=origin)
    assert closed == 403


async def test_other_patients_never_see_usernames(connect, group, alex, sam):
    peer, _ = await connect(alex, group.pk)
    text = str(peer.state)
    assert "sam" not in text.replace("Sam", "") and "dana" not in text.replace("Dana", "")


async def test_presence_joined_and_left_across_tabs(connect, group, alex, sam):
    alex_peer, _ = await connect(alex, group.pk)
    sam_tab1, _ = await connect(sam, group.pk)
    joined = await alex_peer.receive_type("participant.joined")
    assert joined["participant"]["participant_id"] == await pid(group, sam)
    assert joined["participant"]["online"] is True
    assert await sam_tab1.nothing_more(), "his own session.state shows him online: his arrival is not sent to him"
    sam_tab2, _ = await connect(sam, group.pk)
    assert await alex_peer.nothing_more(), "a second tab is not a second arrival"
    await sam_tab1.close()
    assert await alex_peer.nothing_more(), "Sam is still online in the other tab"
    await sam_tab2.close()
    assert await alex_peer.nothing_more(), "debounced: he may be back within the grace period"
    await after_the_grace()
    left = await alex_peer.receive_type("participant.left")
    assert left["participant_id"] == await pid(group, sam)
