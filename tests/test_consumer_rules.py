"""The contract's Rules over the WebSocket: status, modes, limits, seq, catch-up, facilitator-only frames."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from rooms.actions.lifecycle import do_schedule_session
from rooms.frames import FRAME_TYPES
from rooms.models import AuditEntry, GroupSession, Message, Participant
from tests.conftest import Peer, connect_all, pid, set_room
from tests.frames import EXAMPLES, FACILITATOR_ONLY, aim, example_id, room_snapshot

pytestmark = pytest.mark.django_db(transaction=True)


@sync_to_async
def seed_messages(session: GroupSession, sender: Participant, count: int) -> None:
    """Store `count` room messages fast (seq 1..count), as if sent an hour ago."""
    sent_at = timezone.now() - timedelta(hours=1)
    start = GroupSession.objects.get(pk=session.pk).last_seq
    Message.objects.bulk_create(
        Message(
            session=session,
            participant=sender,
            seq=start + n,
            text=f"m{start + n}",
            html=f"m{start + n}",
            sent_at=sent_at + timedelta(milliseconds=n),
        )
        for n in range(1, count + 1)
    )
    GroupSession.objects.filter(pk=session.pk).update(last_seq=start + count)


async def quiet(*peers: Peer) -> None:
    """Read whatever is still on its way (arrivals, own presence) until each peer is silent."""
    for peer in peers:
        await peer.drain(0.2)


async def seed(session: GroupSession, member: Any, count: int) -> None:
    sender = await Participant.objects.aget(session=session, member=member)
    await seed_messages(session, sender, count)


# ---------------------------------------------------------------- status


@pytest.mark.parametrize("room", ["moderated", "open", "moderated-with-floor"])
async def test_patient_chat_before_start_is_not_live(connect, group, alex, room):
    if room == "moderated-with-floor":
        await set_room(
            group, floor_holder_id=await pid(group, alex), floor_expires_at=timezone.now() + timedelta(minutes=3)
        )
    else:
        await set_room(group, mode=room)
    alex_peer, _ = await connect(alex, group.pk)
    reply = await alex_peer.request("chat.send", text="hi")
    assert reply["type"] == "error" and reply["code"] == "not_live"


async def test_patient_cannot_start_the_session(connect, group, dana, alex):
    dana_peer, alex_peer = await connect_all(connect, group, dana, alex)
    await dana_peer.receive_type("participant.joined")
    await quiet(dana_peer, alex_peer)
    reply = await alex_peer.request("session.start")
    assert reply["type"] == "error" and reply["code"] == "not_allowed"
    assert await dana_peer.nothing_more(), "nobody hears of a refused start"
    assert await alex_peer.nothing_more()
    assert (await GroupSession.objects.aget(pk=group.pk)).status == "scheduled"
    assert (await alex_peer.request("chat.send", text="hi"))["code"] == "not_live"


async def test_start_goes_live_for_everyone_including_a_second_tab(connect, group, dana, alex, sam):
    dana_peer, alex_tab1, alex_tab2, sam_peer = await connect_all(connect, group, dana, alex, alex, sam)
    reply, own = await dana_peer.request_with_events("session.start")
    assert reply["type"] == "ack"
    assert (await dana_peer.event("session.status", own))["status"] == "live"
    for peer in (alex_tab1, alex_tab2, sam_peer):
        assert (await peer.receive_type("session.status"))["status"] == "live"
    assert (await GroupSession.objects.aget(pk=group.pk)).status == "live"
    late, _ = await connect(sam, group.pk)
    assert late.state["session"]["status"] == "live"
    # Live now: a patient without the floor in moderated mode hears no_floor, not not_live.
    assert (await alex_tab1.request("chat.send", text="hi"))["code"] == "no_floor"


async def test_end_reaches_everyone_then_closes_4410_and_nobody_gets_back_in(connect, live_group, dana, alex, sam):
    dana_peer, alex_tab1, alex_tab2, sam_peer = await connect_all(connect, live_group, dana, alex, alex, sam)
    await dana_peer.send(type="session.end")
    for peer in (dana_peer, alex_tab1, alex_tab2, sam_peer):
        frames, code = await peer.until_close()
        assert {"type": "session.status", "status": "ended"} in frames
        assert code == 4410
        assert not [f for f in frames if f["type"] == "error"]
    assert (await GroupSession.objects.aget(pk=live_group.pk)).status == "ended"
    for member in (alex, dana, sam):
        _, closed = await connect(member, live_group.pk)
        assert closed == 4410


# ---------------------------------------------------------------- modes


async def test_mode_set_broadcasts_and_changes_who_may_chat(connect, live_group, dana, alex, sam):
    dana_peer, alex_peer, sam_peer = await connect_all(connect, live_group, dana, alex, sam)
    assert alex_peer.state["session"]["mode"] == "moderated"
    assert (await alex_peer.request("chat.send", text="may I?"))["code"] == "no_floor"

    async def set_mode(mode: str) -> None:
        """Dana sets it: acked, and everyone (Dana too) hears the change."""
        reply, own = await dana_peer.request_with_events("mode.set", mode=mode)
        assert reply["type"] == "ack"
        assert (await dana_peer.event("mode.changed", own))["mode"] == mode
        for peer in (alex_peer, sam_peer):
            assert (await peer.receive_type("mode.changed"))["mode"] == mode

    await set_mode("open")
    assert (await alex_peer.request("chat.send", text="now I can"))["type"] == "ack"
    assert (await sam_peer.receive_type("chat.message"))["text"] == "now I can"

    await set_mode("moderated")
    assert (await alex_peer.request("chat.send", text="and now?"))["code"] == "no_floor"
    assert (await sam_peer.request("chat.send", text="me?"))["code"] == "no_floor"
    assert (await dana_peer.request("chat.send", text="Facilitators always can"))["type"] == "ack"
    assert (await alex_peer.receive_type("chat.message"))["text"] == "Facilitators always can"
    reconnected, _ = await connect(sam, live_group.pk)
    assert reconnected.state["session"]["mode"] == "moderated"


async def test_moderated_floor_holder_may_chat_and_others_not(connect, live_group, dana, alex, sam):
    dana_peer, alex_peer, sam_peer = await connect_all(connect, live_group, dana, alex, sam)
    assert (await dana_peer.request("floor.grant", participant_id=await pid(live_group, alex)))["type"] == "ack"
    await alex_peer.receive_type("floor.changed")
    assert (await alex_peer.request("chat.send", text="my turn"))["type"] == "ack"
    assert (await sam_peer.request("chat.send", text="mine too?"))["code"] == "no_floor"


async def test_individual_sessions_default_to_open(connect, dana, alex):
    individual = await sync_to_async(do_schedule_session)(
        title="One to one", facilitator="dana", patients=["alex"], kind="individual", starts_at=timezone.now()
    )
    assert individual.mode == "open"
    alex_peer, _ = await connect(alex, individual.pk)
    assert alex_peer.state["session"]["kind"] == "individual"
    assert alex_peer.state["session"]["mode"] == "open"
    dana_peer, _ = await connect(dana, individual.pk)
    assert (await dana_peer.request("session.start"))["type"] == "ack"
    await alex_peer.receive_type("session.status")
    reply = await alex_peer.request("chat.send", text="no floor needed here")
    assert reply["type"] == "ack"
    assert (await dana_peer.receive_type("chat.message"))["text"] == "no floor needed here"


async def test_group_sessions_default_to_moderated(connect, group, alex):
    alex_peer, _ = await connect(alex, group.pk)
    assert alex_peer.state["session"]["kind"] == "group"
    assert alex_peer.state["session"]["mode"] == "moderated"


# ---------------------------------------------------------------- limits


async def test_text_limits_and_refused_messages_reach_nobody(connect, live_group, dana, alex, sam):
    await set_room(live_group, mode="open")
    alex_peer, sam_peer, dana_peer = await connect_all(connect, live_group, alex, sam, dana)
    await quiet(alex_peer, sam_peer, dana_peer)
    for text, code in [("x" * 2001, "too_long"), (" \n\t  ", "invalid"), ("", "invalid"), ("é" * 2001, "too_long")]:
        reply = await alex_peer.request("chat.send", text=text)
        assert reply["type"] == "error" and reply["code"] == code, (len(text), reply)
    assert (await dana_peer.request("chat.send", text="y" * 2001))["code"] == "too_long", "facilitators too"
    assert await sam_peer.nothing_more(), "a refused message reaches nobody"
    assert await dana_peer.nothing_more()

    longest = "x" * 2000
    ok = await alex_peer.request("chat.send", text=longest)
    assert ok["type"] == "ack" and ok["seq"] == 1, "refused messages used up no seq"
    message = await sam_peer.receive_type("chat.message")
    assert message["text"] == longest and message["seq"] == 1
    assert (await alex_peer.request("chat.send", text="  " + "z" * 2000 + "  "))["type"] == "ack", "trimmed first"


async def test_sixth_chat_in_10_s_is_rate_limited_across_tabs_and_reaches_nobody(
    connect, live_group, dana, alex, sam
):
    await set_room(live_group, mode="open")
    sam_peer, alex_tab1, alex_tab2 = await connect_all(connect, live_group, sam, alex, alex)
    await quiet(sam_peer, alex_tab1, alex_tab2)
    for n, tab in enumerate([alex_tab1, alex_tab2, alex_tab1, alex_tab2, alex_tab1], start=1):
        assert (await tab.request("chat.send", text=f"m{n}"))["type"] == "ack", n
    for tab in (alex_tab2, alex_tab1):
        refused = await tab.request("chat.send", text="one too many")
        assert refused["type"] == "error" and refused["code"] == "rate_limited"
        assert 0 < refused["retry_after"] <= 10
    received = [(await sam_peer.receive_type("chat.message"))["text"] for _ in range(5)]
    assert received == ["m1", "m2", "m3", "m4", "m5"]
    assert await sam_peer.nothing_more(), "the refused sixth message reaches nobody"
    assert not await Message.objects.filter(session=live_group, text="one too many").aexists()
    # The limit is per participant: Sam and Dana are not held back by Alex's burst.
    assert (await sam_peer.request("chat.send", text="my first"))["type"] == "ack"
    dana_peer, _ = await connect(dana, live_group.pk)
    assert (await dana_peer.request("chat.send", text="hello all"))["type"] == "ack"


async def test_rate_limit_applies_to_facilitators_too(connect, live_group, dana):
    dana_peer, _ = await connect(dana, live_group.pk)
    for n in range(5):
        assert (await dana_peer.request("chat.send", text=f"note {n}"))["type"] == "ack"
    assert (await dana_peer.request("chat.send", text="one more"))["code"] == "rate_limited"


# ---------------------------------------------------------------- seq


async def test_seq_increases_per_session_and_is_never_reused(connect, live_group, dana, alex, sam, jordan, riley):
    await set_room(live_group, mode="open")
    dana_peer, alex_peer = await connect_all(connect, live_group, dana, alex)
    seqs = [(await dana_peer.request("chat.send", text=f"d{n}"))["seq"] for n in range(3)]
    seqs.append((await alex_peer.request("chat.send", text="a1"))["seq"])
    assert seqs == [1, 2, 3, 4]
    last = await alex_peer.request("chat.send", text="a2")
    assert last["seq"] == 5
    assert (await dana_peer.request("message.remove", message_id=last["message_id"]))["type"] == "ack"
    assert (await alex_peer.request("chat.send", text="   "))["code"] == "invalid"
    after_removal = await alex_peer.request("chat.send", text="a3")
    assert after_removal["seq"] == 6, "a removed message's seq is not handed out again"

    # Another session counts on its own.
    other = await sync_to_async(do_schedule_session)(
        title="Thursday group", facilitator="dana", patients=["alex", "sam"], starts_at=timezone.now()
    )
    other_dana, _ = await connect(dana, other.pk)
    assert (await other_dana.request("chat.send", text="first here"))["seq"] == 1

    reconnected, _ = await connect(sam, live_group.pk)
    state_seqs = [m["seq"] for m in reconnected.state["messages"]]
    assert state_seqs == [1, 2, 3, 4, 6], "the removed message is gone, the others in order"


async def test_concurrent_senders_get_distinct_increasing_seqs(connect, live_group, dana, alex, sam, jordan):
    await set_room(live_group, mode="open")
    peers = [(await connect(member, live_group.pk))[0] for member in (dana, alex, sam, jordan)]

    async def burst(peer: Peer, name: int) -> list[int]:
        return [(await peer.request("chat.send", text=f"p{name}-{n}"))["seq"] for n in range(4)]

    results = await asyncio.gather(*(burst(peer, n) for n, peer in enumerate(peers)))
    for own in results:
        assert own == sorted(own), "each sender's messages get increasing seqs"
    assert sorted(seq for own in results for seq in own) == list(range(1, 17)), "no seq twice, none skipped"
    stored = [m async for m in Message.objects.filter(session=live_group).order_by("seq").values_list("seq", flat=True)]
    assert stored == list(range(1, 17))


# ---------------------------------------------------------------- catch-up


async def test_since_returns_only_later_messages_at_most_1000(connect, live_group, dana, alex):
    await seed(live_group, dana, 1100)
    peer, _ = await connect(alex, live_group.pk, since=50)
    seqs = [m["seq"] for m in peer.state["messages"]]
    assert len(seqs) == 1000
    assert seqs == list(range(51, 1051)), "the oldest first, so a client can page on with since=1050"
    assert peer.state["messages"][0]["text"] == "m51"

    peer, _ = await connect(alex, live_group.pk, since=1050)
    assert [m["seq"] for m in peer.state["messages"]] == list(range(1051, 1101))
    peer, _ = await connect(alex, live_group.pk, since=1098)
    assert [m["seq"] for m in peer.state["messages"]] == [1099, 1100]
    peer, _ = await connect(alex, live_group.pk, since=1100)
    assert peer.state["messages"] == []
    peer, _ = await connect(alex, live_group.pk, since=0)
    assert [m["seq"] for m in peer.state["messages"]] == list(range(1, 1001))


async def test_since_then_live_messages_continue_without_gap(connect, live_group, dana, alex):
    await seed(live_group, dana, 10)
    alex_peer, _ = await connect(alex, live_group.pk, since=7)
    assert [m["seq"] for m in alex_peer.state["messages"]] == [8, 9, 10]
    dana_peer, _ = await connect(dana, live_group.pk)
    assert (await dana_peer.request("chat.send", text="live now"))["seq"] == 11
    assert (await alex_peer.receive_type("chat.message"))["seq"] == 11


async def test_session_state_holds_the_100_most_recent_oldest_first(connect, live_group, dana, alex):
    await seed(live_group, dana, 150)
    peer, _ = await connect(alex, live_group.pk)
    seqs = [m["seq"] for m in peer.state["messages"]]
    assert seqs == list(range(51, 151))
    assert peer.state["messages"][-1]["text"] == "m150"


async def test_session_state_with_few_messages_holds_them_all(connect, live_group, dana, alex):
    await seed(live_group, dana, 30)
    peer, _ = await connect(alex, live_group.pk)
    assert [m["seq"] for m in peer.state["messages"]] == list(range(1, 31))


# ---------------------------------------------------------------- facilitator-only frames


@pytest.mark.parametrize("example", EXAMPLES, ids=example_id)
async def test_facilitator_only_frames_from_a_patient_are_not_allowed(connect, live_group, dana, alex, sam, example):
    targets = await sync_to_async(aim)(live_group, dana, sam, alex)
    sam_id = targets.participant_id
    await set_room(live_group, floor_holder_id=sam_id, floor_expires_at=timezone.now() + timedelta(minutes=3))

    dana_peer, sam_peer, alex_peer = await connect_all(connect, live_group, dana, sam, alex)
    for peer in (dana_peer, sam_peer):
        await peer.receive_type("participant.joined")
    await quiet(dana_peer, sam_peer, alex_peer)
    audit_before = await AuditEntry.objects.filter(session=live_group).acount()
    before = await sync_to_async(room_snapshot)(live_group)

    reply = await alex_peer.request(example.type, **example.fields(targets))
    assert reply["type"] == "error" and reply["code"] == "not_allowed", reply

    assert await dana_peer.nothing_more(), "nothing happened, so nobody hears of anything"
    assert await sam_peer.nothing_more()
    room = await GroupSession.objects.aget(pk=live_group.pk)
    assert (room.status, room.mode, room.floor_holder_id, room.current_prompt_id) == ("live", "moderated", sam_id, None)
    sam_now = await Participant.objects.aget(pk=sam_id)
    assert not sam_now.muted and sam_now.removed_at is None
    guest_now = await Participant.objects.aget(pk=targets.waiting_guest_id)
    assert not guest_now.admitted and guest_now.removed_at is None
    assert (await Message.objects.aget(pk=targets.message_id)).removed_at is None
    assert await Message.objects.filter(session=live_group).acount() == 1
    assert await AuditEntry.objects.filter(session=live_group).acount() == audit_before
    assert await sync_to_async(room_snapshot)(live_group) == before
    assert (await alex_peer.request("hand.lower"))["type"] == "ack", "and Alex is still connected"


def test_every_facilitator_only_type_of_the_contract_is_covered():
    contract = {
        "session.start", "session.end", "mode.set", "floor.grant", "floor.revoke", "round.next", "prompt.post",
        "participant.mute", "participant.unmute", "participant.remove", "message.remove", "lobby.admit",
        "lobby.deny", "invite.create", "hand.clear", "private.send",
    }
    assert contract <= FACILITATOR_ONLY
    assert contract <= FRAME_TYPES.keys()
