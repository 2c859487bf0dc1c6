"""The pub/sub layer reports its outages (rooms.pubsub_layer), on a redis-server only these tests use.

channels-redis's own pub/sub layer re-subscribes silently after Redis comes back,
so what was published meanwhile is lost without anyone knowing. Circle's subclass
must surface the break in `receive()` (after what arrived before it) and keep
`probe()` failing until the subscriptions read again; the hub builds its notice and
its resync on those two (tests/test_faults_redis.py runs that on both layers).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from config.env import channel_layers_from_url
from rooms.faults import LAYER_ERRORS
from rooms.pubsub_layer import LayerInterrupted, ObservedPubSubChannelLayer
from tests.faults_support import RedisServer, redis_server, until

pytestmark = [pytest.mark.services]

redis = redis_server

DEADLINE = 15  # seconds; each wait ends as soon as its event happens


def make_layer(url: str) -> ObservedPubSubChannelLayer:
    config: dict[str, Any] = channel_layers_from_url(url, kind="pubsub", prefix="faults")["default"]
    assert config["BACKEND"] == "rooms.pubsub_layer.ObservedPubSubChannelLayer"
    return ObservedPubSubChannelLayer(**config["CONFIG"])


async def probe_fails(layer: ObservedPubSubChannelLayer) -> bool:
    try:
        await asyncio.wait_for(layer.probe(), 2)
    except LAYER_ERRORS:  # (TimeoutError included) anything else is a bug, and fails the test
        return True
    return False


async def probe_passes(layer: ObservedPubSubChannelLayer) -> bool:
    return not await probe_fails(layer)


async def joined(layer: ObservedPubSubChannelLayer, group: str) -> str:
    channel = await layer.new_channel()
    await layer.group_add(group, channel)
    return channel


async def test_redis_killed_interrupts_receive_after_what_came_before(redis: RedisServer, caplog):
    layer = make_layer(redis.url)
    try:
        channel = await joined(layer, "room.1")
        await layer.group_send("room.1", {"type": "room.event", "n": 1})
        assert (await asyncio.wait_for(layer.receive(channel), DEADLINE))["n"] == 1
        await layer.group_send("room.1", {"type": "room.event", "n": 2})
        await until(lambda: layer._get_layer().channels[channel].qsize() == 1, timeout=DEADLINE, what="n=2 queued")

        caplog.set_level(logging.WARNING, logger="rooms.pubsub_layer")
        redis.stop()
        # What arrived before the break is delivered first, then the break itself.
        assert (await asyncio.wait_for(layer.receive(channel), DEADLINE))["n"] == 2
        with pytest.raises(LayerInterrupted, match="lost"):
            await asyncio.wait_for(layer.receive(channel), DEADLINE)
        assert await probe_fails(layer)

        redis.start()  # empty: redis-py must subscribe again
        await until(lambda: probe_passes(layer), timeout=DEADLINE, what="probe passes once Redis is back")
        await layer.group_send("room.1", {"type": "room.event", "n": 3})
        assert (await asyncio.wait_for(layer.receive(channel), DEADLINE))["n"] == 3
        # Told once when the subscriber failed, once when it was back: no traceback per retry.
        warnings = [r.getMessage() for r in caplog.records if r.name == "rooms.pubsub_layer"]
        assert len(warnings) == 2, warnings
        assert "lost its Redis connection" in warnings[0] and "reads again" in warnings[1]
        assert not any(r.exc_info for r in caplog.records), "no traceback for an outage"
    finally:
        await layer.flush()


async def test_a_restart_between_two_reads_still_interrupts_receive(redis: RedisServer):
    """Redis gone and back before the subscriber noticed: messages may be lost, so receive says so."""
    layer = make_layer(redis.url)
    try:
        channel = await joined(layer, "room.2")
        await layer.group_send("room.2", {"type": "room.event", "n": 1})
        assert (await asyncio.wait_for(layer.receive(channel), DEADLINE))["n"] == 1
        shard = layer._get_layer()._shards[0]
        # Keep the receive task off the socket while Redis restarts, as a busy event loop would.
        receive_task = shard._receive_task
        assert receive_task is not None
        receive_task.cancel()
        await asyncio.gather(receive_task, return_exceptions=True)
        redis.stop()
        redis.start()
        shard._receive_task = None
        shard._ensure_receiver()
        with pytest.raises(LayerInterrupted):
            await asyncio.wait_for(layer.receive(channel), DEADLINE)
        await until(lambda: probe_passes(layer), timeout=DEADLINE, what="probe passes")
        await layer.group_send("room.2", {"type": "room.event", "n": 2})
        # Told once: the next item is the message, not a second interruption for the same break.
        assert (await asyncio.wait_for(layer.receive(channel), DEADLINE))["n"] == 2
    finally:
        await layer.flush()


async def test_probe_answers_without_subscribing_anything(redis: RedisServer):
    """/healthz probes the layer every few seconds: it must not leave a subscription behind each time."""
    layer = make_layer(redis.url)
    try:
        for _ in range(3):
            await layer.probe()
        assert layer._get_layer().channels == {}
        assert not layer._get_layer()._shards[0]._subscribed_to
    finally:
        await layer.flush()


async def test_redis_down_when_the_worker_starts_is_an_interruption_not_a_crash(redis: RedisServer):
    """The hub's first new_channel() during an outage: it gets its channel, and hears of the outage there."""
    layer = make_layer(redis.url)
    redis.stop()
    try:
        channel = await asyncio.wait_for(layer.new_channel(), DEADLINE)
        with pytest.raises(LayerInterrupted):
            await asyncio.wait_for(layer.receive(channel), DEADLINE)
        assert await probe_fails(layer)
        redis.start()
        await until(lambda: probe_passes(layer), timeout=DEADLINE, what="probe passes once Redis is up")
        await layer.group_add("room.3", channel)  # what the hub's recovery does (_rejoin_groups)
        await layer.group_send("room.3", {"type": "room.event", "n": 1})
        assert (await asyncio.wait_for(layer.receive(channel), DEADLINE))["n"] == 1
    finally:
        await layer.flush()
