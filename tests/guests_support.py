"""Helpers for the family-guest tests: invitations, redeeming a pass, a guest's Cookie header."""

from __future__ import annotations

from dataclasses import dataclass

from asgiref.sync import sync_to_async
from django.test import Client
from django.utils import timezone

from accounts.models import Member
from rooms.actions.guests import do_invite_by_username
from rooms.models import GroupSession, GuestPass, Participant


def invite(session: GroupSession, patient: Member, name: str = "Maria") -> tuple[GuestPass, str]:
    """A pass made the way the clinic's invite_guest command makes it; returns (pass, token)."""
    return do_invite_by_username(session.pk, patient.username, name, timezone.now())


@dataclass
class Redeemed:
    client: Client
    status: int
    location: str

    @property
    def cookie(self) -> str:
        return f"sessionid={self.client.cookies['sessionid'].value}"


def redeem(token: str, display_name: str = "Maria", relationship: str = "spouse", accept: bool = True) -> Redeemed:
    """POST /join/<token>/ as a new browser, like a guest would."""
    client = Client()
    data = {"display_name": display_name, "relationship": relationship}
    if accept:
        data["accept_rules"] = "on"
    response = client.post(f"/join/{token}/", data)
    return Redeemed(client, response.status_code, response.headers.get("Location", ""))


def invite_and_redeem(
    session: GroupSession, patient: Member, display_name: str = "Maria", relationship: str = "spouse"
) -> tuple[GuestPass, Redeemed, Participant]:
    guest_pass, token = invite(session, patient, display_name)
    redeemed = redeem(token, display_name, relationship)
    assert redeemed.status == 302, redeemed.status
    guest_pass.refresh_from_db()
    assert guest_pass.guest_id is not None, "redeemed"
    return guest_pass, redeemed, Participant.objects.get(pk=guest_pass.guest_id)


ainvite = sync_to_async(invite)
aredeem = sync_to_async(redeem)
ainvite_and_redeem = sync_to_async(invite_and_redeem)
