"""A resent message is stored once (issue 22, class 12: `txn_id`).

When a connection drops after a `chat.send` went out and before its ack came back,
the client cannot know whether the message was stored; it sends it again with the
same `txn_id`. A second `chat.send` with a `txn_id` the same participant already
used in the session stores nothing, broadcasts nothing and gets the first one's ack
(same `message_id` and `seq`): alone, inside a group-commit batch, when the two race
on two connections, and on two real daphne workers. A refused message does not use
its `txn_id` up; the same `txn_id` from someone else, or in another session, is
another message. Malformed `txn_id`s are `invalid`.

Inputs: 14 txn_ids resent through the action (each of them through the batch too),
7 refusals, 4 senders/sessions pairs, 9 malformed txn_ids over the consumer, 12 races
of two connections, and 10 resends over two real workers (5 after a lost ack); on
PostgreSQL, the round trips of a message with a txn_id and of its resend.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.db import IntegrityError, connection
from django.utils import timezone

from accounts.models import Member
from moderation.actions import do_mute
from rooms import broadcast
from rooms.actions.chat import ChatRequest, do_send_chat, do_send_chats
from rooms.actions.lifecycle import do_schedule_session
from rooms.chat_store import chat_store
from rooms.errors import ActionError
from rooms.models import GroupSession, Message, Mode
from tests import e2e
from tests.conftest import ConnectFn, connect_all, participant, set_room
from tests.workers_support import EVERYONE, create_clinic, schedule, visit

pytestmark = pytest.mark.django_db(transaction=True)

# The client's own ids: whatever it chose, up to 64 characters (the contract says no more).
TXN_IDS = [
    "1",
    "0",
    "a",
    "m1733568000000.0",  # Matrix's shape
    "5f0c2b6e-8a3d-4c1e-9b7a-2d6f1e0c9a84",
    "x" * 64,
    " ",
    "  padded  ",
    "é-ü-ñ",
    "😀" * 16,
    "line\nbreak",
    "'; DROP TABLE rooms_message; --",
    "%s%s%s",
    "NULL",
]


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The events the actions hand to the channel layer (on commit)."""
    events: list[dict[str, Any]] = []
    monkeypatch.setattr(broadcast, "publish", lambda envelope: events.append(json.loads(envelope["text"])))
    return events


def stored(session: GroupSession) -> list[tuple[int, str, str | None]]:
    return list(Message.objects.filter(session=session).order_by("seq").values_list("seq", "text", "txn_id"))


def open_room(session: GroupSession) -> None:
    GroupSession.objects.filter(pk=session.pk).update(mode=Mode.OPEN)


@pytest.mark.parametrize("txn_id", TXN_IDS)
def test_a_resend_stores_nothing_and_gets_the_first_ack(live_group, alex, published, txn_id):
    open_room(live_group)
    sender = participant(live_group, alex).pk
    now = timezone.now()
    first = do_send_chat(live_group.pk, sender, "I made it to a meeting", now, txn_id=txn_id)
    again = do_send_chat(live_group.pk, sender, "I made it to a meeting", now + timedelta(seconds=1), txn_id=txn_id)
    # The text of a resend is not looked at again: the txn_id names the message.
    third = do_send_chat(live_group.pk, sender, "edited meanwhile", now + timedelta(seconds=2), txn_id=txn_id)

    assert (again.pk, again.seq) == (third.pk, third.seq) == (first.pk, first.seq)
    assert stored(live_group) == [(first.seq, "I made it to a meeting", txn_id)]
    assert [event["text"] for event in published] == ["I made it to a meeting"]
    live_group.refresh_from_db()
    assert live_group.last_seq == first.seq, "a resend spends no seq"
    assert participant(live_group, alex).room_messages == 1
    later = do_send_chat(live_group.pk, sender, "and another", now + timedelta(seconds=3), txn_id="another one")
    assert later.seq == first.seq + 1


