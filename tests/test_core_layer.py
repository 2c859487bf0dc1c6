"""The default Redis layer reads the hub's lanes a batch at a time (rooms.core_layer), on the real Redis.

What a lane receives must be what channels-redis would have handed out: every
message, in order, without the layer's routing key, decrypted where the layer
encrypts; a receive on an empty lane waits for the next message; the
process-local "!" channels keep channels-redis's own receive.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from redis.exceptions import ResponseError

from config.env import channel_layers_from_url
from rooms.core_layer import RECEIVE_BATCH, BatchedRedisChannelLayer
from tests.services import redis_url

pytestmark = [pytest.mark.services]

DEADLINE = 5  # seconds; each wait ends as soon as its message arrives


def noting(calls: list[str], call: Callable[..., Any], name: str | None = None) -> Callable[..., Any]:
    """`call`, first noting in `calls` its name (without one: the command it is given, its first argument)."""

    def noted(*args: Any, **kwargs: Any) -> Any:
        calls.append(name if name is not None else args[0])
        return call(*args, **kwargs)

    return noted


def noting_pops(monkeypatch: pytest.MonkeyPatch, layer: BatchedRedisChannelLayer, names: tuple[str, ...]) -> list[str]:
    """The pops named, on the layer's Redis connection, noted in order in the list returned."""
    pops: list[str] = []
    connection = layer.connection(0)
    for name in names:
        monkeypatch.setattr(connection, name, noting(pops, getattr(connection, name), name))
    return pops


def make_layer(**overrides: Any) -> BatchedRedisChannelLayer:
    config = channel_layers_from_url(redis_url(), prefix=f"test-core-{uuid.uuid4().hex[:8]}", **overrides)["default"]
    assert config["BACKEND"] == "rooms.core_layer.BatchedRedisChannelLayer"
    return BatchedRedisChannelLayer(**config["CONFIG"])


async def test_a_lane_gets_every_message_in_order_in_few_round_trips(monkeypatch):
    layer = make_layer()
    try:
        await layer.group_add("room.7", "circle-hub.w.3")
        count = RECEIVE_BATCH * 2 + 50
        for n in range(count):
            await layer.group_send("room.7", {"type": "room.event", "n": n})
        pops = noting_pops(monkeypatch, layer, ("zpopmin", "bzpopmin", "bzmpop"))

        received = [await asyncio.wait_for(layer.receive("circle-hub.w.3"), DEADLINE) for _ in range(count)]

        assert received == [{"type": "room.event", "n": n} for n in range(count)]  # no __asgi_channel__
        assert pops == ["bzmpop"] * 3  # 100 + 100 + 50: one round trip per batch
    finally:
        await layer.flush()


async def test_a_message_that_finds_its_lane_empty_costs_one_round_trip(monkeypatch):
    """A worker that keeps up finds its lanes empty: the receive waits in the pop that then brings the message."""
    layer = make_layer()
    try:
        pops = noting_pops(monkeypatch, layer, ("zpopmin", "bzpopmin", "bzmpop"))
        for n in range(3):
            waiting = asyncio.create_task(layer.receive("circle-hub.w.1"))
            await asyncio.sleep(0.1)
            await layer.send("circle-hub.w.1", {"type": "room.event", "n": n})
            assert await asyncio.wait_for(waiting, DEADLINE) == {"type": "room.event", "n": n}

        assert pops == ["bzmpop"] * 3
    finally:
        await layer.flush()


async def test_a_redis_without_bzmpop_gets_zpopmin_then_bzpopmin(monkeypatch):
    """Before Redis 7.0: a batch in ZPOPMIN, and BZPOPMIN to wait when it found none; nothing lost either way."""
    layer = make_layer()
    try:
        pops = noting_pops(monkeypatch, layer, ("zpopmin", "bzpopmin"))

        async def unknown(*args: Any, **kwargs: Any) -> Any:
            pops.append("bzmpop")
            raise ResponseError("unknown command 'BZMPOP', with args beginning with: ")

        monkeypatch.setattr(layer.connection(0), "bzmpop", unknown)
        await layer.send("circle-hub.w.2", {"type": "room.event", "n": 0})
        assert await asyncio.wait_for(layer.receive("circle-hub.w.2"), DEADLINE) == {"type": "room.event", "n": 0}
        waiting = asyncio.create_task(layer.receive("circle-hub.w.2"))
        await asyncio.sleep(0.1)
        await layer.send("circle-hub.w.2", {"type": "room.event", "n": 1})
        assert await asyncio.wait_for(waiting, DEADLINE) == {"type": "room.event", "n": 1}

        assert pops == ["bzmpop", "zpopmin", "zpopmin", "bzpopmin"]  # asked once, then the old way
    finally:
        await layer.flush()


async def test_a_group_send_to_lanes_is_one_round_trip(monkeypatch):
    layer = make_layer()
    try:
        for lane in ("circle-hub.a.0", "circle-hub.b.0"):  # two workers' lanes for the room
            await layer.group_add("room.8", lane)
        connection = layer.connection(0)
        sent: list[str] = []
        monkeypatch.setattr(connection, "execute_command", noting(sent, connection.execute_command))
        monkeypatch.setattr(connection, "pipeline", None)  # no pipelined round trips either

        await layer.group_send("room.8", {"type": "room.event", "n": 1})

        assert sent == ["EVAL"]
        monkeypatch.undo()
        for lane in ("circle-hub.a.0", "circle-hub.b.0"):
            assert await asyncio.wait_for(layer.receive(lane), DEADLINE) == {"type": "room.event", "n": 1}
    finally:
        await layer.flush()


