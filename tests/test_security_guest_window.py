"""A guest's socket delivers no message outside the guest's admission windows (issue 22, class 12).

After `lobby.return`, a message committed later on another worker could reach the
returned guest live: the socket's filter knew where the guest's window starts, not
where it ends, and it hears of the return only when the return's event reaches its
worker, which may be after the message's. Now a room message carries the guests
admitted when it was committed (rooms.broadcast.is_recipient), whatever the order
in which the two events arrive.

Inputs: the filter with 12 (viewer, message) pairs; in-process, 4 messages sent
while the return's event is held back, in two windows; over two real workers, 6
messages from the guest's own worker while the return's event is held on the
other worker, in three windows.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.utils import timezone

from rooms import broadcast
from rooms.actions.guests import do_admit_guest, do_return_to_lobby
from rooms.broadcast import Viewer, is_recipient, make_envelope
from rooms.models import GroupSession, Mode, ParticipantRole
from rooms.schemas import ChatMessageEvent
from tests import e2e
from tests.conftest import ConnectFn, connect_all, participant, set_room
from tests.security_support import make_guest
from tests.test_security_logs import redeem
from tests.workers_support import EVERYONE, FACILITATOR, PATIENTS, create_clinic, visit

GUEST = 7


def room_message(seq: int, guests: list[int]) -> broadcast.Envelope:
    event = ChatMessageEvent(
        message_id=seq, seq=seq, participant_id=2, display_name="Alex", role=ParticipantRole.PATIENT,
        text="hi", html="hi", sent_at=timezone.now(), prompt_id=None,
    )
    return make_envelope(1, event, seq=seq, guests=guests)


def guest(admitted: bool, after: int) -> Viewer:
    return Viewer(GUEST, ParticipantRole.GUEST, admitted, after)


# (viewer, message seq, guests admitted at its commit, delivered?)
CASES = [
    (guest(True, 10), 11, [GUEST], True),  # inside the open window
    (guest(True, 10), 11, [], False),  # committed after a return this socket has not heard of yet
    (guest(True, 10), 50, [3, 4], False),  # other guests admitted, not this one
    (guest(True, 10), 10, [GUEST], False),  # the window's first message is the next one
    (guest(True, 10), 5, [GUEST], False),  # an earlier window's message arriving late
    (guest(False, 10), 11, [GUEST], False),  # in the lobby (its refresh came first)
    (guest(False, 0), 11, [], False),
    (guest(True, 0), 1, [GUEST, 8], True),
    (Viewer(2, ParticipantRole.PATIENT, True, 0), 11, [], True),  # members see every room message
    (Viewer(1, ParticipantRole.FACILITATOR, True, 0), 11, [], True),
    (Viewer(GUEST + 1, ParticipantRole.GUEST, True, 0), 11, [GUEST], False),
    (guest(True, 10), 2**40, [GUEST], True),
]


@pytest.mark.parametrize(("viewer", "seq", "guests", "delivered"), CASES)
def test_a_room_message_reaches_a_guest_only_inside_their_window(viewer, seq, guests, delivered):
    assert is_recipient(viewer, room_message(seq, guests)) is delivered


# ---------------------------------------------------------------- in-process: the return's event held back


@pytest.mark.django_db(transaction=True)
async def test_a_message_after_the_return_never_reaches_the_guest_whatever_arrives_first(
    connect: ConnectFn, live_group: GroupSession, dana, alex, monkeypatch
):
    monkeypatch.setitem(settings.CIRCLE, "RATE_LIMIT_COUNT", 100)
    await set_room(live_group, mode=Mode.OPEN)
    pat = await sync_to_async(make_guest)(live_group, alex, "Pat", admitted=True)
    lead = await sync_to_async(participant)(live_group, dana)
    alex_peer, guest_peer = await connect_all(connect, live_group, alex, pat.cookie)
    assert guest_peer.state["me"]["admitted"] is True
    held: list[broadcast.Envelope] = []
    publish = broadcast.publish

    def hold_returns(envelope: broadcast.Envelope) -> None:
        if json.loads(envelope["text"])["type"] == "participant.updated":
            held.append(envelope)  # the return's own event: as if its worker's publish were slow
        else:
            publish(envelope)

    for window in range(2):
        said = await alex_peer.request("chat.send", text=f"while admitted {window}")
        assert (await guest_peer.receive_type("chat.message"))["seq"] == said["seq"]
        monkeypatch.setattr(broadcast, "publish", hold_returns)
        await sync_to_async(do_return_to_lobby)(live_group.pk, lead.pk, pat.participant.pk, timezone.now())
        after = [await alex_peer.request("chat.send", text=f"after return {window}.{n}") for n in range(2)]
        assert all(reply["type"] == "ack" for reply in after)
        frames = await guest_peer.drain(0.5)
        assert not [f for f in frames if f["type"] == "chat.message"], frames
        monkeypatch.setattr(broadcast, "publish", publish)
        for envelope in held:
            assert await broadcast.send_to_layer(envelope)
        held.clear()
        state = await guest_peer.receive_type("session.state")
        assert state["me"]["admitted"] is False and state["messages"] == []
        await sync_to_async(do_admit_guest)(live_group.pk, lead.pk, pat.participant.pk, timezone.now())
        state = await guest_peer.receive_type("session.state")
        assert state["me"]["admitted"] is True
        assert not [m for m in state["messages"] if m["text"].startswith("after return")]


# ---------------------------------------------------------------- two real workers


database = e2e.postgres_db


@pytest.mark.e2e
@pytest.mark.services
async def test_on_two_workers_a_returned_guest_gets_no_later_message(database, tmp_path: Path):
    control = tmp_path / "publish-fault"
    env = e2e.server_env(database, redis_url=e2e.redis_url(), CHAT_RATE_LIMIT="100")
    create_clinic(env)
    session_id = e2e.schedule_session(
        env, title="Returns across workers", facilitator=FACILITATOR, patients=PATIENTS, allow_guests=True
    )
    join_path = e2e.invite_guest(env, session_id, for_patient="alex", name="Pat")
    a = e2e.ServerProcess(env, name="worker-a", log_dir=tmp_path)
    b = e2e.ServerProcess({**env, "E2E_PUBLISH_FAULT_FILE": str(control)}, name="worker-b", log_dir=tmp_path)
    try:
        await asyncio.gather(asyncio.to_thread(a.start), asyncio.to_thread(b.start))
        cookies: dict[str, Any] = await asyncio.to_thread(e2e.login_all, a.base_url, EVERYONE)
        cookies["pat"], _ = await asyncio.to_thread(redeem, a.base_url, join_path)
        async with visit(session_id, cookies, clean=(a, b)) as room:
            dana, alex, sam = await room.join_all((b, "dana"), (a, "alex"), (a, "sam"))
            assert (await dana.request("session.start"))["type"] == "ack"
            assert (await dana.request("mode.set", mode="open"))["type"] == "ack"
            pat = await room.join(a, "pat")
            guest_id = pat.participant_id
            for window in range(3):
                assert (await dana.request("lobby.admit", participant_id=guest_id))["type"] == "ack"
                await pat.receive_until(lambda f: f["type"] == "session.state" and f["me"]["admitted"])
                before = await alex.request("chat.send", text=f"inside {window}")
                got = await pat.receive_type("chat.message")
                assert got["seq"] == before["seq"]
                # Dana's worker commits the return and is slow to publish it; meanwhile Alex and Sam,
                # on the guest's own worker, speak: their events reach the guest's socket first.
                control.write_text("hold")
                assert (await dana.request("lobby.return", participant_id=guest_id))["type"] == "ack"
                later = [
                    await speaker.request("chat.send", text=f"after return {window} from {speaker.name}")
                    for speaker in (alex, sam)
                ]
                assert all(reply["type"] == "ack" for reply in later), later
                for reply in later:  # delivered on the guest's worker by now
                    await alex.receive_until(e2e.frame_is(seq=reply["seq"]))
                control.write_text("")
                frames = await pat.receive_until(lambda f: f["type"] == "session.state" and not f["me"]["admitted"])
                leaked = [f["text"] for f in frames if f["type"] == "chat.message"]
                assert leaked == [], leaked
                assert frames[-1]["messages"] == []
    finally:
        a.terminate()
        b.terminate()

