"""Hypothesis drives the consumer with random frames from every role and checks confidentiality.

Each example builds two live rooms: A (Dana facilitates Alex and Sam; Alex's
guest Pat waits in the lobby) and B (Fran and Riley, whose every message is
marked SECRETB). Before Pat is admitted, A already holds a message marked
BEFOREADM and Alex's private line to the facilitators marked PRIVLINE. Then
random steps run: well-formed and malformed frames of every type, aimed at
participants, messages and invitations of both rooms, from Dana, Alex, Sam and
Pat, and reconnects with random `?since=`. Chat sent while Pat is outside the
room is marked LOBBYTIME.

Whatever happens: nothing crashes (every socket answers or is closed with a
contract code), nothing of room B reaches room A, Pat never receives anything
from before an admission, and the private line reaches no other patient.
"""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from accounts.models import Member
from rooms.actions.chat import do_send_chat, do_send_private
from rooms.actions.guests import do_create_invite
from rooms.actions.lifecycle import do_schedule_session
from rooms.frames import FRAME_TYPES
from rooms.hub import get_hub
from rooms.models import GroupSession, GuestPass, Message, Participant
from tests.conftest import PASSWORD, Peer, cookie_for
from tests.security_support import make_guest

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ACTORS = ["dana", "alex", "sam", "guest"]
ALLOWED_CLOSE_CODES = {4401, 4403, 4404, 4410, 1008}
FACILITATOR_ONLY_EVENTS = {"lobby.waiting", "alert"}

choices = st.fixed_dictionaries(
    {
        "id": st.integers(0, 60),
        "mode": st.sampled_from(["open", "moderated", "round"]),
        "seconds": st.sampled_from([None, 0, 5, 10, 60, 900, 901]),
        "minutes": st.sampled_from([None, 1, 240]),
        "category": st.sampled_from([None, "stress", "goals", "bogus"]),
        "to": st.sampled_from([None, "facilitators", "everyone"]),
        "suffix": st.text(max_size=20),
        "reason": st.sampled_from([None, "because"]),
        "position": st.integers(0, 4),
        "prompt_id": st.sampled_from([None, 1, 2, 10**6]),
        "optional": st.booleans(),
    }
)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("frame"), st.sampled_from(ACTORS), st.sampled_from(sorted(FRAME_TYPES)), choices),
        # The moves that matter for confidentiality, so they happen often: admission, return, the floor, chat.
        st.tuples(
            st.just("scripted"),
            st.just("dana"),
            st.sampled_from(["lobby.admit", "lobby.return", "floor.grant"]),
            choices,
        ),
        st.tuples(st.just("scripted"), st.sampled_from(ACTORS), st.sampled_from(["chat", "chat", "privline"]), choices),
        st.tuples(st.just("scripted"), st.sampled_from(ACTORS), st.sampled_from(["chat", "chat", "privline"]), choices),
        st.tuples(st.just("raw"), st.sampled_from(ACTORS), st.text(max_size=40), st.none()),
        st.tuples(st.just("reconnect"), st.sampled_from(ACTORS), st.one_of(st.none(), st.integers(0, 12)), st.none()),
    ),
    min_size=6,
    max_size=30,
)


def member_of(seat: Participant) -> Member:
    assert seat.member is not None, "scheduling seats members only"
    return seat.member


