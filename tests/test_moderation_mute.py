"""participant.mute / unmute: refusals, queue and floor, the timed mute lapsing by itself."""

from datetime import timedelta

import pytest
from django.utils import timezone

from moderation.actions import MUTE_LAPSE, do_expire_due_mutes, do_mute
from rooms.hub import get_hub
from rooms.models import AuditEntry, GroupSession, Participant
from tests.conftest import connect_all, participant, pid, set_room
from tests.moderation_support import collect

pytestmark = pytest.mark.django_db(transaction=True)


async def test_mute_is_heard_by_everyone_and_refuses_chat_and_hand(connect, live_group, dana, alex, sam):
    await set_room(live_group, mode="open")
    dana_peer, alex_peer, sam_peer = await connect_all(connect, live_group, dana, alex, sam)
    alex_id = await pid(live_group, alex)

    reply, seen = await dana_peer.request_with_events("participant.mute", participant_id=alex_id)
    assert reply["type"] == "ack"
    for peer in (dana_peer, alex_peer, sam_peer):
        update = await peer.event("participant.updated", seen if peer is dana_peer else None)
        assert update["participant"]["participant_id"] == alex_id
        assert update["participant"]["muted"] is True

    assert (await alex_peer.request("chat.send", text="can I say something"))["code"] == "muted"
    assert (await alex_peer.request("hand.raise"))["code"] == "muted"
    assert (await sam_peer.request("chat.send", text="I can still talk"))["type"] == "ack"
    # A refused message reaches nobody: Sam's is the only one stored.
    fresh, _ = await connect(sam, live_group.pk)
    assert [m["text"] for m in fresh.state["messages"]] == ["I can still talk"]
    assert next(p for p in fresh.state["participants"] if p["participant_id"] == alex_id)["muted"] is True

    assert (await dana_peer.request("participant.unmute", participant_id=alex_id))["type"] == "ack"
    update = await sam_peer.receive_type("participant.updated")
    assert update["participant"]["participant_id"] == alex_id and update["participant"]["muted"] is False
    assert (await alex_peer.request("chat.send", text="thanks"))["type"] == "ack"


async def test_muting_takes_them_out_of_the_queue(connect, live_group, dana, alex, sam):
    dana_peer, alex_peer, sam_peer = await connect_all(connect, live_group, dana, alex, sam)
    alex_id, sam_id = await pid(live_group, alex), await pid(live_group, sam)
    await alex_peer.request("hand.raise")
    await sam_peer.request("hand.raise")
    assert (await dana_peer.receive_type("queue.updated"))["queue"] == [alex_id]
    assert (await dana_peer.receive_type("queue.updated"))["queue"] == [alex_id, sam_id]
    await collect(sam_peer, 0.3)  # whatever of the raises Sam has not read yet

    _, seen = await dana_peer.request_with_events("participant.mute", participant_id=alex_id)
    assert (await dana_peer.event("queue.updated", seen))["queue"] == [sam_id]
    assert (await sam_peer.receive_type("queue.updated"))["queue"] == [sam_id]
    refreshed = await Participant.objects.aget(pk=alex_id)
    assert refreshed.hand_raised_at is None


async def test_muting_the_floor_holder_takes_the_floor(connect, live_group, dana, alex, sam):
    dana_peer, alex_peer, sam_peer = await connect_all(connect, live_group, dana, alex, sam)
    alex_id = await pid(live_group, alex)
    await dana_peer.request("floor.grant", participant_id=alex_id)
    assert (await sam_peer.receive_type("floor.changed"))["holder"] == alex_id
    assert (await alex_peer.receive_type("floor.changed"))["holder"] == alex_id

    await dana_peer.request("participant.mute", participant_id=alex_id)
    for peer in (sam_peer, alex_peer):
        changed = await peer.receive_type("floor.changed")
        assert changed["holder"] is None and changed["expires_at"] is None
        assert changed.get("reason") == "muted"
    assert (await alex_peer.request("chat.send", text="still mine?"))["code"] == "muted"
    # And a muted person cannot be given the floor until unmuted.
    assert (await dana_peer.request("floor.grant", participant_id=alex_id))["code"] == "muted"


