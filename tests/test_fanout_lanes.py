"""A busy room holds up no other room's events, and no room's events overtake each other.

Two places used to carry every room's events one at a time: the publisher that
sends a worker's committed events to the channel layer, and the hub's single
channel from which the worker receives them. On the default layer each of those
steps is several round trips to Redis, so under load one room's events queued
behind everyone else's (docs/performance-journal.md). Now a worker publishes each room's
events in order and rooms in parallel, and hears rooms through HUB_LANES
channels, a room always through the same one.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.layers import get_channel_layer
from channels_redis.core import RedisChannelLayer

from rooms import broadcast
from rooms.broadcast import Envelope, Publisher, Viewer
from rooms.hub import HUB_LANES, RoomHub, lane_channels
from rooms.schemas import error_frame

DEADLINE = 5  # seconds; each wait ends as soon as its event happens


def envelope(session_id: int, n: int) -> Envelope:
    return {
        "type": "room.event",
        "session_id": session_id,
        "text": error_frame("unavailable", f"event {n}", None),
        "to": "everyone",
        "ids": [],
        "exclude": [],
        "seq": n,
        "effect": None,
        "guests": [],
        "effects_for": [],
    }


class SlowLayer:
    """A channel layer whose group_send for one room waits until the test lets it go."""

    def __init__(self, held_group: str) -> None:
        self.held_group = held_group
        self.release = asyncio.Event()
        self.sent: list[tuple[str, int]] = []

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        if group == self.held_group:
            await self.release.wait()
        self.sent.append((group, message["seq"]))


async def test_publisher_sends_each_rooms_events_in_order_and_rooms_side_by_side(monkeypatch):
    layer = SlowLayer(held_group="room.1")
    monkeypatch.setattr(broadcast, "get_channel_layer", lambda: layer)
    publisher = Publisher()

    for n in range(3):
        publisher.submit(envelope(1, n), committed_at=0.0)
        publisher.submit(envelope(2, n), committed_at=0.0)
    for _ in range(20):
        await asyncio.sleep(0)
    assert layer.sent == [("room.2", 0), ("room.2", 1), ("room.2", 2)]  # room 1's first send is stuck

    layer.release.set()
    await asyncio.wait_for(_until(lambda: len(layer.sent) == 6), DEADLINE)
    assert [n for group, n in layer.sent if group == "room.1"] == [0, 1, 2]
    assert publisher.queues == {}  # every drain finished; the next event starts a new one
    publisher.submit(envelope(1, 3), committed_at=0.0)
    await asyncio.wait_for(_until(lambda: len(layer.sent) == 7), DEADLINE)
    assert layer.sent[-1] == ("room.1", 3)


async def _until(condition: Any) -> None:
    while not condition():
        await asyncio.sleep(0.01)


class Recorder:
    """A connection as the hub sees it; room `held` stops at its first event until released."""

    viewer: Viewer | None = None  # everyone: no per-person rules here
    language = "en"

    def __init__(self, session_id: int, hold: bool = False) -> None:
        self.session_id = session_id
        self.connection_id = f"recorder-{session_id}"
        self.received: list[int] = []
        self.hold = hold
        self.release = asyncio.Event()

    async def deliver(self, envelope: Envelope) -> None:
        self.received.append(envelope["seq"])  # type: ignore[arg-type]
        if self.hold:
            await self.release.wait()

    async def shed(self, code: int) -> None:
        raise AssertionError(f"the hub sent a recorder away ({code})")


@pytest.mark.usefixtures("transactional_db")  # the hub's background duties read the database
async def test_a_stuck_room_holds_up_no_room_on_another_lane_and_each_room_stays_in_order():
    """On the configured layer: Redis's default layer in the services pass, in-memory otherwise."""
    assert HUB_LANES >= 2, "one lane is one queue for every room"
    layer = get_channel_layer()
    assert layer is not None
    await layer.flush()
    hub = RoomHub()
    stuck = Recorder(session_id=HUB_LANES * 10, hold=True)
    others = [Recorder(session_id=HUB_LANES * 10 + lane) for lane in range(1, HUB_LANES)]
    same_lane = Recorder(session_id=HUB_LANES * 11)  # shares the stuck room's lane
    try:
        for recorder in (stuck, *others, same_lane):
            await hub.attach(recorder)
        assert len({hub.lane(r.session_id) for r in (stuck, *others)}) == HUB_LANES
        assert hub.lane(same_lane.session_id) == hub.lane(stuck.session_id)

        for n in range(5):
            for recorder in (stuck, *others, same_lane):
                await broadcast.send_to_layer(envelope(recorder.session_id, n))
        for recorder in others:
            await asyncio.wait_for(_until(lambda r=recorder: len(r.received) == 5), DEADLINE)
            assert recorder.received == [0, 1, 2, 3, 4]
        assert stuck.received == [0]
        assert same_lane.received == []  # behind the stuck room on its lane, as on one channel

        stuck.release.set()
        await asyncio.wait_for(_until(lambda: len(stuck.received) == 5 and len(same_lane.received) == 5), DEADLINE)
        assert stuck.received == same_lane.received == [0, 1, 2, 3, 4]
    finally:
        stuck.release.set()
        await hub.stop()


def test_the_default_layers_lanes_are_separate_redis_keys():
    """A process's "!" channels share one Redis list read under one lock: lanes must not be such channels."""
    layer = RedisChannelLayer(hosts=["redis://127.0.0.1:6379/0"])
    names = asyncio.run(lane_channels(layer, "worker-a"))
    assert len(set(names)) == HUB_LANES
    assert not any("!" in name for name in names)
    assert all(layer.require_valid_channel_name(name) for name in names)