class World:
    """The rows of one example, and the pool random ids are drawn from."""

    def __init__(self, n: int) -> None:
        now = timezone.now()
        self.room = do_schedule_session(
            title=f"A{n}", facilitator="dana", patients=["alex", "sam"], starts_at=now, allow_guests=True
        )
        other = do_schedule_session(
            title=f"B{n}", facilitator="fran", patients=["riley"], starts_at=now, allow_guests=True
        )
        GroupSession.objects.filter(pk__in=[self.room.pk, other.pk]).update(status="live", started_at=now, mode="open")
        a = {member_of(p).username: p for p in Participant.objects.filter(session=self.room).select_related("member")}
        b = {member_of(p).username: p for p in Participant.objects.filter(session=other).select_related("member")}
        do_send_chat(other.pk, b["fran"].pk, f"SECRETB-{n} from Fran", now)
        do_send_chat(other.pk, b["riley"].pk, f"SECRETB-{n} from Riley", now)
        do_send_private(other.pk, b["fran"].pk, b["riley"].pk, f"SECRETB-{n} private", now)
        do_create_invite(other.pk, b["fran"].pk, b["riley"].pk, "Kim", now)
        do_send_chat(self.room.pk, a["alex"].pk, f"BEFOREADM-{n} from Alex", now)
        do_send_chat(self.room.pk, a["alex"].pk, f"PRIVLINEALEX-{n} for staff only", now, to="facilitators")
        guest = make_guest(self.room, member_of(a["alex"]), "Pat")
        self.guest_id = guest.participant.pk
        self.pids = {name: p.pk for name, p in a.items()} | {"guest": self.guest_id}
        self.guest_cookie = guest.cookie
        self.cookies = {name: cookie_for(member_of(p)) for name, p in a.items()} | {"guest": guest.cookie}
        self.pool = sorted(
            {p.pk for p in a.values()}
            | {p.pk for p in b.values()}
            | {self.guest_id}
            | set(Message.objects.filter(session__in=[self.room, other]).values_list("pk", flat=True))
            | set(GuestPass.objects.filter(session__in=[self.room, other]).values_list("pk", flat=True))
        )

    def pick(self, index: int) -> int:
        return self.pool[index % len(self.pool)] if index < 50 else index * 1000  # now and then, no such row


def guest_is_inside(guest_id: int) -> bool:
    return Participant.objects.filter(pk=guest_id, admitted=True, removed_at__isnull=True).exists()


def build_frame(
    frame_type: str, c: dict[str, Any], world: World, actor: str, inside: bool, mark: str
) -> dict[str, Any]:
    """A frame of `frame_type` from the random choices; chat text is marked with who may read it."""
    frame: dict[str, Any] = {"type": frame_type}
    for name, field in FRAME_TYPES[frame_type].model_fields.items():
        if name in {"type", "ref"} or (not field.is_required() and not c["optional"]):
            continue
        if name.endswith("_id") and name != "prompt_id":
            value: Any = world.pick(c["id"])
        elif name == "text":
            value = f"NOTE{mark} {c['suffix']}"
        elif name == "name":
            value = "Guest " + c["suffix"][:20] if c["suffix"].strip() else "Guest"
        elif name in c:
            value = c[name]
        else:
            value = c["id"]
        if value is not None:
            frame[name] = value
    if frame_type == "chat.send" and "text" in frame:
        if frame.get("to") == "facilitators":
            frame["text"] = f"PRIVLINE{actor.upper()}{mark} {c['suffix']}"
        else:
            frame["text"] = f"{'INROOM' if inside else 'LOBBYTIME'}{mark} {c['suffix']}"
    elif frame_type == "private.send" and "text" in frame:
        frame["text"] = f"DIRECT{frame.get('participant_id')}X{mark} {c['suffix']}"
    return frame


class Socket:
    def __init__(self, name: str, peer: Peer | None, closed: int | None) -> None:
        self.name, self.peer, self.closed = name, peer, closed
        self.received: list[dict[str, Any]] = []

    async def read(self, timeout: float) -> dict[str, Any] | None:
        """The next frame, or None when nothing comes (or the socket closed; `closed` says)."""
        if self.peer is None or self.closed is not None:
            return None
        # receive_nothing, not a receive_output timeout: that would cancel the application.
        if await self.peer.communicator.receive_nothing(timeout=timeout, interval=0.005):
            return None
        output = await self.peer.communicator.receive_output(timeout=1)
        if output["type"] == "websocket.close":
            self.closed = output.get("code")
            assert self.closed in ALLOWED_CLOSE_CODES, f"{self.name} closed with {self.closed}"
            return None
        frame = json.loads(output["text"])
        self.received.append(frame)
        return frame

    async def drain(self) -> None:
        while await self.read(0.05) is not None:
            pass