@pytest.mark.parametrize("txn_id", TXN_IDS)
def test_a_resend_inside_a_group_commit_batch_gets_the_first_ack(live_group, alex, sam, jordan, published, txn_id):
    open_room(live_group)
    alex_id, sam_id, jordan_id = (participant(live_group, who).pk for who in (alex, sam, jordan))
    now = timezone.now()
    first = do_send_chat(live_group.pk, alex_id, "first", now, txn_id=txn_id)
    results = do_send_chats(
        [
            ChatRequest(live_group.pk, sam_id, "from Sam", now, txn_id=txn_id),  # the same id, another sender
            ChatRequest(live_group.pk, alex_id, "first", now, txn_id=txn_id),  # Alex's resend
            ChatRequest(live_group.pk, jordan_id, "from Jordan", now),  # no txn_id at all
        ]
    )

    sam_message, resent, jordan_message = results
    assert isinstance(resent, Message) and (resent.pk, resent.seq) == (first.pk, first.seq)
    assert isinstance(sam_message, Message) and isinstance(jordan_message, Message)
    assert [sam_message.seq, jordan_message.seq] == [first.seq + 1, first.seq + 2], "no seq spent on the resend"
    assert [text for _, text, _ in stored(live_group)] == ["first", "from Sam", "from Jordan"]
    assert [event["text"] for event in published] == ["first", "from Sam", "from Jordan"]


def refusals(session: GroupSession, alex: Member, dana: Member) -> list[tuple[str, Any, Any]]:
    """(name, what makes chat.send refused, what lifts it): each refusal, then the same txn_id succeeds."""
    alex_id, dana_id = participant(session, alex).pk, participant(session, dana).pk

    def rate_limited() -> None:
        for number in range(settings.CIRCLE["RATE_LIMIT_COUNT"]):
            do_send_chat(session.pk, alex_id, f"filler {number}", timezone.now())

    def slow_mode() -> None:
        do_send_chat(session.pk, alex_id, "a first word", timezone.now())  # slow mode paces from the last send
        GroupSession.objects.filter(pk=session.pk).update(slowmode_seconds=3600)

    return [
        ("not_live", lambda: GroupSession.objects.filter(pk=session.pk).update(status="scheduled"),
         lambda: GroupSession.objects.filter(pk=session.pk).update(status="live")),
        ("no_floor", lambda: GroupSession.objects.filter(pk=session.pk).update(mode=Mode.MODERATED),
         lambda: open_room(session)),
        ("muted", lambda: do_mute(session.pk, dana_id, alex_id, None, timezone.now()),
         lambda: session.participants.filter(pk=alex_id).update(muted=False, muted_until=None)),
        ("rate_limited", rate_limited,
         lambda: Message.objects.filter(participant_id=alex_id).update(sent_at=timezone.now() - timedelta(minutes=5))),
        ("slow mode", slow_mode,
         lambda: GroupSession.objects.filter(pk=session.pk).update(slowmode_seconds=0)),
    ]


def test_a_refused_message_does_not_use_its_txn_id_up(live_group, alex, dana, published):
    open_room(live_group)
    alex_id = participant(live_group, alex).pk
    tried = 0
    for name, refuse, lift in refusals(live_group, alex, dana):
        # Each case starts with no send in the rate window.
        Message.objects.filter(participant_id=alex_id).update(sent_at=timezone.now() - timedelta(minutes=5))
        refuse()
        txn_id = f"after-{name}"
        with pytest.raises(ActionError):
            do_send_chat(live_group.pk, alex_id, f"refused: {name}", timezone.now(), txn_id=txn_id)
        assert not Message.objects.filter(txn_id=txn_id).exists(), name
        lift()
        sent = do_send_chat(live_group.pk, alex_id, f"sent after {name}", timezone.now(), txn_id=txn_id)
        assert Message.objects.get(txn_id=txn_id).pk == sent.pk, name
        tried += 1
    # The text rules refuse before anything is read: too long, and nothing visible.
    for number, text in enumerate(["x" * (settings.CIRCLE["MAX_MESSAGE_CHARS"] + 1), "\u200b\u200b"]):
        with pytest.raises(ActionError):
            do_send_chat(live_group.pk, alex_id, text, timezone.now(), txn_id=f"text-{number}")
        assert do_send_chat(live_group.pk, alex_id, "fine", timezone.now(), txn_id=f"text-{number}").seq
        tried += 1
    assert tried == 7