async def test_a_receive_on_an_empty_lane_waits_for_the_next_message():
    layer = make_layer()
    try:
        waiting = asyncio.create_task(layer.receive("circle-hub.w.0"))
        await asyncio.sleep(0.2)
        assert not waiting.done()
        await layer.send("circle-hub.w.0", {"type": "room.event", "n": 1})
        assert await asyncio.wait_for(waiting, DEADLINE) == {"type": "room.event", "n": 1}
    finally:
        await layer.flush()


async def test_an_encrypted_layer_decrypts_what_a_lane_receives():
    layer = make_layer(encryption_key="layer-key")
    try:
        await layer.group_add("room.1", "circle-hub.w.1")
        await layer.group_send("room.1", {"type": "room.event", "text": "I slept well"})
        stored = await layer.connection(0).zrange(layer.prefix + "circle-hub.w.1", 0, -1)
        assert b"slept" not in stored[0]  # what Redis holds is ciphertext
        assert await asyncio.wait_for(layer.receive("circle-hub.w.1"), DEADLINE) == {
            "type": "room.event",
            "text": "I slept well",
        }
    finally:
        await layer.flush()


async def test_process_local_channels_keep_channels_redis_receive():
    layer = make_layer()
    try:
        first, second = await layer.new_channel(), await layer.new_channel()
        assert "!" in first
        await layer.group_add("room.2", first)
        await layer.group_add("room.2", second)
        await layer.group_send("room.2", {"type": "room.event", "n": 5})
        for channel in (first, second):
            assert await asyncio.wait_for(layer.receive(channel), DEADLINE) == {"type": "room.event", "n": 5}
    finally:
        await layer.flush()


async def test_group_send_keeps_channels_redis_capacity_and_expiry(caplog):
    layer = make_layer()
    layer.capacity = 3
    try:
        await layer.group_add("room.3", "circle-hub.w.0")
        await layer.group_add("room.3", "circle-hub.w.1")
        for n in range(5):
            await layer.group_send("room.3", {"type": "room.event", "n": n})
        assert "2 of 2 channels over capacity in group room.3" in caplog.text
        for channel in ("circle-hub.w.0", "circle-hub.w.1"):
            got = [(await asyncio.wait_for(layer.receive(channel), DEADLINE))["n"] for _ in range(3)]
            assert got == [0, 1, 2]  # the first three fit; the rest were refused, as channels-redis does

        # A message older than the layer's expiry is dropped by the next send to its channel.
        key = layer.prefix + "circle-hub.w.0"
        await layer.connection(0).zadd(key, {layer.serialize({"type": "room.event", "n": "stale"}): 1.0})
        await layer.group_send("room.3", {"type": "room.event", "n": 9})
        for channel in ("circle-hub.w.0", "circle-hub.w.1"):
            assert await asyncio.wait_for(layer.receive(channel), DEADLINE) == {"type": "room.event", "n": 9}

        # A member that stopped renewing its membership (group_expiry) gets nothing.
        await layer.connection(0).zadd(layer._group_key("room.3"), {"circle-hub.w.1": 1.0})
        await layer.group_send("room.3", {"type": "room.event", "n": 10})
        assert await layer.connection(0).zcard(layer.prefix + "circle-hub.w.1") == 0
        assert await layer.connection(0).zrange(layer._group_key("room.3"), 0, -1) == [b"circle-hub.w.0"]
    finally:
        await layer.flush()


async def test_group_send_reaches_lanes_and_process_local_channels_alike():
    layer = make_layer()
    try:
        local = await layer.new_channel()
        await layer.group_add("room.4", local)
        await layer.group_add("room.4", "circle-hub.w.2")
        await layer.group_send("room.4", {"type": "room.event", "n": 1})
        await layer.group_send("room.5", {"type": "room.event", "n": 2})  # nobody there: nothing, no error
        assert await asyncio.wait_for(layer.receive(local), DEADLINE) == {"type": "room.event", "n": 1}
        assert await asyncio.wait_for(layer.receive("circle-hub.w.2"), DEADLINE) == {"type": "room.event", "n": 1}
    finally:
        await layer.flush()


async def test_two_receives_of_one_lane_share_its_batches_and_lose_nothing():
    """One receive takes a batch and hands out its first; the other, blocked meanwhile, adds to what is left."""
    layer = make_layer()
    try:
        for n in range(3):
            await layer.send("circle-hub.w.5", {"type": "room.event", "n": n})
        first = asyncio.create_task(layer.receive("circle-hub.w.5"))  # pops 0, 1 and 2; keeps 1 and 2
        second = asyncio.create_task(layer.receive("circle-hub.w.5"))  # finds nothing, blocks
        await asyncio.sleep(0.2)
        await layer.send("circle-hub.w.5", {"type": "room.event", "n": 3})
        got = [(await asyncio.wait_for(task, DEADLINE))["n"] for task in (first, second)]
        got += [(await asyncio.wait_for(layer.receive("circle-hub.w.5"), DEADLINE))["n"] for _ in range(2)]
        assert sorted(got) == [0, 1, 2, 3]
    finally:
        await layer.flush()