async def open_socket(connect: Any, name: str, world: World, since: int | None = None) -> Socket:
    peer, closed = await connect(world.cookies[name], world.room.pk, since=since)
    socket = Socket(name, peer, closed)
    if closed is None:
        socket.received.append(peer.state)
    else:
        assert closed in ALLOWED_CLOSE_CODES, f"{name} refused with {closed}"
    return socket


COUNTER = itertools.count()


@pytest.fixture
def fran(db: None) -> Member:
    return Member.objects.create_user(username="fran", password=PASSWORD, role="facilitator", display_name="Fran")


@pytest.fixture
async def started_hub(connect: Any) -> None:
    """Start the hub outside the examples: Hypothesis reseeds `random` for each example, and the
    in-memory layer names channels with it, so a hub named inside one example would share its
    name with a consumer of the next."""
    await get_hub()._start()


@settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=steps)
async def test_random_frames_from_every_role_leak_nothing(connect, started_hub, dana, alex, sam, riley, fran, plan):
    n = next(COUNTER)
    world = await sync_to_async(World)(n)
    sockets = {name: await open_socket(connect, name, world) for name in ACTORS}
    everything: dict[str, list[dict[str, Any]]] = {name: [] for name in ACTORS}
    try:
        for number, (kind, actor, payload, c) in enumerate(plan):
            socket = sockets[actor]
            if kind == "reconnect":
                if socket.peer is not None and socket.closed is None:
                    await socket.peer.close()
                everything[actor] += socket.received
                sockets[actor] = await open_socket(connect, actor, world, since=payload)
                continue
            if socket.peer is None or socket.closed is not None:
                continue
            if kind == "raw":
                await socket.peer.communicator.send_input({"type": "websocket.receive", "text": payload})
                continue
            inside = await sync_to_async(guest_is_inside)(world.guest_id)
            if kind == "scripted":
                c = {**c, "optional": False}
                if payload in {"lobby.admit", "lobby.return", "floor.grant"}:
                    frame = {"type": payload, "participant_id": world.guest_id}
                else:
                    frame = build_frame(
                        "chat.send",
                        {**c, "to": "facilitators" if payload == "privline" else None},
                        world,
                        actor,
                        inside,
                        f"-{n}-{number}",
                    )
            else:
                frame = build_frame(payload, c, world, actor, inside, f"-{n}-{number}")
            ref = f"s{number}"
            await socket.peer.send(**frame, ref=ref)
            while True:  # until this frame's reply (or the socket closes)
                answer = await socket.read(5)
                if answer is None:
                    assert socket.closed is not None, f"{actor}: no reply to {frame}"
                    break
                if answer.get("ref") == ref and answer["type"] in {"ack", "error"}:
                    event(f"{frame['type']} -> {answer.get('code', 'ack')}")
                    break
        for socket in sockets.values():
            await socket.drain()
            everything[socket.name] += socket.received
        event(f"guest inside at the end: {await sync_to_async(guest_is_inside)(world.guest_id)}")
        event(f"guest saw chat: {any(f.get('type') == 'chat.message' for f in everything['guest'])}")
    finally:
        for socket in sockets.values():
            if socket.peer is not None and socket.closed is None:
                await socket.peer.close()

    marks = {name: json.dumps(frames) for name, frames in everything.items()}
    for name, text in marks.items():
        assert "SECRETB" not in text, f"{name} received another room's data"
    assert "BEFOREADM" not in marks["guest"], "the guest saw a message from before their admission"
    assert "LOBBYTIME" not in marks["guest"], "the guest saw a message sent while they were outside the room"
    for name in ("alex", "sam", "guest"):
        for other in {"alex", "sam", "guest"} - {name}:
            assert f"PRIVLINE{other.upper()}" not in marks[name], f"{other}'s private line reached {name}"
        addressed = {int(pid) for pid in re.findall(r"DIRECT(\d+)X", marks[name])}
        assert addressed <= {world.pids[name]}, f"{name} received private messages for {addressed}"
        leaked = [f["type"] for f in everything[name] if f.get("type") in FACILITATOR_ONLY_EVENTS]
        assert leaked == [], f"{name} received facilitator-only events {leaked}"
