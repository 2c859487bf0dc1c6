"""Consent: the patient a guest is linked to sees the invitation and can decline it, in the room or on the dashboard."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from rooms.models import AuditEntry, GuestPass, Participant
from tests.conftest import connect_all, pid
from tests.guests_support import ainvite, ainvite_and_redeem, aredeem, invite, invite_and_redeem, redeem


def signed_in(member: Any) -> Client:
    client = Client()
    client.force_login(member)
    return client


# ------------------------------------------------------------------ seeing the invitation


@pytest.mark.django_db(transaction=True)
async def test_the_patient_sees_their_invitations_and_only_theirs(connect, group, dana, alex, sam):
    for_alex, _ = await ainvite(group, alex, "Maria")
    await ainvite(group, sam, "Lee")
    alex_peer, sam_peer, dana_peer = await connect_all(connect, group, alex, sam, dana)
    mine = alex_peer.state["invites"]
    assert [(i["invite_id"], i["name"], i["state"], i["for_display_name"]) for i in mine] == [
        (for_alex.pk, "Maria", "sent", "Alex")
    ]
    assert [i["name"] for i in sam_peer.state["invites"]] == ["Lee"]
    assert sorted(i["name"] for i in dana_peer.state["invites"]) == ["Lee", "Maria"]


@pytest.mark.django_db(transaction=True)
async def test_the_patient_hears_of_a_new_invitation_in_the_room(connect, group, dana, alex, sam):
    dana_peer, alex_peer, sam_peer = await connect_all(connect, group, dana, alex, sam)
    await alex_peer.drain()
    await sam_peer.drain()
    await dana_peer.request("invite.create", for_participant_id=await pid(group, alex), name="Maria")
    event = await alex_peer.receive_type("invite.updated")
    assert event["invite"]["name"] == "Maria" and event["invite"]["state"] == "sent"
    assert await sam_peer.nothing_more()


def test_the_patient_sees_the_invitation_on_the_dashboard(group, alex, sam):
    invite(group, alex, "Maria")
    assert "Maria" in signed_in(alex).get("/").content.decode()
    assert "Maria" not in signed_in(sam).get("/").content.decode()


# ------------------------------------------------------------------ declining in the room


@pytest.mark.django_db(transaction=True)
async def test_declining_in_the_room_revokes_the_pass_and_tells_the_facilitators(connect, group, dana, alex, sam):
    guest_pass, token = await ainvite(group, alex, "Maria")
    dana_peer, alex_peer, sam_peer = await connect_all(connect, group, dana, alex, sam)
    await dana_peer.drain()
    await sam_peer.drain()

    assert (await alex_peer.request("invite.decline", invite_id=guest_pass.pk))["type"] == "ack"
    told = (await dana_peer.receive_type("invite.updated"))["invite"]
    assert told["invite_id"] == guest_pass.pk and told["state"] == "revoked" and told["declined"] is True
    assert await sam_peer.nothing_more()
    assert (await aredeem(token)).status == 410
    await guest_pass.arefresh_from_db()
    assert guest_pass.declined and guest_pass.revoked_at is not None
    assert await AuditEntry.objects.filter(action="invite.decline", actor__member=alex).aexists()
    # Declining twice changes nothing.
    assert (await alex_peer.request("invite.decline", invite_id=guest_pass.pk))["type"] == "ack"


@pytest.mark.django_db(transaction=True)
async def test_only_the_patient_it_is_for_may_decline(connect, group, dana, alex, sam):
    guest_pass, _ = await ainvite(group, alex, "Maria")
    sam_peer, dana_peer = await connect_all(connect, group, sam, dana)
    assert (await sam_peer.request("invite.decline", invite_id=guest_pass.pk))["code"] == "not_allowed"
    assert (await dana_peer.request("invite.decline", invite_id=guest_pass.pk))["code"] == "not_allowed"
    assert (await sam_peer.request("invite.decline", invite_id=999_999))["code"] == "not_found"
    assert (await sam_peer.request("invite.decline", invite_id="1"))["code"] == "invalid"
    await guest_pass.arefresh_from_db()
    assert guest_pass.revoked_at is None


@pytest.mark.django_db(transaction=True)
async def test_declining_a_guest_waiting_in_the_lobby_closes_them(connect, live_group, dana, alex):
    guest_pass, redeemed, guest = await ainvite_and_redeem(live_group, alex)
    dana_peer, alex_peer = await connect_all(connect, live_group, dana, alex)
    guest_peer, closed = await connect(redeemed.cookie, live_group.pk)
    assert closed is None
    await dana_peer.drain()

    await alex_peer.request("invite.decline", invite_id=guest_pass.pk)
    assert (await guest_peer.receive_type("participant.removed"))["participant_id"] == guest.pk
    assert await guest_peer.communicator.receive_output(timeout=3) == {"type": "websocket.close", "code": 4403}
    seen = await dana_peer.drain()
    assert {"type": "participant.removed", "participant_id": guest.pk} in seen
    assert [f["invite"]["declined"] for f in seen if f["type"] == "invite.updated"] == [True]
    _, closed = await connect(redeemed.cookie, live_group.pk)
    assert closed == 4403


@pytest.mark.django_db(transaction=True)
async def test_declining_an_admitted_guest_takes_them_out_of_the_room(connect, live_group, dana, alex, sam):
    guest_pass, redeemed, guest = await ainvite_and_redeem(live_group, alex)
    dana_peer, alex_peer, sam_peer, guest_peer = await connect_all(
        connect, live_group, dana, alex, sam, redeemed.cookie
    )
    await dana_peer.request("lobby.admit", participant_id=guest.pk)
    await guest_peer.receive_type("session.state")

    await alex_peer.request("invite.decline", invite_id=guest_pass.pk)
    for peer in (guest_peer, sam_peer, dana_peer):
        assert (await peer.receive_type("participant.removed"))["participant_id"] == guest.pk
    assert await guest_peer.communicator.receive_output(timeout=3) == {"type": "websocket.close", "code": 4403}
    _, closed = await connect(redeemed.cookie, live_group.pk)
    assert closed == 4403
    assert (await Participant.objects.aget(pk=guest.pk)).removed_at is not None


# ------------------------------------------------------------------ declining on the dashboard


def test_declining_on_the_dashboard(group, alex, sam):
    guest_pass, token = invite(group, alex, "Maria")
    assert signed_in(sam).post(f"/invitations/{guest_pass.pk}/decline/").status_code == 404
    guest_pass.refresh_from_db()
    assert guest_pass.revoked_at is None

    alex_client = signed_in(alex)
    response = alex_client.post(f"/invitations/{guest_pass.pk}/decline/")
    assert response.status_code == 302
    guest_pass.refresh_from_db()
    assert guest_pass.declined and guest_pass.revoked_at is not None
    assert redeem(token).status == 410
    assert alex_client.get(f"/invitations/{guest_pass.pk}/decline/").status_code == 405


def test_declining_on_the_dashboard_after_redemption_closes_the_guest_out(group, alex):
    guest_pass, redeemed, guest = invite_and_redeem(group, alex)
    signed_in(alex).post(f"/invitations/{guest_pass.pk}/decline/")
    guest.refresh_from_db()
    assert guest.removed_at is not None
    assert redeemed.client.get(f"/sessions/{group.pk}/").status_code == 403


@pytest.mark.django_db(transaction=True)
async def test_a_dashboard_decline_reaches_the_facilitators_in_the_room(connect, group, dana, alex):
    guest_pass, _ = await ainvite(group, alex, "Maria")
    dana_peer, _ = await connect(dana, group.pk)
    await dana_peer.drain()
    client = await sync_to_async(signed_in)(alex)
    response = await sync_to_async(client.post)(f"/invitations/{guest_pass.pk}/decline/")
    assert response.status_code == 302
    told = (await dana_peer.receive_type("invite.updated"))["invite"]
    assert told["invite_id"] == guest_pass.pk and told["declined"] is True
    assert not await GuestPass.objects.filter(pk=guest_pass.pk, revoked_at__isnull=True).aexists()
