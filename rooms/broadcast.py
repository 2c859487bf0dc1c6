"""Room events: serialized once, published on commit, fanned out once per worker.

The hot path. An action calls `send_event_on_commit`; after the transaction
commits, the event's JSON (serialized once, here) goes to the channel layer as
ONE message per worker process that has someone in the room (each process's
hub is the only member of the room's group). The hub then hands the same text
to its local connections, and `is_recipient` decides, in this one place, who
of them may see it (guests in the lobby, facilitator-only events, private lines).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, NotRequired, TypedDict, cast

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from pydantic import BaseModel

from config.loop_local import LoopLocal
from rooms.faults import LAYER_ERRORS, SERVICE_RESTART
from rooms.models import ParticipantRole
from rooms.schemas import ErrorFrame

logger = logging.getLogger(__name__)

# Who of a room's connections receive an event (is_recipient): not a message's Audience (rooms.models).
Recipients = Literal["everyone", "members", "facilitators", "lobby", "none"]


class Envelope(TypedDict):
    type: Literal["room.event"]
    session_id: int
    text: str
    to: Recipients
    ids: list[int]  # also delivered to these participants, whatever `to` says
    # Never delivered to these participants: the one whose arrival it announces
    # (their session.state, built after the commit, already shows it).
    exclude: list[int]
    seq: int | None  # a chat message's seq: guests only get what falls in their admission
    # A chat message's: the guests admitted when it was committed, the only guests who may see it
    # (the end of a guest's admission window, told by the message itself: is_recipient).
    guests: list[int]
    effect: str | None  # applied by every recipient after sending: "close:<code>" or "refresh"
    effects_for: list[list[int | str]]  # [[participant_id, effect], ...]: per-person effects
    # A resync's only (resync_envelope): connections whose catch-up was read from this time on
    # (epoch seconds) already hold what was lost, and are left alone.
    stale_before: NotRequired[float]


@dataclass(frozen=True, slots=True)
class Viewer:
    """What the fan-out needs to know about one connection."""

    participant_id: int
    role: str
    admitted: bool
    visible_after_seq: int  # guests: the admission's start; members: 0
    # When this connection's catch-up began to be read (epoch seconds): it holds every change
    # committed before then. 0: unknown, as old as can be.
    caught_up_at: float = 0.0


def room_group(session_id: int) -> str:
    return f"room.{session_id}"


def is_recipient(viewer: Viewer, envelope: Envelope) -> bool:
    if viewer.participant_id in envelope["exclude"]:
        return False
    stale_before = envelope.get("stale_before")
    if stale_before is not None and viewer.caught_up_at >= stale_before:
        return False  # a resync after a lost event this connection's catch-up already held
    to = envelope["to"]
    if viewer.role == ParticipantRole.GUEST and not viewer.admitted:
        # The lobby (issue 22, class 2): what is addressed to it (lobby.message), to this guest by id
        # (their own admission, return, removal) and to everyone (session.status, server notices). No room event.
        return to in ("lobby", "everyone") or viewer.participant_id in envelope["ids"]
    if viewer.participant_id in envelope["ids"]:
        return True
    if to == "everyone":
        return True
    if to == "facilitators":
        return viewer.role == ParticipantRole.FACILITATOR
    if to == "members":
        if viewer.role != ParticipantRole.GUEST:
            return True
        seq = envelope["seq"]
        if seq is None:
            return viewer.admitted
        # A room message reaches a guest only inside their admission window: after its start (the
        # admission this socket last heard of) and before its end, which the message itself tells
        # (was the guest admitted when it was committed?). The socket may hear of a lobby.return only
        # after a message committed later, from another worker: the end cannot be the socket's to know.
        return viewer.admitted and seq > viewer.visible_after_seq and viewer.participant_id in envelope["guests"]
    return False


def effect_for(viewer: Viewer, envelope: Envelope) -> str | None:
    for participant_id, effect in envelope["effects_for"]:
        if participant_id == viewer.participant_id:
            return str(effect)
    return envelope["effect"]


def make_envelope(
    session_id: int,
    event: BaseModel,
    *,
    to: Recipients = "members",
    ids: Iterable[int] = (),
    exclude: Iterable[int] = (),
    seq: int | None = None,
    guests: Iterable[int] = (),
    effect: str | None = None,
    effects_for: dict[int, str] | None = None,
) -> Envelope:
    return {
        "type": "room.event",
        "session_id": session_id,
        "text": event.model_dump_json(),
        "to": to,
        "ids": list(ids),
        "exclude": list(exclude),
        "seq": seq,
        "guests": list(guests),
        "effect": effect,
        "effects_for": [[pid, eff] for pid, eff in (effects_for or {}).items()],
    }


class Publisher:
    """A worker's events to the channel layer, each room's in the order they were queued, sent from its event loop.

    The database thread that committed only queues the envelope (one cheap hop to
    the loop) and goes back to work; it neither waits for Redis nor pays for
    async_to_sync. Each room with events waiting has one drain task that sends
    them in order, so a room's events leave this process in the order their
    threads queued them (after their commits: two commits moments apart, on two
    threads, can queue in either order, and so can two workers' publishes; clients
    resume accordingly, docs/protocol.md), while rooms do not wait for each other: a group_send
    is a round trip to Redis (one on the default layer, rooms.core_layer), and one
    queue for every room capped a worker at a few hundred events per second
    however idle Redis was.
    """

    def __init__(self) -> None:
        self.queues: dict[int, deque[tuple[Envelope, float]]] = {}  # with when each was committed
        self.drains: set[asyncio.Task[None]] = set()  # the loop keeps only weak references to tasks
        self.resyncs: dict[int, asyncio.Task[None]] = {}  # rooms with an event this worker could not publish
        # Per room with a resync pending: when the latest of its lost events was committed (epoch seconds).
        self.lost_commits: dict[int, float] = {}

    def submit(self, envelope: Envelope, committed_at: float) -> None:
        """On the loop: queue one envelope, and start its room's drain if it is not running."""
        session_id = envelope["session_id"]
        queue = self.queues.get(session_id)
        if queue is not None:
            queue.append((envelope, committed_at))
            return
        queue = self.queues[session_id] = deque([(envelope, committed_at)])
        drain = asyncio.get_running_loop().create_task(
            self._drain(session_id, queue), name=f"circle-publisher-{session_id}"
        )
        self.drains.add(drain)
        drain.add_done_callback(self.drains.discard)

    async def _drain(self, session_id: int, queue: deque[tuple[Envelope, float]]) -> None:
        try:
            while queue:
                envelope, committed_at = queue.popleft()
                if not await send_to_layer(envelope):
                    self.resync_later(session_id, committed_at)
        finally:
            # No await between the last emptiness check and here: an envelope submitted
            # from now on starts a new drain.
            del self.queues[session_id]

    def resync_later(self, session_id: int, committed_at: float) -> None:
        """An event of the room was lost: once the layer takes messages again, every worker's clients in the room
        that caught up before it was committed are told to resync (`resync_envelope`). One attempt at a time per
        room, however many events were lost.

        Not sent again later instead: a room's events from other workers went on meanwhile, and an
        event delivered seconds late (a mute after the unmute that followed it) would show a state
        that no longer holds; the database has the truth, and ?since= fetches it.
        """
        self.lost_commits[session_id] = max(committed_at, self.lost_commits.get(session_id, committed_at))
        if session_id in self.resyncs:
            return
        task = asyncio.get_running_loop().create_task(self._resync(session_id), name=f"circle-resync-{session_id}")
        self.resyncs[session_id] = task
        task.add_done_callback(lambda _: self.resyncs.pop(session_id, None))

    async def _resync(self, session_id: int) -> None:
        while True:
            await asyncio.sleep(RESYNC_RETRY_SECONDS)
            lost_commit = self.lost_commits[session_id]
            if await send_to_layer(resync_envelope(session_id, lost_commit)):
                logger.warning("room %s: an event was lost; its clients were asked to resync", session_id)
                if self.lost_commits[session_id] == lost_commit:  # else one more was lost meanwhile: again
                    del self.lost_commits[session_id]
                    return


