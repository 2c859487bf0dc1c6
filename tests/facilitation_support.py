"""Helpers for the facilitation tests: replies that lose no frames, guests, quiet-period reads."""

from __future__ import annotations

import itertools
from datetime import datetime

import pytest
from django.utils import timezone

from rooms.models import GroupSession, Participant

_refs = itertools.count(1)


def kept(peer) -> list[dict]:
    """Frames that arrived while `ask` waited for its reply, oldest first (nothing is lost)."""
    if not hasattr(peer, "kept"):
        peer.kept = []
    return peer.kept


async def ask(peer, frame_type: str, **fields) -> dict:
    """Send with a ref; return its ack or error, keeping every other frame for later."""
    ref = f"t{next(_refs)}"
    await peer.send(type=frame_type, ref=ref, **fields)
    while True:
        frame = await peer.receive(timeout=5)
        if frame["type"] in {"ack", "error"} and frame.get("ref") == ref:
            return frame
        kept(peer).append(frame)


async def next_of(peer, frame_type: str, timeout: float = 3) -> dict:
    """The next frame of `frame_type` (earlier frames of other types are dropped)."""
    backlog = kept(peer)
    while backlog:
        frame = backlog.pop(0)
        if frame["type"] == frame_type:
            return frame
    return await peer.receive_type(frame_type, timeout)


async def frames_for(peer, quiet: float = 0.4) -> list[dict]:
    """Everything `peer` has received, and receives until it has been quiet for `quiet` seconds."""
    frames, peer.kept = kept(peer), []
    while not await peer.communicator.receive_nothing(timeout=quiet):
        frames.append(await peer.receive())
    return frames


def of_type(frames: list[dict], frame_type: str) -> list[dict]:
    return [f for f in frames if f["type"] == frame_type]


def parse(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))



def guest_cookie(participant_id: int, session_id: int) -> str:
    from django.contrib.sessions.backends.db import SessionStore

    from rooms.ws_auth import GUEST_SESSION_KEY

    store = SessionStore()
    store[GUEST_SESSION_KEY] = {"participant_id": participant_id, "session_id": session_id}
    store.save()
    return f"sessionid={store.session_key}"


def make_guest(session: GroupSession, *, admitted: bool) -> tuple[int, str]:
    from rooms.actions import guests

    now = timezone.now()
    _, token = guests.do_invite_by_username(session.pk, "alex", "Pat", now)
    guest = guests.do_redeem_pass(token, "Pat", "parent", now)
    if admitted:
        lead = Participant.objects.get(session=session, role="facilitator")
        guests.do_admit_guest(session.pk, lead.pk, guest.pk, now)
    return guest.pk, guest_cookie(guest.pk, session.pk)




@pytest.fixture
def in_process_layer(settings):
    """In-process consumer tests run on the in-memory layer, also when REDIS_URL is set.

    channels_redis keeps one receive lock per layer object, and the test loop changes with
    every test: with the Redis layer, in-process tests fail at random ("Lock ... is bound to
    a different event loop"). The Redis layer itself is covered by the e2e tests, with real
    daphne processes (tests/test_facilitation_e2e.py).
    """
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    yield