def test_the_same_txn_id_from_someone_else_or_in_another_session_is_another_message(live_group, alex, sam, dana):
    open_room(live_group)
    other = do_schedule_session(
        title="Thursday group", facilitator="dana", patients=["alex", "sam"], starts_at=timezone.now()
    )
    GroupSession.objects.filter(pk=other.pk).update(status="live", mode=Mode.OPEN)
    now = timezone.now()
    pairs = [(live_group, alex), (live_group, sam), (other, alex), (other, sam)]
    sent = [do_send_chat(room.pk, participant(room, who).pk, "same id", now, txn_id="shared") for room, who in pairs]
    assert len({message.pk for message in sent}) == 4
    assert Message.objects.filter(txn_id="shared").count() == 4


def test_the_unique_constraint_is_the_arbiter_when_the_look_misses(live_group, alex, published, monkeypatch):
    open_room(live_group)
    alex_id = participant(live_group, alex).pk
    first = do_send_chat(live_group.pk, alex_id, "once", timezone.now(), txn_id="t-1")
    store = chat_store()
    monkeypatch.setattr(store, "find_sent", lambda txn_ids: [])  # as if the other resend had not committed yet

    again = do_send_chat(live_group.pk, alex_id, "once", timezone.now(), txn_id="t-1")
    assert (again.pk, again.seq) == (first.pk, first.seq)
    assert stored(live_group) == [(first.seq, "once", "t-1")]
    assert [event["text"] for event in published] == ["once"], "the rolled-back resend announced nothing"
    now = timezone.now()
    with pytest.raises(IntegrityError):  # the constraint itself: no second row, whatever the code does
        Message.objects.create(
            session=live_group, participant_id=alex_id, seq=999, text="x", html="x", sent_at=now, txn_id="t-1"
        )


@pytest.mark.services
def test_on_postgresql_the_look_costs_no_round_trip(live_group, dana):
    if connection.vendor != "postgresql":
        pytest.skip("round trips are PostgreSQL's (DATABASE_URL=postgres://...)")
    from tests.test_chat_store import round_trips

    lead = participant(live_group, dana).pk
    do_send_chat(live_group.pk, lead, "Welcome", timezone.now(), txn_id="warm")  # the statements are prepared
    fresh = round_trips(lambda: do_send_chat(live_group.pk, lead, "Let's begin", timezone.now(), txn_id="new"))
    assert fresh == [
        ["Execute BEGIN"],
        ["Execute", "Execute", "Execute"],  # the room's UPDATE, the sender's SELECT, the look for the txn_id
        ["Execute", "Execute COMMIT"],  # the INSERT (and its count), the COMMIT
    ]
    resent = round_trips(lambda: do_send_chat(live_group.pk, lead, "Let's begin", timezone.now(), txn_id="new"))
    # Then nothing is written: the transaction is rolled back (psycopg's rollback(), a simple Query message
    # that round_trips does not list), the claim's seq with it.
    assert resent == [["Execute BEGIN"], ["Execute", "Execute", "Execute"]]
    assert Message.objects.filter(session=live_group, text="Let's begin").count() == 1


# ---------------------------------------------------------------- over the consumer

MALFORMED = [
    "",
    "x" * 65,
    "😀" * 65,
    5,
    1.5,
    True,
    ["t"],
    {"id": "t"},
    "\t" * 65,
]


@pytest.mark.parametrize("txn_id", MALFORMED, ids=repr)
async def test_a_malformed_txn_id_is_invalid_and_stores_nothing(connect: ConnectFn, live_group, dana, txn_id):
    (peer,) = await connect_all(connect, live_group, dana)
    reply = await peer.request("chat.send", text="hello", txn_id=txn_id)
    assert reply["type"] == "error" and reply["code"] == "invalid", reply
    assert not await Message.objects.filter(session=live_group).aexists()


