"""WebSocket hardening: origin allowlist, frame limits, per-frame authorization (docs/security.md).

The handshake check refuses cross-site pages even when the browser sends a
valid session cookie (cross-site WebSocket hijacking); every action re-reads
the sender's participant row, so a role taken away or a removal whose
broadcast was lost takes effect on the very next frame; the socket guard then
closes or refreshes the stale socket on its own.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from config.env import parse_origin
from rooms.frames import FRAME_TYPES, parse_client_frame
from rooms.models import AuditEntry, GroupSession, Participant
from rooms.origin import origin_allowed
from tests.conftest import cookie_for, pid, set_room
from tests.frames import ANYONE, EXAMPLES, FACILITATOR_ONLY, Targets, aim, room_snapshot
from tests.security_support import reply, send_raw

pytestmark = pytest.mark.django_db(transaction=True)

ALLOWED = ["localhost", "127.0.0.1"]


def served_as(origin: str) -> dict[str, Any]:
    """These tests hold the host rule: the socket is served on the origin's own scheme and port
    (tests/test_security_origin.py holds the scheme and port rules)."""
    parsed = parse_origin(origin)
    return {"scheme": parsed.scheme, "port": parsed.port} if parsed else {"scheme": "http", "port": 80}


# ---------------------------------------------------------------- origin allowlist


@pytest.mark.parametrize(
    "origin",
    [
        "http://localhost",
        "https://localhost",
        "http://localhost:8000",
        "http://LOCALHOST",
        "http://127.0.0.1:9999",
    ],
)
def test_same_site_origins_are_allowed(origin):
    assert origin_allowed(origin, ALLOWED, **served_as(origin))


@pytest.mark.parametrize(
    "origin",
    [
        "http://localhost.evil.example",  # the allowed host as a prefix
        "http://evil.example",
        "http://evillocalhost",  # ... as a suffix
        "http://evil-localhost",
        "http://localhost-evil.example",
        "http://127.0.0.1.evil.example",
        "http://localhost@evil.example",  # userinfo
        "http://localhost:80@evil.example",
        "http://evil.example/localhost",  # in the path
        "http://evil.example?localhost",
        "http://evil.example#localhost",
        "http://evil.example\\@localhost",  # backslash games
        "http://localhost%2eevil.example",
        "http://localhost.",  # trailing dot: not the same string as an allowed host
        "http://[::1]",  # not in ALLOWED_HOSTS
        "http://localhost:99999",  # malformed port
        "http://localhost:abc",
        "ws://localhost",  # a page's origin is http(s)
        "file://",
        "file://localhost",
        "null",
        "",
        "localhost",
        "//localhost",
        "http://",
        "http://localhost\x00.evil.example",
    ],
)
def test_foreign_or_malformed_origins_are_refused(origin):
    assert not origin_allowed(origin, ALLOWED, **served_as(origin))


def test_leading_dot_allows_subdomains_only_of_that_domain():
    hosts = [".clinic.example"]
    assert origin_allowed("https://circle.clinic.example", hosts, scheme="https", port=443)
    assert origin_allowed("https://clinic.example", hosts, scheme="https", port=443)
    assert not origin_allowed("https://clinic.example.evil.example", hosts, scheme="https", port=443)
    assert not origin_allowed("https://evilclinic.example", hosts, scheme="https", port=443)


@pytest.mark.parametrize(
    "origin", ["http://localhost.evil.example", "http://evil.example", "http://localhost@evil.example", "null"]
)
async def test_cross_site_handshake_with_a_valid_cookie_is_refused(connect, group, alex, origin):
    """The cookie is genuine (a signed-in patient): the foreign page still gets no socket."""
    cookie = await sync_to_async(cookie_for)(alex)
    peer, closed = await connect(cookie, group.pk, origin=origin)
    assert closed == 403
    # ... and the same cookie from the clinic's own page works: the refusal was the origin's.
    peer, closed = await connect(cookie, group.pk, origin="http://localhost")
    assert closed is None and peer.state["me"]["display_name"] == "Alex"


async def test_a_second_origin_header_cannot_smuggle_a_foreign_origin(group, alex):
    from config.asgi import application

    cookie = await sync_to_async(cookie_for)(alex)
    for origins in (["http://evil.example", "http://localhost"], ["http://localhost", "http://evil.example"]):
        headers = [(b"cookie", cookie.encode())] + [(b"origin", o.encode()) for o in origins]
        communicator = WebsocketCommunicator(application, f"/ws/sessions/{group.pk}/", headers=headers)
        connected, _ = await communicator.connect(timeout=5)
        assert not connected, f"two Origin headers {origins} must be refused"
        await communicator.disconnect()


# ---------------------------------------------------------------- frame size and malformed bursts


async def test_frame_over_16_kib_is_refused_and_reaches_nobody(connect, live_group, dana, alex):
    await set_room(live_group, mode="open")
    alex_peer, _ = await connect(alex, live_group.pk)
    dana_peer, _ = await connect(dana, live_group.pk)
    await alex_peer.receive_type("participant.joined")
    await dana_peer.drain()  # her own arrival may still be on its way
    # 16 KiB + 1 in UTF-8 bytes (multi-byte characters count as bytes, not characters).
    big = '{"type":"chat.send","text":"' + "é" * 8200 + '"}'
    assert len(big.encode()) > 16 * 1024
    await send_raw(alex_peer, big)
    answer = await reply(alex_peer)
    assert answer["code"] == "too_long" and "16 KiB" in answer["message"]
    assert await dana_peer.nothing_more()


# ---------------------------------------------------------------- facilitator-only frames


def test_the_facilitator_only_table_is_every_other_handled_frame_and_each_example_passes_the_edge():
    assert set(FRAME_TYPES) - ANYONE == FACILITATOR_ONLY
    targets = Targets(
        participant_id=1, admitted_guest_id=2, waiting_guest_id=3, message_id=4, prompt_id=5, item_id=6, invite_id=7
    )
    for example in EXAMPLES:
        # the frame passes the edge: only authorization can refuse it
        assert parse_client_frame(json.dumps(example.frame(targets))).type == example.type, example.id


@pytest.fixture
def sealed_room(live_group, dana, alex, sam) -> tuple[GroupSession, Targets]:
    """A live group with one message, an agenda item, one pending invitation, and an admitted and a waiting guest."""
    return live_group, aim(live_group, dana, alex, sam)


@pytest.mark.parametrize("sender", ["patient", "admitted guest", "lobby guest"])
async def test_every_facilitator_only_frame_from_a_patient_or_guest_is_refused(connect, sealed_room, dana, sam, sender):
    room, targets = sealed_room
    dana_peer, _ = await connect(dana, room.pk)
    peer, closed = await connect({"patient": sam, **targets.cookies}[sender], room.pk)
    assert closed is None
    await dana_peer.receive_type("participant.joined")
    await dana_peer.drain(0.2)  # the arrival's other events (lobby.waiting...)
    audit_before = await AuditEntry.objects.acount()
    before = await sync_to_async(room_snapshot)(room)
    refused = {}
    for example in EXAMPLES:
        answer = await peer.request(example.type, **example.fields(targets))
        refused[example.id] = answer.get("code") if answer["type"] == "error" else "ACCEPTED"
    assert refused == {example.id: "not_allowed" for example in EXAMPLES}
    # Nothing changed and nobody heard of it.
    assert await sync_to_async(room_snapshot)(room) == before
    assert await AuditEntry.objects.acount() == audit_before
    assert not await Participant.objects.filter(session=room, removed_at__isnull=False).aexists()
    assert await dana_peer.nothing_more()


# ---------------------------------------------------------------- authorization on every frame, not only at connect


async def test_a_facilitator_demoted_mid_connection_is_refused_on_the_next_frame(
    connect, live_group, dana, alex, settings
):
    settings.SOCKET_RECHECK_SECONDS = 0.2
    dana_peer, _ = await connect(dana, live_group.pk)
    assert dana_peer.state["me"]["role"] == "facilitator"
    assert (await dana_peer.request("mode.set", mode="open"))["type"] == "ack"
    # Clinic staff change her row (say, in the admin) while her socket stays open.
    await Participant.objects.filter(pk=await pid(live_group, dana)).aupdate(role="patient")
    for frame_type, fields in [("mode.set", {"mode": "moderated"}), ("session.end", {}), ("floor.revoke", {})]:
        answer = await dana_peer.request(frame_type, **fields)
        assert answer["type"] == "error" and answer["code"] == "not_allowed", (frame_type, answer)
    assert (await GroupSession.objects.aget(pk=live_group.pk)).status == "live"
    # The guard notices the new role and refreshes the socket's view of itself (at its next
    # re-check, which a busy machine may run late) ...
    state = await dana_peer.receive_type("session.state", timeout=15)
    assert state["me"]["role"] == "patient"
    # ... so facilitator-only traffic (the private line to the facilitators) no longer reaches her.
    alex_peer, _ = await connect(alex, live_group.pk)
    assert (await alex_peer.request("chat.send", text="Only for staff", to="facilitators"))["type"] == "ack"
    while True:
        try:
            frame = await dana_peer.receive(0.5)
        except TimeoutError:
            break
        assert "Only for staff" not in str(frame)


async def test_a_removed_participants_stale_socket_can_do_nothing_and_is_closed(
    connect, live_group, dana, alex, settings
):
    """The removal's broadcast was lost (only the row changed): every frame is refused, then the guard closes it."""
    settings.SOCKET_RECHECK_SECONDS = 0.3
    await set_room(live_group, mode="open")
    alex_peer, _ = await connect(alex, live_group.pk)
    dana_peer, _ = await connect(dana, live_group.pk)
    await Participant.objects.filter(pk=await pid(live_group, alex)).aupdate(removed_at=timezone.now())
    answer = await alex_peer.request("chat.send", text="Am I still here?")
    assert answer["type"] == "error" and answer["code"] == "not_allowed"
    answer = await alex_peer.request("hand.raise")
    assert answer["type"] == "error" and answer["code"] == "not_allowed"
    assert not await Participant.objects.filter(session=live_group, hand_raised_at__isnull=False).aexists()
    frames, code = await alex_peer.until_close(timeout=3)
    assert code == 4403
    assert all("Am I still here?" not in str(frame) for frame in frames)
    # Nobody heard the refused message.
    heard = await dana_peer.drain(0.2)
    assert all(frame.get("text") != "Am I still here?" for frame in heard)


async def test_a_removed_participant_cannot_reconnect(connect, live_group, alex):
    await Participant.objects.filter(pk=await pid(live_group, alex)).aupdate(removed_at=timezone.now())
    _, closed = await connect(alex, live_group.pk)
    assert closed == 4403
