"""Facilitation over the room WebSocket (issue 3): hands, floor, timed turns, modes, rounds, prompts, status.

Each test drives the real consumer in-process (WebsocketCommunicator, in-memory layer, the
test loop's hub with its 0.25 s due-timer sweep).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from facilitator.actions.floor_queue import FLOOR_EXPIRY
from rooms.errors import ActionError
from rooms.frames import parse_client_frame
from rooms.hub import get_hub
from rooms.models import GroupSession, Participant, Prompt
from tests import facilitation_support
from tests.conftest import connect_all, pid, set_room
from tests.facilitation_support import ask, frames_for, make_guest, next_of, of_type, parse

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("in_process_layer")]
in_process_layer = facilitation_support.in_process_layer


# ---------------------------------------------------------------- hands


async def test_raise_appends_to_the_queue_twice_changes_nothing_and_lower_leaves(connect, live_group, dana, alex, sam):
    dana_peer, alex_peer, sam_peer = await connect_all(connect, live_group, dana, alex, sam)
    alex_id, sam_id = await pid(live_group, alex), await pid(live_group, sam)

    assert (await ask(alex_peer, "hand.raise"))["type"] == "ack"
    assert (await next_of(dana_peer, "queue.updated"))["queue"] == [alex_id]
    assert (await ask(sam_peer, "hand.raise"))["type"] == "ack"
    for peer in (dana_peer, alex_peer, sam_peer):
        frames = await frames_for(peer)
        assert of_type(frames, "queue.updated")[-1]["queue"] == [alex_id, sam_id]
        updated = of_type(frames, "participant.updated")[-1]["participant"]
        assert (updated["participant_id"], updated["hand_raised"]) == (sam_id, True)

    # Raising twice: acked, nothing broadcast.
    assert (await ask(alex_peer, "hand.raise"))["type"] == "ack"
    assert of_type(await frames_for(dana_peer), "queue.updated") == []

    assert (await ask(alex_peer, "hand.lower"))["type"] == "ack"
    assert (await next_of(dana_peer, "queue.updated"))["queue"] == [sam_id]

    peer, _ = await connect(dana, live_group.pk)
    assert peer.state["queue"] == [sam_id]


async def test_muted_participant_cannot_raise_a_hand(connect, live_group, dana, alex):
    dana_peer, alex_peer = await connect_all(connect, live_group, dana, alex)
    assert (await ask(dana_peer, "participant.mute", participant_id=await pid(live_group, alex)))["type"] == "ack"
    assert (await ask(alex_peer, "hand.raise"))["code"] == "muted"


async def test_hand_clear_lowers_every_hand_at_once(connect, live_group, dana, alex, sam, jordan):
    dana_peer, *patients = await connect_all(connect, live_group, dana, alex, sam, jordan)
    for peer in patients:
        assert (await ask(peer, "hand.raise"))["type"] == "ack"
    reply = await ask(dana_peer, "hand.clear")
    assert reply == {"type": "ack", "ref": reply["ref"], "lowered": 3}
    for peer in patients:
        queues = [f["queue"] for f in of_type(await frames_for(peer), "queue.updated")]
        assert queues[-1] == []
    assert not await Participant.objects.filter(session=live_group, hand_raised_at__isnull=False).aexists()


# ---------------------------------------------------------------- the floor


async def test_grant_takes_them_out_of_the_queue_and_lets_them_speak_in_moderated(connect, live_group, dana, alex, sam):
    dana_peer, alex_peer, sam_peer = await connect_all(connect, live_group, dana, alex, sam)
    alex_id, sam_id = await pid(live_group, alex), await pid(live_group, sam)
    await ask(alex_peer, "hand.raise")
    await ask(sam_peer, "hand.raise")

    assert (await next_of(dana_peer, "queue.updated"))["queue"] == [alex_id]
    assert (await next_of(dana_peer, "queue.updated"))["queue"] == [alex_id, sam_id]

    before = timezone.now()
    assert (await ask(dana_peer, "floor.grant", participant_id=alex_id))["type"] == "ack"
    for peer in (dana_peer, alex_peer, sam_peer):
        frames = await frames_for(peer)
        assert of_type(frames, "queue.updated")[-1]["queue"] == [sam_id], "granting takes them out of the queue"
        (changed,) = of_type(frames, "floor.changed")
        assert changed["holder"] == alex_id
        # seconds defaults to 180
        assert abs((parse(changed["expires_at"]) - before).total_seconds() - 180) < 5
    assert (await ask(alex_peer, "chat.send", text="Thanks, I'd like to share"))["type"] == "ack"
    assert (await ask(sam_peer, "chat.send", text="me too"))["code"] == "no_floor"

    # floor.grant replaces the holder.
    assert (await ask(dana_peer, "floor.grant", participant_id=sam_id, seconds=60))["type"] == "ack"
    assert of_type(await frames_for(alex_peer), "floor.changed")[-1]["holder"] == sam_id
    assert (await ask(alex_peer, "chat.send", text="one more thing"))["code"] == "no_floor"
    assert (await ask(sam_peer, "chat.send", text="my turn"))["type"] == "ack"
    fresh, _ = await connect(dana, live_group.pk)
    assert fresh.state["floor"]["holder"] == sam_id and fresh.state["queue"] == []


async def test_grant_seconds_at_most_900(connect, live_group, dana, alex):
    dana_peer, _ = await connect_all(connect, live_group, dana, alex)
    alex_id = await pid(live_group, alex)
    assert (await ask(dana_peer, "floor.grant", participant_id=alex_id, seconds=901))["code"] == "invalid"
    before = timezone.now()
    assert (await ask(dana_peer, "floor.grant", participant_id=alex_id, seconds=900))["type"] == "ack"
    changed = await next_of(dana_peer, "floor.changed")
    assert abs((parse(changed["expires_at"]) - before).total_seconds() - 900) < 5


async def test_yield_by_holder_revoke_by_facilitator_and_yield_without_floor(connect, live_group, dana, alex, sam):
    dana_peer, alex_peer, sam_peer = await connect_all(connect, live_group, dana, alex, sam)
    alex_id, sam_id = await pid(live_group, alex), await pid(live_group, sam)
    assert (await ask(sam_peer, "floor.yield"))["code"] == "no_floor"

    await ask(dana_peer, "floor.grant", participant_id=alex_id)
    assert (await ask(alex_peer, "floor.yield"))["type"] == "ack"
    frames = of_type(await frames_for(sam_peer), "floor.changed")
    assert [f["holder"] for f in frames] == [alex_id, None]
    assert frames[-1]["expires_at"] is None

    await ask(dana_peer, "floor.grant", participant_id=sam_id)
    assert (await ask(dana_peer, "floor.revoke"))["type"] == "ack"
    frames = of_type(await frames_for(alex_peer), "floor.changed")
    assert [f["holder"] for f in frames] == [alex_id, None, sam_id, None]
    assert (await ask(sam_peer, "chat.send", text="still here?"))["code"] == "no_floor"


async def test_floor_expiry_is_broadcast_once_within_a_second(connect, live_group, dana, alex, sam):
    dana_peer, alex_peer, sam_peer = await connect_all(connect, live_group, dana, alex, sam)
    alex_id = await pid(live_group, alex)
    assert (await ask(dana_peer, "floor.grant", participant_id=alex_id, seconds=1))["type"] == "ack"
    granted = await next_of(sam_peer, "floor.changed")
    expires_at = parse(granted["expires_at"])

    expired = await next_of(sam_peer, "floor.changed", timeout=3)
    heard_at = timezone.now()
    assert expired["holder"] is None and expired["reason"] == "expired"
    assert (heard_at - expires_at).total_seconds() < 1.0
    assert (await ask(alex_peer, "chat.send", text="late"))["code"] == "no_floor"
    # Once: after several more sweeps, nobody has heard a second floor.changed.
    assert [f["holder"] for f in of_type(await frames_for(dana_peer, 1.0), "floor.changed")] == [alex_id, None]
    assert of_type(await frames_for(sam_peer, 0.1), "floor.changed") == []


async def test_versions_order_floor_and_queue_changes(connect, live_group, dana, alex, sam):
    dana_peer, alex_peer, sam_peer = await connect_all(connect, live_group, dana, alex, sam)
    start = dana_peer.state["version"]
    await ask(alex_peer, "hand.raise")
    await ask(sam_peer, "hand.raise")
    await ask(dana_peer, "floor.grant", participant_id=await pid(live_group, alex))
    await ask(alex_peer, "floor.yield")
    frames = [f for f in await frames_for(dana_peer) if f["type"] in {"queue.updated", "floor.changed"}]
    versions = [f["version"] for f in frames]
    assert versions == sorted(versions) and versions[0] > start
    # One transaction, one version: the grant's queue.updated and floor.changed share it.
    grant_queue, grant_floor = frames[2], frames[3]
    assert grant_queue["type"] == "queue.updated" and grant_floor["type"] == "floor.changed"
    assert grant_queue["version"] == grant_floor["version"]
    fresh, _ = await connect(dana, live_group.pk)
    assert fresh.state["version"] == versions[-1]


# ---------------------------------------------------------------- modes


async def test_mode_set_open_and_moderated(connect, live_group, dana, alex, sam):
    dana_peer, alex_peer, sam_peer = await connect_all(connect, live_group, dana, alex, sam)
    assert (await ask(alex_peer, "chat.send", text="hi"))["code"] == "no_floor"
    assert (await ask(dana_peer, "mode.set", mode="open"))["type"] == "ack"
    for peer in (dana_peer, alex_peer, sam_peer):
        assert (await next_of(peer, "mode.changed"))["mode"] == "open"
    assert (await ask(alex_peer, "chat.send", text="hi"))["type"] == "ack"
    assert (await ask(dana_peer, "mode.set", mode="moderated"))["type"] == "ack"
    assert (await next_of(sam_peer, "mode.changed"))["mode"] == "moderated"
    assert (await ask(alex_peer, "chat.send", text="hi again"))["code"] == "no_floor"
    assert (await ask(dana_peer, "mode.set", mode="chaos"))["code"] == "invalid"


async def test_individual_session_defaults_to_open(connect, dana, alex):
    from rooms.actions.lifecycle import do_schedule_session

    session = await database_sync_to_async(do_schedule_session)(
        title="One to one", facilitator="dana", patients=["alex"], kind="individual", starts_at=timezone.now()
    )
    await set_room(session, status="live")
    alex_peer, _ = await connect(alex, session.pk)
    assert alex_peer.state["session"]["mode"] == "open"
    assert (await ask(alex_peer, "chat.send", text="hello"))["type"] == "ack"


# ---------------------------------------------------------------- rounds


async def test_round_over_four_patients_one_offline_one_passing(connect, live_group, dana, alex, sam, jordan, riley):
    """Jordan is offline; Alex passes with floor.yield; Dana skips Sam with round.next; Riley's time runs out."""
    dana_peer, alex_peer, sam_peer, riley_peer = await connect_all(connect, live_group, dana, alex, sam, riley)
    alex_id, sam_id, riley_id = [await pid(live_group, member) for member in (alex, sam, riley)]

    assert (await ask(alex_peer, "chat.send", text="before"))["code"] == "no_floor"
    assert (await ask(dana_peer, "mode.set", mode="round", seconds=120))["type"] == "ack"
    turn = await next_of(riley_peer, "round.turn")
    assert (turn["holder"], turn["next"], turn["how"]) == (alex_id, sam_id, "start")
    assert abs((parse(turn["expires_at"]) - timezone.now()).total_seconds() - 120) < 5
    assert (await ask(alex_peer, "chat.send", text="I'm doing okay"))["type"] == "ack"
    assert (await ask(sam_peer, "chat.send", text="not yet"))["code"] == "no_floor"

    # Alex passes.
    assert (await ask(alex_peer, "floor.yield"))["type"] == "ack"
    turn = await next_of(riley_peer, "round.turn")
    assert (turn["holder"], turn["next"], turn["passed"], turn["how"]) == (sam_id, riley_id, alex_id, "yield")

    # The facilitator skips Sam; Jordan (offline) is skipped too.
    assert (await ask(dana_peer, "round.next"))["type"] == "ack"
    turn = await next_of(riley_peer, "round.turn")
    assert (turn["holder"], turn["next"], turn["passed"], turn["how"]) == (riley_id, None, sam_id, "next")
    fresh, _ = await connect(dana, live_group.pk)
    assert fresh.state["round"] == {"holder": riley_id, "next": None, "seconds": 120}

    # Riley's turn runs out: the round ends, back to moderated with no holder.
    await get_hub().run_duties([FLOOR_EXPIRY], timezone.now() + timedelta(seconds=121))  # the hub's clock, moved on
    frames = await frames_for(alex_peer)
    turns = of_type(frames, "round.turn")
    assert [(t["holder"], t["how"]) for t in turns] == [
        (alex_id, "start"),
        (sam_id, "yield"),
        (riley_id, "next"),
        (None, "end"),
    ]
    assert [f["holder"] for f in of_type(frames, "floor.changed")][-1] is None
    assert [f["mode"] for f in of_type(frames, "mode.changed")][-1] == "moderated"

    # Every turn each client heard, in order: Alex, Sam, Riley, then nobody.
    all_turns = of_type(await frames_for(dana_peer), "round.turn")
    assert [t["holder"] for t in all_turns] == [alex_id, sam_id, riley_id, None]
    session = await GroupSession.objects.aget(pk=live_group.pk)
    assert session.mode == "moderated" and session.floor_holder_id is None
    after, _ = await connect(sam, live_group.pk)
    assert after.state["session"]["mode"] == "moderated" and after.state["floor"]["holder"] is None


