"""Guest passes: made three ways, random and hashed, single use, lapsing, revocable, listed with their state."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from io import StringIO
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from rooms.actions import guests
from rooms.actions.lifecycle import do_schedule_session
from rooms.models import AuditEntry, GroupSession, GuestPass, Participant
from tests.conftest import connect_all, participant, pid, set_room
from tests.guests_support import ainvite, ainvite_and_redeem, aredeem, invite, invite_and_redeem, redeem

# ------------------------------------------------------------------ the pass itself


def test_a_pass_carries_at_least_128_random_bits_and_only_its_hash_is_stored(group, alex):
    guest_pass, token = invite(group, alex)
    assert len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) * 8 >= 128
    assert guest_pass.token_hash == hashlib.sha256(token.encode()).hexdigest()
    stored = " ".join(str(value) for value in GuestPass.objects.filter(pk=guest_pass.pk).values().get().values())
    audit = " ".join(f"{e.actor_label} {e.target_label} {e.detail}" for e in AuditEntry.objects.all())
    assert token not in stored and token not in audit
    other_pass, other_token = invite(group, alex, "Lee")
    assert other_token != token and other_pass.token_hash != guest_pass.token_hash


def test_the_token_is_compared_in_constant_time(group, alex, monkeypatch):
    _, token = invite(group, alex)
    compared: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)  # the module rooms.actions.guests calls it through
    assert guests.find_pass(token).token_hash == compared[-1][0] == compared[-1][1]


def test_redeem_302_then_410_on_reuse(group, alex):
    _, token = invite(group, alex)
    first = redeem(token)
    assert first.status == 302 and first.location == f"/sessions/{group.pk}/"
    again = redeem(token, "Someone else")
    assert again.status == 410
    assert Client().get(f"/join/{token}/").status_code == 410
    assert Participant.objects.filter(session=group, role="guest").count() == 1


def test_unknown_token_is_404(group, alex):
    invite(group, alex)
    assert Client().get("/join/not-a-real-token/").status_code == 404
    assert redeem("not-a-real-token").status == 404


def test_pass_lapses_when_the_session_ends(group, alex):
    _, token = invite(group, alex)
    GroupSession.objects.filter(pk=group.pk).update(status="ended", ended_at=timezone.now())
    assert Client().get(f"/join/{token}/").status_code == 410
    assert redeem(token).status == 410


def test_pass_for_a_patient_removed_from_the_roster_is_gone(group, alex):
    _, token = invite(group, alex)
    Participant.objects.filter(session=group, member=alex).update(removed_at=timezone.now())
    assert redeem(token).status == 410


# ------------------------------------------------------------------ invite_guest (the command)


def test_invite_guest_prints_the_join_path(group, alex):
    out = StringIO()
    call_command("invite_guest", str(group.pk), "--for", "alex", "--name", "Maria", stdout=out)
    path = out.getvalue().strip().splitlines()[-1]
    assert re.fullmatch(r"/join/[A-Za-z0-9_-]{22,}/", path)
    assert Client().get(path).status_code == 200


@pytest.mark.parametrize("case", ["no guests allowed", "not on the roster", "a facilitator", "unknown session"])
def test_invite_guest_refuses_and_creates_nothing(dana, alex, sam, outsider, case):
    session = do_schedule_session(
        title="Group",
        facilitator="dana",
        patients=["alex", "sam"],
        starts_at=timezone.now(),
        allow_guests=case != "no guests allowed",
    )
    who = {"not on the roster": "casey", "a facilitator": "dana"}.get(case, "alex")
    session_id = session.pk + 100 if case == "unknown session" else session.pk
    with pytest.raises(CommandError):  # from the shell: one line on stderr, a non-zero exit
        call_command("invite_guest", str(session_id), "--for", who, "--name", "Maria", stderr=StringIO())
    assert not GuestPass.objects.exists()


# ------------------------------------------------------------------ invite.create over the WebSocket

pytestmark_ws = pytest.mark.django_db(transaction=True)


@pytestmark_ws
async def test_invite_create_over_the_socket(connect, group, dana, alex, sam):
    dana_peer, alex_peer, sam_peer = await connect_all(connect, group, dana, alex, sam)
    for peer in (dana_peer, alex_peer, sam_peer):
        await peer.drain()
    alex_id = await pid(group, alex)
    reply = await dana_peer.request("invite.create", for_participant_id=alex_id, name="Maria")
    assert reply["type"] == "ack" and re.fullmatch(r"/join/[A-Za-z0-9_-]{22,}/", reply["join_path"])
    assert (await sync_to_async(Client().get)(reply["join_path"])).status_code == 200
    # The facilitators and the patient it is for hear of it; nobody else does.
    told = (await alex_peer.receive_type("invite.updated"))["invite"]
    assert told["invite_id"] == reply["invite_id"] and told["state"] == "sent"
    assert told["for_participant_id"] == alex_id and told["name"] == "Maria"
    assert await sam_peer.nothing_more()


@pytestmark_ws
async def test_invite_create_rules(connect, group, dana, alex, sam):
    dana_peer, alex_peer = await connect_all(connect, group, dana, alex)
    sam_id, dana_id = await pid(group, sam), await pid(group, dana)
    assert (await alex_peer.request("invite.create", for_participant_id=sam_id, name="X"))["code"] == "not_allowed"
    assert (await dana_peer.request("invite.create", for_participant_id=dana_id, name="X"))["code"] == "not_found"
    assert (await dana_peer.request("invite.create", for_participant_id=sam_id, name=""))["code"] == "invalid"
    assert (await dana_peer.request("invite.create", for_participant_id=sam_id, name="  "))["code"] == "invalid"
    await set_room(group, allow_guests=False)
    assert (await dana_peer.request("invite.create", for_participant_id=sam_id, name="X"))["code"] == "not_allowed"
    assert not await GuestPass.objects.aexists()


# ------------------------------------------------------------------ revoking


@pytestmark_ws
async def test_revoke_closes_a_waiting_guest_and_kills_the_link(connect, live_group, dana, alex, sam):
    dana_peer, alex_peer = await connect_all(connect, live_group, dana, alex)
    guest_pass, redeemed, guest = await ainvite_and_redeem(live_group, alex)
    unused_pass, unused_token = await ainvite(live_group, sam, "Lee")
    guest_peer, closed = await connect(redeemed.cookie, live_group.pk)
    assert closed is None
    await dana_peer.drain()
    await alex_peer.drain()

    assert (await dana_peer.request("invite.revoke", invite_id=guest_pass.pk))["type"] == "ack"
    assert (await guest_peer.receive_type("participant.removed"))["participant_id"] == guest.pk
    assert await guest_peer.communicator.receive_output(timeout=3) == {"type": "websocket.close", "code": 4403}
    _, closed = await connect(redeemed.cookie, live_group.pk)
    assert closed == 4403
    told = (await alex_peer.receive_type("invite.updated"))["invite"]
    assert told["invite_id"] == guest_pass.pk and told["state"] == "revoked" and told["declined"] is False

    assert (await dana_peer.request("invite.revoke", invite_id=unused_pass.pk))["type"] == "ack"
    assert (await aredeem(unused_token)).status == 410
    assert (await alex_peer.request("invite.revoke", invite_id=unused_pass.pk))["code"] == "not_allowed"
    assert (await dana_peer.request("invite.revoke", invite_id=999_999))["code"] == "not_found"


# ------------------------------------------------------------------ the list of passes and their state


@pytestmark_ws
async def test_facilitators_see_every_pass_with_its_state(connect, live_group, dana, alex, sam):
    dana_peer, _ = await connect(dana, live_group.pk)

    async def states() -> dict[str, str]:
        peer, _ = await connect(dana, live_group.pk)
        found = {i["name"]: i["state"] for i in peer.state["invites"]}
        await peer.close()
        return found

    await ainvite(live_group, alex, "Sent")
    revoked_pass, _ = await ainvite(live_group, alex, "Revoked")
    _, redeemed, guest = await ainvite_and_redeem(live_group, sam, "Robin")
    assert await states() == {"Sent": "sent", "Revoked": "sent", "Robin": "redeemed"}

    guest_peer, _ = await connect(redeemed.cookie, live_group.pk)
    assert (await states())["Robin"] == "in_lobby"
    await dana_peer.request("lobby.admit", participant_id=guest.pk)
    assert (await states())["Robin"] == "admitted"
    await dana_peer.request("lobby.return", participant_id=guest.pk)
    assert (await states())["Robin"] == "in_lobby"
    await guest_peer.close()
    assert (await states())["Robin"] == "redeemed"
    await dana_peer.request("invite.revoke", invite_id=revoked_pass.pk)
    assert await states() == {"Sent": "sent", "Revoked": "revoked", "Robin": "redeemed"}

    await set_room(live_group, status="ended", ended_at=timezone.now())
    ended = await sync_to_async(guests_for_page)(live_group, dana)
    assert ended == {"Sent": "lapsed", "Revoked": "revoked", "Robin": "redeemed"}


def guests_for_page(session: GroupSession, facilitator: Any) -> dict[str, str]:
    from rooms.visibility import visible_invites

    me = participant(session, facilitator)
    invites = visible_invites(me)
    assert invites is not None, "a facilitator sees the session's invitations"
    return {i.name: i.state for i in invites}


@pytestmark_ws
async def test_invites_are_announced_as_they_change(connect, live_group, dana, alex):
    dana_peer, _ = await connect(dana, live_group.pk)
    await dana_peer.drain()

    async def announcement() -> str:
        return (await dana_peer.receive_type("invite.updated"))["invite"]["state"]

    _, redeemed, guest = await ainvite_and_redeem(live_group, alex)
    announced = [await announcement(), await announcement()]
    await connect(redeemed.cookie, live_group.pk)
    announced.append(await announcement())
    await dana_peer.send(type="lobby.admit", participant_id=guest.pk)
    announced.append(await announcement())
    announced += [f["invite"]["state"] for f in await dana_peer.drain() if f["type"] == "invite.updated"]
    assert announced == ["sent", "redeemed", "in_lobby", "admitted"]


# ------------------------------------------------------------------ the facilitator's invitations page


def facilitator_client(member: Any) -> Client:
    client = Client()
    client.force_login(member)
    return client


def test_invites_page_makes_a_link_shown_once(group, dana, alex):
    client = facilitator_client(dana)
    page = client.get(f"/sessions/{group.pk}/invites/")
    assert page.status_code == 200 and "Alex" in page.content.decode()
    alex_id = participant(group, alex).pk
    made = client.post(f"/sessions/{group.pk}/invites/", {"for_participant": alex_id, "name": "Maria"})
    assert made.status_code == 201
    shown = re.search(r'value="(http://testserver/join/[A-Za-z0-9_-]+/)"', made.content.decode())
    assert shown is not None, "the page shows the link"
    link = shown.group(1)
    assert made["Cache-Control"].startswith("max-age=0") or "no-store" in made["Cache-Control"]
    token = link.rsplit("/", 2)[-2]
    listed = client.get(f"/sessions/{group.pk}/invites/").content.decode()
    assert token not in listed and "Maria" in listed and "sent, not used yet" in listed
    assert redeem(token).status == 302
    assert "link used" in client.get(f"/sessions/{group.pk}/invites/").content.decode()


def test_invites_page_is_for_this_sessions_facilitators_only(group, dana, alex, sam):
    invite(group, alex)
    for member in (alex, sam):
        client = facilitator_client(member)
        assert client.get(f"/sessions/{group.pk}/invites/").status_code == 404
        alex_id = participant(group, alex).pk
        made = client.post(f"/sessions/{group.pk}/invites/", {"for_participant": alex_id, "name": "X"})
        assert made.status_code == 404
    assert Client().get(f"/sessions/{group.pk}/invites/").status_code == 302
    assert GuestPass.objects.count() == 1


def test_invites_page_refuses_sessions_without_guests(dana, alex):
    session = do_schedule_session(title="Closed group", facilitator="dana", patients=["alex"], starts_at=timezone.now())
    client = facilitator_client(dana)
    page = client.get(f"/sessions/{session.pk}/invites/").content.decode()
    assert "not scheduled for family guests" in page
    alex_id = participant(session, alex).pk
    refused = client.post(f"/sessions/{session.pk}/invites/", {"for_participant": alex_id, "name": "Maria"})
    assert refused.status_code == 403
    assert not GuestPass.objects.exists()


def test_invites_page_offers_only_roster_patients(group, dana, alex):
    client = facilitator_client(dana)
    dana_id = participant(group, dana).pk
    refused = client.post(f"/sessions/{group.pk}/invites/", {"for_participant": dana_id, "name": "Maria"})
    assert refused.status_code == 400
    assert not GuestPass.objects.exists()


def test_revoking_from_the_page(group, dana, alex):
    guest_pass, token = invite(group, alex)
    client = facilitator_client(dana)
    response = client.post(f"/sessions/{group.pk}/invites/{guest_pass.pk}/revoke/")
    assert response.status_code == 302
    guest_pass.refresh_from_db()
    assert guest_pass.revoked_at is not None
    assert redeem(token).status == 410
    assert "withdrawn" in client.get(f"/sessions/{group.pk}/invites/").content.decode()
    other = facilitator_client(alex)
    assert other.post(f"/sessions/{group.pk}/invites/{guest_pass.pk}/revoke/").status_code == 404


def test_redeemed_guest_revoked_from_the_page_cannot_come_back(group, dana, alex):
    guest_pass, redeemed, guest = invite_and_redeem(group, alex)
    facilitator_client(dana).post(f"/sessions/{group.pk}/invites/{guest_pass.pk}/revoke/")
    guest.refresh_from_db()
    assert guest.removed_at is not None
    assert redeemed.client.get(f"/sessions/{group.pk}/").status_code == 403
