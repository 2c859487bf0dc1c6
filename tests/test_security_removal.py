"""A removed patient's guests go with them, and `message.removed` reaches only those who could read
the message (issue 22, classes 6 and 7; docs/protocol.md).

The guest of a removed patient stayed admitted and kept reading; `message.removed` of a
private message went to the whole room, revealing that one existed, and a resuming
client's `removed_message_ids` listed it too. Tried: a patient with guests in every
state (admitted, waiting, invited but not yet come), and messages of every audience
(room, the private line, a facilitator's private message) removed before, during and
after a guest's admission, heard by every kind of viewer live and on resuming.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from accounts.models import Member
from rooms.actions.guests import PassGone, do_redeem_pass
from rooms.models import AuditEntry, GroupSession, GuestAdmission, GuestPass, Participant
from tests import e2e
from tests.conftest import connect_all, pid
from tests.guests_support import ainvite, ainvite_and_redeem
from tests.test_security_logs import redeem

pytestmark = pytest.mark.django_db(transaction=True)


# ---------------------------------------------------------------- class 6


async def test_removing_a_patient_removes_every_guest_they_invited(connect, live_group, dana, alex, sam):
    dana_peer, sam_peer = await connect_all(connect, live_group, dana, sam)
    await connect(alex, live_group.pk)
    _, inside_cookie, inside = await ainvite_and_redeem(live_group, alex, "Maria", "spouse")
    _, waiting_cookie, waiting = await ainvite_and_redeem(live_group, alex, "Lee", "friend")
    _, unused_token = await ainvite(live_group, alex, "Kim")
    _, sams_cookie, sams_guest = await ainvite_and_redeem(live_group, sam, "Ana", "parent")
    inside_peer, _ = await connect(inside_cookie.cookie, live_group.pk)
    waiting_peer, _ = await connect(waiting_cookie.cookie, live_group.pk)
    sams_peer, _ = await connect(sams_cookie.cookie, live_group.pk)
    await dana_peer.request("lobby.admit", participant_id=inside.pk)
    await dana_peer.request("lobby.admit", participant_id=sams_guest.pk)
    await inside_peer.receive_type("session.state")

    alex_id = await pid(live_group, alex)
    assert (await dana_peer.request("participant.remove", participant_id=alex_id))["type"] == "ack"

    for peer, guest in ((inside_peer, inside), (waiting_peer, waiting)):
        frames, code = await peer.until_close()
        assert code == 4403, guest.display_name
        assert {"type": "participant.removed", "participant_id": guest.pk} in frames
    removed = {alex_id, inside.pk, waiting.pk}
    heard = {f["participant_id"] for f in await sam_peer.drain() if f["type"] == "participant.removed"}
    assert heard == {alex_id, inside.pk}  # the waiting guest was never in the room
    for guest in (inside, waiting):
        row = await Participant.objects.aget(pk=guest.pk)
        assert row.removed_at is not None
        assert not await GuestAdmission.objects.filter(participant=guest, until_seq__isnull=True).aexists()
        entry = await AuditEntry.objects.aget(action="participant.remove", target=guest)
        assert entry.actor_id == await pid(live_group, dana)
    assert not await GuestPass.objects.filter(for_participant_id=alex_id, revoked_at__isnull=True).aexists()
    # A pass of the removed patient that was never used can no longer be.
    with pytest.raises(PassGone):
        await sync_to_async(do_redeem_pass)(unused_token, "Kim", "sibling", timezone.now())
    # Another patient's guest stays, and hears of the removals like everyone in the room.
    assert (await Participant.objects.aget(pk=sams_guest.pk)).removed_at is None
    heard_by_guest = {f["participant_id"] for f in await sams_peer.drain() if f["type"] == "participant.removed"}
    assert heard_by_guest == removed - {waiting.pk}


async def test_a_removed_patients_guest_cannot_come_back(connect, live_group, dana, alex):
    dana_peer, _ = await connect(dana, live_group.pk)
    _, redeemed, _ = await ainvite_and_redeem(live_group, alex, "Maria", "spouse")
    await dana_peer.request("participant.remove", participant_id=await pid(live_group, alex))
    _, code = await connect(redeemed.cookie, live_group.pk)
    assert code == 4403


# ---------------------------------------------------------------- class 7


def co_facilitator(session: GroupSession) -> Member:
    morgan = Member.objects.create_user(username="morgan", password="x", role="facilitator", display_name="Morgan")
    Participant.objects.create(session=session, member=morgan, role="facilitator", display_name="Morgan")
    return morgan


def removals(frames: list[dict[str, Any]]) -> set[int]:
    return {frame["message_id"] for frame in frames if frame["type"] == "message.removed"}


async def test_a_private_lines_removal_reaches_only_the_facilitators_and_its_patient(
    connect, live_group, dana, alex, sam, jordan
):
    morgan = await sync_to_async(co_facilitator)(live_group)
    dana_peer, alex_peer, sam_peer, jordan_peer, morgan_peer = await connect_all(
        connect, live_group, dana, alex, sam, jordan, morgan
    )
    _, redeemed, guest = await ainvite_and_redeem(live_group, sam, "Maria", "spouse")
    guest_peer, _ = await connect(redeemed.cookie, live_group.pk)
    await dana_peer.request("lobby.admit", participant_id=guest.pk)
    await guest_peer.receive_type("session.state")
    sam_id = await pid(live_group, sam)
    to_facilitators = await alex_peer.request("chat.send", text="Only for you", to="facilitators")
    to_sam = await dana_peer.request("private.send", participant_id=sam_id, text="Sam, a word after?")
    await dana_peer.drain()
    heard_by_dana = []
    for message in (to_facilitators, to_sam):
        _, events = await dana_peer.request_with_events("message.remove", message_id=message["message_id"])
        heard_by_dana += events
    peers = {"alex": alex_peer, "sam": sam_peer, "jordan": jordan_peer, "guest": guest_peer, "morgan": morgan_peer}
    removed = {name: removals(await peer.drain()) for name, peer in peers.items()}
    removed["dana"] = removals(heard_by_dana + await dana_peer.drain())
    assert removed["dana"] == {to_facilitators["message_id"], to_sam["message_id"]}
    assert removed["alex"] == {to_facilitators["message_id"]}
    assert removed["sam"] == {to_sam["message_id"]}
    assert removed["morgan"] == {to_facilitators["message_id"]}  # a co-facilitator never saw Dana's private.send
    assert removed["jordan"] == set()
    assert removed["guest"] == set()


async def test_a_guest_hears_only_of_removed_messages_inside_their_admission(connect, live_group, dana, alex):
    dana_peer, alex_peer = await connect_all(connect, live_group, dana, alex)
    await dana_peer.request("mode.set", mode="open")
    before = await alex_peer.request("chat.send", text="Before Maria")
    _, redeemed, guest = await ainvite_and_redeem(live_group, alex, "Maria", "spouse")
    guest_peer, _ = await connect(redeemed.cookie, live_group.pk)
    await dana_peer.request("lobby.admit", participant_id=guest.pk)
    await guest_peer.receive_type("session.state")
    during = await alex_peer.request("chat.send", text="While Maria is in")
    await guest_peer.receive_type("chat.message")
    await dana_peer.request("lobby.return", participant_id=guest.pk)
    await guest_peer.receive_type("session.state")
    after = await alex_peer.request("chat.send", text="After Maria left")
    await dana_peer.request("lobby.admit", participant_id=guest.pk)
    await guest_peer.receive_type("session.state")
    await guest_peer.drain()
    for message in (before, during, after):
        await dana_peer.request("message.remove", message_id=message["message_id"])
    heard = removals(await guest_peer.drain())
    assert heard == {during["message_id"]}


@pytest.mark.parametrize("since", [0, 1, 2, 3])
async def test_removed_message_ids_on_resuming_hold_only_readable_messages(connect, live_group, dana, alex, sam, since):
    dana_peer, alex_peer = await connect_all(connect, live_group, dana, alex)
    await dana_peer.request("mode.set", mode="open")
    private = await alex_peer.request("chat.send", text="Only for you", to="facilitators")
    public = await alex_peer.request("chat.send", text="For everyone")
    for message in (private, public):
        await dana_peer.request("message.remove", message_id=message["message_id"])
    sam_peer, _ = await connect(sam, live_group.pk, since=3)
    assert sam_peer.state["removed_message_ids"] == [public["message_id"]]
    alex_again, _ = await connect(alex, live_group.pk, since=3)
    assert set(alex_again.state["removed_message_ids"]) == {private["message_id"], public["message_id"]}
    late, _ = await connect(sam, live_group.pk, since=since)
    assert private["message_id"] not in (late.state["removed_message_ids"] or [])


# ---------------------------------------------------------------- over a real server

database = e2e.sqlite_db
daphne = e2e.daphne


@pytest.mark.e2e
@pytest.mark.slow
async def test_a_real_server_removes_a_patients_guest_and_keeps_private_removals_private(database, daphne):
    env = e2e.server_env(database)
    clinic = e2e.provision(env, facilitator="dana", patients=["alex", "sam"], title="Removals", allow_guests=True)
    join_path = e2e.invite_guest(env, clinic.session_id, for_patient="alex", name="Pat")
    server = daphne(env, name="daphne-removals")
    cookies = await asyncio.to_thread(e2e.login_all, server.base_url, ["dana", "alex", "sam"])
    cookies["pat"], _ = await asyncio.to_thread(redeem, server.base_url, join_path)
    dana, alex, sam, pat = [
        await e2e.ws_connect(server.base_url, clinic.session_id, cookies[name], name=name) for name in cookies
    ]
    assert (await dana.request("session.start"))["type"] == "ack"
    assert (await dana.request("lobby.admit", participant_id=pat.participant_id))["type"] == "ack"
    await pat.receive_until(lambda f: f["type"] == "session.state" and f["me"]["admitted"])
    private = await alex.request("chat.send", text="Only for the facilitators", to="facilitators")
    assert (await dana.request("message.remove", message_id=private["message_id"]))["type"] == "ack"
    assert (await dana.request("participant.remove", participant_id=alex.participant_id))["type"] == "ack"
    assert await pat.wait_closed() == 4403
    assert {"type": "participant.removed", "participant_id": pat.participant_id} in pat.frames + list(pat.backlog)
    guest_removed = e2e.frame_is("participant.removed", participant_id=pat.participant_id)
    assert (await sam.receive_type("participant.removed", where=guest_removed))["participant_id"] == pat.participant_id
    for outsider in (sam, pat):
        assert removals([*outsider.frames, *outsider.backlog]) == set(), outsider.name
    again = await e2e.ws_connect(server.base_url, clinic.session_id, cookies["pat"], name="pat again")
    assert again.close_code == 4403
    await e2e.close_all([dana, alex, sam])
    e2e.assert_no_traceback(server.log_text())