async def test_round_with_nobody_online_ends_at_once_and_round_next_needs_a_round(connect, live_group, dana):
    (dana_peer,) = await connect_all(connect, live_group, dana)
    assert (await ask(dana_peer, "round.next"))["code"] == "invalid"
    assert (await ask(dana_peer, "mode.set", mode="round"))["type"] == "ack"
    frames = await frames_for(dana_peer)
    assert [f["mode"] for f in of_type(frames, "mode.changed")] == ["round", "moderated"]
    assert of_type(frames, "round.turn")[-1]["how"] == "end"


async def test_round_needs_a_live_session(connect, group, dana):
    (dana_peer,) = await connect_all(connect, group, dana)
    assert (await ask(dana_peer, "mode.set", mode="round"))["code"] == "not_live"


async def test_revoke_or_grant_during_a_round_ends_it(connect, live_group, dana, alex, sam):
    dana_peer, alex_peer, _ = await connect_all(connect, live_group, dana, alex, sam)
    sam_id = await pid(live_group, sam)
    await ask(dana_peer, "mode.set", mode="round", seconds=60)
    assert (await ask(dana_peer, "floor.grant", participant_id=sam_id))["type"] == "ack"
    frames = await frames_for(alex_peer)
    assert of_type(frames, "mode.changed")[-1]["mode"] == "moderated"
    assert of_type(frames, "round.turn")[-1]["how"] == "granted"
    assert of_type(frames, "floor.changed")[-1]["holder"] == sam_id

    await ask(dana_peer, "mode.set", mode="round", seconds=60)
    assert (await ask(dana_peer, "floor.revoke"))["type"] == "ack"
    frames = await frames_for(alex_peer)
    assert of_type(frames, "round.turn")[-1]["how"] == "revoked"
    assert of_type(frames, "floor.changed")[-1]["holder"] is None
    assert (await GroupSession.objects.aget(pk=live_group.pk)).mode == "moderated"