async def test_only_facilitators_mute_and_facilitators_cannot_be_muted(connect, live_group, dana, alex, sam):
    dana_peer, alex_peer = await connect_all(connect, live_group, dana, alex)
    sam_id, dana_id = await pid(live_group, sam), await pid(live_group, dana)
    assert (await alex_peer.request("participant.mute", participant_id=sam_id))["code"] == "not_allowed"
    assert (await alex_peer.request("participant.unmute", participant_id=sam_id))["code"] == "not_allowed"
    assert (await dana_peer.request("participant.mute", participant_id=dana_id))["code"] == "not_allowed"
    assert (await dana_peer.request("participant.mute", participant_id=999_999))["code"] == "not_found"
    assert (await dana_peer.request("participant.mute", participant_id=sam_id, minutes=0))["code"] == "invalid"
    assert (await dana_peer.request("participant.mute", participant_id=sam_id, minutes=241))["code"] == "invalid"
    assert not await Participant.objects.filter(session=live_group, muted=True).aexists()


async def test_a_timed_mute_lapses_by_itself_and_everyone_hears_it(connect, live_group, dana, alex, sam):
    await set_room(live_group, mode="open")
    dana_peer, alex_peer, sam_peer = await connect_all(connect, live_group, dana, alex, sam)
    alex_id = await pid(live_group, alex)
    before = timezone.now()
    await dana_peer.request("participant.mute", participant_id=alex_id, minutes=1)
    muted = await Participant.objects.aget(pk=alex_id)
    assert muted.muted and muted.muted_until is not None
    assert before + timedelta(seconds=59) <= muted.muted_until <= timezone.now() + timedelta(minutes=1)
    assert (await sam_peer.receive_type("participant.updated"))["participant"]["muted"] is True
    for peer in (dana_peer, alex_peer, sam_peer):
        await collect(peer, 0.3)  # the mute's own events

    # A minute passes, on the clock the test gives the hub's mute-lapse duty: it lifts the mute.
    await get_hub().run_duties([MUTE_LAPSE], muted.muted_until)
    for peer in (dana_peer, alex_peer, sam_peer):
        update = await peer.receive_type("participant.updated", timeout=3)
        assert update["participant"]["participant_id"] == alex_id
        assert update["participant"]["muted"] is False
    assert (await alex_peer.request("chat.send", text="back again"))["type"] == "ack"
    lapsed = await AuditEntry.objects.aget(action="participant.unmute", target_id=alex_id)
    assert lapsed.actor_id is None and lapsed.actor_label == "system" and lapsed.reason == "timed mute lapsed"


def test_the_sweep_lifts_only_due_mutes_and_only_once(group, dana, alex, sam, jordan):
    now = timezone.now()
    dana_id = participant(group, dana).pk
    do_mute(group.pk, dana_id, participant(group, alex).pk, 5, now)
    do_mute(group.pk, dana_id, participant(group, sam).pk, 10, now)
    do_mute(group.pk, dana_id, participant(group, jordan).pk, None, now)  # until unmuted

    assert do_expire_due_mutes(now + timedelta(minutes=4, seconds=59)) == 0
    assert do_expire_due_mutes(now + timedelta(minutes=5)) == 1
    assert do_expire_due_mutes(now + timedelta(minutes=5)) == 0
    assert do_expire_due_mutes(now + timedelta(days=1)) == 1
    assert set(Participant.objects.filter(session=group, muted=True).values_list("member__username", flat=True)) == {
        "jordan"
    }
    assert AuditEntry.objects.filter(action="participant.mute").count() == 3
    assert AuditEntry.objects.filter(action="participant.unmute", reason="timed mute lapsed").count() == 2


def test_a_lapsed_mute_no_longer_refuses_even_before_the_sweep(live_group, dana, alex):
    """The rule reads muted_until with an explicit now: the sweep only announces it."""
    from rooms.actions.chat import do_send_chat

    GroupSession.objects.filter(pk=live_group.pk).update(mode="open")
    now = timezone.now()
    alex_id = participant(live_group, alex).pk
    do_mute(live_group.pk, participant(live_group, dana).pk, alex_id, 1, now)
    from rooms.errors import ActionError

    with pytest.raises(ActionError) as refused:
        do_send_chat(live_group.pk, alex_id, "hello", now + timedelta(seconds=30))
    assert refused.value.code == "muted"
    assert do_send_chat(live_group.pk, alex_id, "hello", now + timedelta(seconds=61)).seq == 1


