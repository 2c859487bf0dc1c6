"""Helpers shared by the tests/test_security_*.py modules (no tests here)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.conf import settings
from django.test import Client
from django.utils import timezone

from accounts.models import Member
from rooms.actions.guests import do_admit_guest, do_create_invite, do_redeem_pass
from rooms.models import GroupSession, Participant
from rooms.ws_auth import GUEST_SESSION_KEY
from tests.conftest import Peer


@dataclass
class Guest:
    participant: Participant
    cookie: str
    token: str


def session_store(key: str | None = None) -> Any:
    return import_module(settings.SESSION_ENGINE).SessionStore(key)


def make_guest(session: GroupSession, patient: Member, name: str = "Pat", *, admitted: bool = False) -> Guest:
    """An invited, redeemed guest of `patient` with a signed-in guest cookie (the join view's session)."""
    now = timezone.now()
    lead = Participant.objects.get(session=session, role="facilitator")
    host = Participant.objects.get(session=session, member=patient)
    _, token = do_create_invite(session.pk, lead.pk, host.pk, name, now)
    guest = do_redeem_pass(token, name, "spouse", now)
    store = session_store()
    store[GUEST_SESSION_KEY] = {"participant_id": guest.pk, "session_id": session.pk}
    store.create()
    if admitted:
        do_admit_guest(session.pk, lead.pk, guest.pk, now)
        guest.refresh_from_db()
    return Guest(guest, f"sessionid={store.session_key}", token)


def logged_in_client(member: Member) -> tuple[Client, str]:
    """A Django test client signed in as `member`, and its Cookie header for a WebSocket."""
    client = Client()
    client.force_login(member)
    return client, f"sessionid={client.cookies['sessionid'].value}"


async def send_raw(peer: Peer, text: str) -> None:
    await peer.communicator.send_input({"type": "websocket.receive", "text": text})


async def reply(peer: Peer, timeout: float = 3) -> dict[str, Any]:
    """The next ack or error (broadcast events on the way are skipped)."""
    while True:
        frame = await peer.receive(timeout)
        if frame["type"] in {"ack", "error"}:
            return frame