async def test_muting_the_round_holder_passes_the_turn(connect, live_group, dana, alex, sam):
    dana_peer, alex_peer, _ = await connect_all(connect, live_group, dana, alex, sam)
    alex_id, sam_id = await pid(live_group, alex), await pid(live_group, sam)
    await ask(dana_peer, "mode.set", mode="round", seconds=60)
    assert (await ask(dana_peer, "participant.mute", participant_id=alex_id))["type"] == "ack"
    turn = of_type(await frames_for(alex_peer), "round.turn")[-1]
    assert (turn["holder"], turn["passed"], turn["how"]) == (sam_id, alex_id, "muted")


# ---------------------------------------------------------------- prompts


async def test_prompt_post_by_id_and_custom_pins_it_and_messages_carry_it(connect, live_group, dana, alex):
    library = await Prompt.objects.acreate(category="coping", text="What helped you this week?")
    dana_peer, alex_peer = await connect_all(connect, live_group, dana, alex)
    reply = await ask(dana_peer, "prompt.post", prompt_id=library.pk)
    assert reply["type"] == "ack" and reply["prompt_id"] == library.pk
    posted = await next_of(alex_peer, "prompt.posted")
    # (texts: the prompt in each language, issue 26; this one was written here in English only)
    assert posted["prompt"] == {
        "prompt_id": library.pk, "category": "coping", "text": "What helped you this week?", "texts": {}
    }

    await ask(dana_peer, "mode.set", mode="open")
    ack = await ask(alex_peer, "chat.send", text="Walking helped")
    message = await next_of(dana_peer, "chat.message")
    assert message["message_id"] == ack["message_id"] and message["prompt_id"] == library.pk

    reply = await ask(dana_peer, "prompt.post", category="family", text="Who in your family surprised you?")
    custom_id = reply["prompt_id"]
    assert (await next_of(alex_peer, "prompt.posted"))["prompt"]["category"] == "family"
    fresh, _ = await connect(alex, live_group.pk)
    assert fresh.state["prompt"]["prompt_id"] == custom_id
    assert [m["prompt_id"] for m in fresh.state["messages"]] == [library.pk]

    assert (await ask(dana_peer, "prompt.post", prompt_id=999_999))["code"] == "not_found"
    assert (await ask(dana_peer, "prompt.post", category="family"))["code"] == "invalid"
    assert (await ask(dana_peer, "prompt.post", category="weather", text="x"))["code"] == "invalid"