# While a worker's publish fails, it tries the room's resync notice this often.
RESYNC_RETRY_SECONDS = 0.5
RESYNC_TEXT = "Some live updates could not be delivered. Catching up…"


# Workers' clocks agree within milliseconds (NTP); a connection counts as caught up after a lost event only
# this long after its commit, so that a worker whose clock runs behind never spares one that missed it.
RESYNC_CLOCK_MARGIN_SECONDS = 1.0


def resync_envelope(session_id: int, lost_commit: float) -> Envelope:
    """To every connection to the room, on every worker, that caught up before the lost event (committed at
    `lost_commit`) was: resume from the database (close 1012, then ?since=). One that caught up since holds it:
    after an outage, the clients that already resumed are not sent away a second time."""
    notice = ErrorFrame(code="unavailable", message=RESYNC_TEXT, ref=None)
    envelope = make_envelope(session_id, notice, to="everyone", effect=f"close:{SERVICE_RESTART}")
    envelope["stale_before"] = lost_commit + RESYNC_CLOCK_MARGIN_SECONDS
    return envelope


_publishers: LoopLocal[Publisher] = LoopLocal(Publisher)


def submit_on_loop(envelope: Envelope, committed_at: float) -> None:
    _publishers.get().submit(envelope, committed_at)


async def send_to_layer(envelope: Envelope) -> bool:
    """Whether the layer took the envelope. When it did not, the change is committed (and acknowledged)
    all the same; the Publisher then has the room's clients on every worker resync (`resync_later`): the
    other workers' layer may work, and their hubs would not notice the loss."""
    layer = get_channel_layer()
    if layer is None:
        return True
    try:
        # Channels types a layer message as a plain dict; an Envelope is one (no copy on this path).
        await layer.group_send(room_group(envelope["session_id"]), cast(dict[str, Any], envelope))
    except LAYER_ERRORS as error:
        logger.warning("channel layer unavailable, event not broadcast (%s); clients will resync", error)
        return False
    except Exception:
        logger.exception("an event could not be broadcast; clients will resync")
        return False
    return True


def publish(envelope: Envelope) -> None:
    """Hand one envelope to the channel layer (from sync code: actions, commands)."""
    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    if loop is None:
        # No server loop behind this thread (a management command): send it now.
        async_to_sync(send_to_layer)(envelope)
        return
    try:
        loop.call_soon_threadsafe(submit_on_loop, envelope, time.time())  # publish runs on commit
    except RuntimeError:
        # The worker is shutting down and its loop is closed: other workers' clients
        # catch up from the database.
        logger.warning("event loop closed; event not broadcast (clients catch up with ?since=)")


def send_event_on_commit(session_id: int, event: BaseModel, **routing: object) -> None:
    """Save first, then broadcast: nobody hears of a change that was rolled back.

    The action's thread only queues the event for its worker's loop (Publisher);
    a failed publish is logged, not raised: the change is already committed, and
    clients catch up from the database.
    """
    envelope = make_envelope(session_id, event, **routing)  # type: ignore[arg-type]
    transaction.on_commit(lambda: publish(envelope), robust=True)
