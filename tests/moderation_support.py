"""Helpers for the moderation tests: a co-facilitator, an admitted guest, collecting frames."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone

from accounts.models import Member
from rooms.models import GroupSession, GuestAdmission, GuestPass, Participant
from rooms.ws_auth import GUEST_SESSION_KEY
from tests.conftest import PASSWORD, Peer


def add_cofacilitator(session: GroupSession, username: str = "morgan", display_name: str = "Morgan") -> Member:
    member = Member.objects.create_user(
        username=username, password=PASSWORD, role="facilitator", display_name=display_name
    )
    Participant.objects.create(session=session, member=member, role="facilitator", display_name=display_name)
    return member


def make_guest(session: GroupSession, patient: Member, name: str = "Maria", *, admitted: bool = True) -> Participant:
    """A guest who redeemed a pass for `patient` (and, by default, was let in from the start)."""
    host = Participant.objects.get(session=session, member=patient)
    guest = Participant.objects.create(
        session=session, role="guest", display_name=name, guest_of=host, relationship="spouse", admitted=admitted
    )
    now = timezone.now()
    GuestPass.objects.create(
        session=session,
        for_participant=host,
        name=name,
        token_hash=f"test-{guest.pk}".ljust(64, "0"),
        created_at=now,
        redeemed_at=now,
        guest=guest,
    )
    if admitted:
        GuestAdmission.objects.create(participant=guest, from_seq=session.last_seq, admitted_at=now)
    return guest


def guest_cookie(guest: Participant) -> str:
    """The Cookie header of a browser that redeemed the guest's pass."""
    store = SessionStore()
    store[GUEST_SESSION_KEY] = {"participant_id": guest.pk, "session_id": guest.session_id}
    store.save()
    return f"sessionid={store.session_key}"


async def collect(peer: Peer, seconds: float = 0.6) -> list[dict[str, Any]]:
    """Every frame the peer receives within `seconds` (for asserting what did NOT arrive).

    Polls with receive_nothing: a receive_output that times out cancels the application.
    """
    frames: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        if await peer.communicator.receive_nothing(timeout=min(0.05, max(deadline - loop.time(), 0.01))):
            continue
        output = await peer.communicator.receive_output(timeout=1)
        if output["type"] == "websocket.send":
            frames.append(json.loads(output["text"]))
        else:
            frames.append({"type": output["type"], "code": output.get("code")})
            break
    return frames