# ---------------------------------------------------------------- session status


async def test_session_start_and_end(connect, group, dana, alex):
    dana_peer, alex_peer = await connect_all(connect, group, dana, alex)
    assert (await ask(alex_peer, "chat.send", text="hello?"))["code"] == "not_live"
    assert (await ask(dana_peer, "session.start"))["type"] == "ack"
    assert (await next_of(alex_peer, "session.status"))["status"] == "live"
    assert (await ask(dana_peer, "session.end"))["type"] == "ack"
    assert (await next_of(alex_peer, "session.status"))["status"] == "ended"
    closed = await alex_peer.communicator.receive_output(timeout=3)
    assert closed == {"type": "websocket.close", "code": 4410}
    _, code = await connect(alex, group.pk)
    assert code == 4410


# ---------------------------------------------------------------- guests
# (Every facilitator-only frame from a patient or a guest: tests/test_security_ws.py.)


async def test_guest_may_chat_only_while_holding_the_floor(connect, live_group, dana):
    guest_id, cookie = await database_sync_to_async(make_guest)(live_group, admitted=True)
    (dana_peer,) = await connect_all(connect, live_group, dana)
    guest_peer, _ = await connect(cookie, live_group.pk)
    await ask(dana_peer, "mode.set", mode="open")
    assert (await ask(guest_peer, "chat.send", text="hello all"))["code"] == "no_floor"
    assert (await ask(dana_peer, "floor.grant", participant_id=guest_id))["type"] == "ack"
    assert (await ask(guest_peer, "chat.send", text="hello all"))["type"] == "ack"


async def test_lobby_guest_cannot_be_granted_the_floor(connect, live_group, dana):
    guest_id, _ = await database_sync_to_async(make_guest)(live_group, admitted=False)
    (dana_peer,) = await connect_all(connect, live_group, dana)
    assert (await ask(dana_peer, "floor.grant", participant_id=guest_id))["code"] == "not_admitted"


def test_seconds_field_is_checked_at_the_edge():
    for bad in (
        '{"type":"floor.grant","participant_id":1,"seconds":0}',
        '{"type":"mode.set","mode":"round","seconds":5}',
    ):
        with pytest.raises(ActionError) as refused:
            parse_client_frame(bad)
        assert refused.value.code == "invalid"
