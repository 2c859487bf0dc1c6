"""slowmode.set: each patient waits between messages (retry_after), facilitators are exempt; announced and audited."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from moderation.actions import do_set_slowmode
from rooms.actions.chat import do_send_chat
from rooms.errors import ActionError
from rooms.models import AuditEntry, GroupSession
from tests.conftest import connect_all, participant, set_room

pytestmark = pytest.mark.django_db(transaction=True)


async def test_slow_mode_paces_patients_not_facilitators(connect, live_group, dana, alex, sam):
    await set_room(live_group, mode="open")
    dana_peer, alex_peer, sam_peer = await connect_all(connect, live_group, dana, alex, sam)

    reply, seen = await dana_peer.request_with_events("slowmode.set", seconds=30)
    assert reply["type"] == "ack"
    assert (await dana_peer.event("slowmode.changed", seen)) == {"type": "slowmode.changed", "seconds": 30}
    for peer in (alex_peer, sam_peer):
        assert (await peer.receive_type("slowmode.changed"))["seconds"] == 30

    assert (await alex_peer.request("chat.send", text="first"))["type"] == "ack"
    refused = await alex_peer.request("chat.send", text="second, too soon")
    assert refused["type"] == "error" and refused["code"] == "rate_limited"
    assert 25 < refused["retry_after"] <= 30
    assert (await sam_peer.request("chat.send", text="Sam's own first"))["type"] == "ack"
    for n in range(3):  # facilitators are exempt
        assert (await dana_peer.request("chat.send", text=f"facilitator note {n}"))["type"] == "ack"

    fresh, _ = await connect(sam, live_group.pk)
    assert fresh.state["session"]["slowmode_seconds"] == 30
    assert "second, too soon" not in [m["text"] for m in fresh.state["messages"]]

    assert (await dana_peer.request("slowmode.set", seconds=0))["type"] == "ack"
    assert (await alex_peer.receive_type("slowmode.changed"))["seconds"] == 0
    assert (await alex_peer.request("chat.send", text="now I can"))["type"] == "ack"

    entries = [entry.detail async for entry in AuditEntry.objects.filter(action="slowmode.set").order_by("pk")]
    assert entries == [{"seconds": 30}, {"seconds": 0}]


async def test_only_facilitators_set_slow_mode_and_the_value_is_checked(connect, live_group, dana, alex):
    dana_peer, alex_peer = await connect_all(connect, live_group, dana, alex)
    assert (await alex_peer.request("slowmode.set", seconds=60))["code"] == "not_allowed"
    for bad in (-1, 601, "10", None, 2.5):
        assert (await dana_peer.request("slowmode.set", seconds=bad))["code"] == "invalid"
    assert (await GroupSession.objects.aget(pk=live_group.pk)).slowmode_seconds == 0
    assert not await AuditEntry.objects.filter(action="slowmode.set").aexists()


def slowed_after_a_first_message(session, dana, alex, seconds: int, text: str) -> tuple[int, datetime]:
    """An open room that Dana slows to one message per `seconds` just as Alex says `text`: (Alex's id, that moment)."""
    GroupSession.objects.filter(pk=session.pk).update(mode="open")
    now = timezone.now()
    dana_id, alex_id = participant(session, dana).pk, participant(session, alex).pk
    do_set_slowmode(session.pk, dana_id, seconds, now)
    do_send_chat(session.pk, alex_id, text, now)
    return alex_id, now


def test_the_wait_is_measured_from_the_last_message_with_an_explicit_now(live_group, dana, alex):
    alex_id, now = slowed_after_a_first_message(live_group, dana, alex, 20, "one")
    with pytest.raises(ActionError) as refused:
        do_send_chat(live_group.pk, alex_id, "two", now + timedelta(seconds=19))
    assert refused.value.code == "rate_limited"
    assert refused.value.extra["retry_after"] == pytest.approx(1.0, abs=0.11)
    assert do_send_chat(live_group.pk, alex_id, "two", now + timedelta(seconds=20)).text == "two"


def test_the_private_line_to_the_facilitators_is_not_slowed(live_group, dana, alex):
    """A patient can always reach the facilitators; the ordinary rate limit still applies."""
    alex_id, now = slowed_after_a_first_message(live_group, dana, alex, 60, "to the room")
    message = do_send_chat(live_group.pk, alex_id, "I need help", now + timedelta(seconds=1), to="facilitators")
    assert message.audience == "facilitators"


def test_slow_mode_cannot_be_set_after_the_session_ended(live_group, dana):
    GroupSession.objects.filter(pk=live_group.pk).update(status="ended")
    with pytest.raises(ActionError) as refused:
        do_set_slowmode(live_group.pk, participant(live_group, dana).pk, 30, timezone.now())
    assert refused.value.code == "not_live"