@pytest.mark.parametrize("race", range(12))
async def test_two_connections_racing_with_one_txn_id_store_one_message(connect, live_group, alex, sam, race):
    await set_room(live_group, mode=Mode.OPEN)
    first, second, observer = await connect_all(connect, live_group, alex, alex, sam)
    txn_id = f"race-{race}"
    replies = await asyncio.gather(
        first.request("chat.send", text=f"said once {race}", txn_id=txn_id),
        second.request("chat.send", text=f"said once {race}", txn_id=txn_id),
    )
    assert all(reply["type"] == "ack" for reply in replies), replies
    assert {(reply["message_id"], reply["seq"]) for reply in replies} == {(replies[0]["message_id"], replies[0]["seq"])}
    message = await observer.receive_type("chat.message")
    assert message["message_id"] == replies[0]["message_id"]
    assert await observer.nothing_more(0.5), "the resend was broadcast"
    assert await Message.objects.filter(session=live_group).acount() == 1


# ---------------------------------------------------------------- two real workers

database = e2e.postgres_db


@pytest.mark.e2e
@pytest.mark.services
@pytest.mark.django_db(transaction=False)
async def test_a_resend_on_the_other_worker_after_a_lost_ack_is_stored_once(database, tmp_path):
    env = e2e.server_env(database, redis_url=e2e.redis_url(), CHAT_RATE_LIMIT="100")  # ten messages in a few seconds
    create_clinic(env)
    session_id = schedule(env, "Resends across workers")
    a = e2e.ServerProcess(env, name="worker-a", log_dir=tmp_path)
    b = e2e.ServerProcess(env, name="worker-b", log_dir=tmp_path)
    try:
        await asyncio.gather(asyncio.to_thread(a.start), asyncio.to_thread(b.start))
        cookies = await asyncio.to_thread(e2e.login_all, a.base_url, EVERYONE)
        async with visit(session_id, cookies, clean=(a, b)) as room:
            dana, sam, jordan = await room.join_all((a, "dana"), (b, "sam"), (a, "jordan"))
            assert (await dana.request("session.start"))["type"] == "ack"
            assert (await dana.request("mode.set", mode="open"))["type"] == "ack"
            acks: dict[str, tuple[int, int]] = {}
            # 1. The ack is lost: the connection on A drops right after the send; the resend goes to B.
            for number in range(5):
                txn_id = f"lost-{number}"
                gone = await room.join(a, "alex")
                await gone.send(type="chat.send", text=f"lost ack {number}", txn_id=txn_id, ref="never-read")
                await jordan.receive_type("chat.message")  # stored; its ack is never read
                await gone.close()
                back = await room.join(b, "alex")
                reply = await back.request("chat.send", text=f"lost ack {number}", txn_id=txn_id)
                assert reply["type"] == "ack", reply
                acks[txn_id] = (reply["message_id"], reply["seq"])
                await back.close()
            # 2. The same message on both workers at once.
            alex_a, alex_b = await room.join_all((a, "alex"), (b, "alex"))
            for number in range(5):
                txn_id = f"both-{number}"
                replies = await asyncio.gather(
                    alex_a.request("chat.send", text=f"both {number}", txn_id=txn_id),
                    alex_b.request("chat.send", text=f"both {number}", txn_id=txn_id),
                )
                assert {(r["type"], r["message_id"], r["seq"]) for r in replies} == {
                    ("ack", replies[0]["message_id"], replies[0]["seq"])
                }, replies
                acks[txn_id] = (replies[0]["message_id"], replies[0]["seq"])
            fence = await dana.request("chat.send", text="fence")
            for watcher in (dana, sam):
                frames = await watcher.receive_until(lambda f: f["type"] == "chat.message" and f["seq"] == fence["seq"])
                seen = [(f["message_id"], f["seq"]) for f in frames if f["type"] == "chat.message"][:-1]
                assert sorted(seen, key=lambda pair: pair[1]) == sorted(acks.values(), key=lambda pair: pair[1]), (
                    watcher.name
                )
            texts = [m["text"] for m in (await room.join(a, "riley")).state["messages"]]
            assert texts == [*(f"lost ack {n}" for n in range(5)), *(f"both {n}" for n in range(5)), "fence"]
    finally:
        a.terminate()
        b.terminate()
