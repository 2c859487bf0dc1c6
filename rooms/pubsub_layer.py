"""channels-redis's pub/sub layer, made to report its outages (REDIS_LAYER=pubsub).

channels-redis 4.3's `RedisPubSubChannelLayer` survives Redis going away on its
own: its receive task logs a traceback every second until Redis answers, then
redis-py re-subscribes, and whatever was published meanwhile is gone. It
accepts `on_disconnect`/`on_reconnect` hooks but never calls them, and its
`receive()` never fails, so the hub could not know that it must tell its
clients (live updates paused) and resync them with ?since= afterwards, as it
does on the default layer. This subclass makes the outage visible:

* when a shard's subscriber connection fails to read, or reconnects after a
  break too short to surface as a failed read (redis-py re-subscribes in
  `PubSub.on_connect`), the next `receive()` on each of the process's channels
  raises `LayerInterrupted`, after the messages that arrived before it;
* `probe()` raises until every shard answers a PING and its subscriptions are
  in place again, so the hub knows when to re-join and resync.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from channels_redis.pubsub import RedisPubSubChannelLayer, RedisPubSubLoopLayer, RedisSingleShardConnection
from channels_redis.utils import _wrap_close, create_pool, decode_hosts
from redis import asyncio as aioredis
from redis.asyncio.client import PubSub
from redis.exceptions import ConnectionError as RedisConnectionError

from rooms.faults import LAYER_ERRORS

logger = logging.getLogger(__name__)

# A failing subscriber connection is retried this often (channels-redis: every second).
RECEIVE_RETRY_SECONDS = 0.5


class LayerInterrupted(RedisConnectionError):
    """The subscriptions were broken for a while: messages published meanwhile were lost."""


class _Interruption:
    """Queued in each channel where a message would be, so receivers learn of the break in order."""

    __slots__ = ("cause",)

    def __init__(self, cause: str) -> None:
        self.cause = cause


class ObservedPubSub(PubSub):
    """redis-py's PubSub, telling its shard when it reconnected (and re-subscribed)."""

    def __init__(self, connection_pool: aioredis.ConnectionPool, shard: ObservedShard) -> None:
        super().__init__(connection_pool)
        self.shard = shard

    async def on_connect(self, connection: Any) -> None:
        # Only called on a REconnect: the first connection is made before this callback is registered.
        await super().on_connect(connection)
        self.shard.reconnected()


class ObservedShard(RedisSingleShardConnection):
    """One Redis of the layer: its subscriber's failures and reconnects go to the loop layer."""

    channel_layer: ObservedPubSubLoopLayer
    # channels-redis's own attributes (None until first use and after flush()), typed for this class.
    _redis: aioredis.Redis | None
    _pubsub: ObservedPubSub | None

    def __init__(self, host: dict[str, Any], channel_layer: ObservedPubSubLoopLayer) -> None:
        super().__init__(host, channel_layer)
        self.subscribed_reads = True  # False from a failed read until a read succeeds again
        # One interruption per break: redis-py may reconnect (on_connect) and then still raise
        # the read's error, and a long outage fails every retry.
        self._interrupted_since_read = False

    def _ensure_redis(self) -> tuple[aioredis.Redis, ObservedPubSub]:
        if self._redis is None or self._pubsub is None:  # both or neither
            self._redis = aioredis.Redis(connection_pool=create_pool(self.host))
            self._pubsub = ObservedPubSub(self._redis.connection_pool, self)
        return self._redis, self._pubsub

    async def _do_receiving(self) -> None:
        while True:
            try:
                if self._pubsub and self._pubsub.subscribed:
                    message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
                    self._read_succeeded()
                    self._receive_message(message)
                else:
                    await asyncio.sleep(0.1)
            except (asyncio.CancelledError, GeneratorExit):
                raise
            except LAYER_ERRORS as error:
                self.lost(error)
                await asyncio.sleep(RECEIVE_RETRY_SECONDS)
            except Exception:
                logger.exception("unexpected exception in the pub/sub receive task")
                await asyncio.sleep(RECEIVE_RETRY_SECONDS)

    def lost(self, error: BaseException) -> None:
        if self.subscribed_reads:
            self.subscribed_reads = False
            logger.warning("channel layer subscriber lost its Redis connection (%r); retrying", error)
        self._interrupt(f"subscriber connection failed: {error!r}")

    def reconnected(self) -> None:
        # The subscriber was cut off and is back, re-subscribed: what was published meanwhile is gone,
        # even when the break fell between two reads and no read failed.
        self._interrupt("subscriber reconnected")

    def _interrupt(self, cause: str) -> None:
        if not self._interrupted_since_read:
            self._interrupted_since_read = True
            self.channel_layer.interrupted(cause)

    def _read_succeeded(self) -> None:
        # A read returned, so the connection is up and on_connect has re-sent the subscriptions.
        self._interrupted_since_read = False
        if not self.subscribed_reads:
            self.subscribed_reads = True
            logger.warning("channel layer subscriber reads again; its subscriptions are restored")

    async def probe(self) -> None:
        async with self._lock:
            redis, pubsub = self._ensure_redis()
        await redis.ping()
        if not self.subscribed_reads and pubsub.subscribed:
            raise LayerInterrupted("the subscriptions are not restored yet")


class ObservedPubSubLoopLayer(RedisPubSubLoopLayer):
    """The layer of one event loop, with observed shards."""

    def __init__(self, hosts: Any = None, prefix: str = "asgi", **kwargs: Any) -> None:
        super().__init__(hosts, prefix, **kwargs)
        self._shards = [ObservedShard(host, self) for host in decode_hosts(hosts)]

    async def _subscribe_to_channel(self, channel: str) -> None:
        try:
            await super()._subscribe_to_channel(channel)
        except LAYER_ERRORS as error:
            # Redis is down as the worker starts: the channel's queue exists and holds the
            # interruption, so the hub hears of the outage from its receive as it would later.
            # The hub only receives through its groups, which it subscribes again on recovery.
            self._get_shard(channel).lost(error)

    def interrupted(self, cause: str) -> None:
        for queue in self.channels.values():
            queue.put_nowait(_Interruption(cause))

    async def probe(self) -> None:
        for shard in self._shards:
            await shard.probe()


class ObservedPubSubChannelLayer(RedisPubSubChannelLayer):
    """`RedisPubSubChannelLayer` whose receive raises `LayerInterrupted` after an outage, with a `probe()`."""

    def _get_layer(self) -> ObservedPubSubLoopLayer:
        loop = asyncio.get_running_loop()
        layer = self._layers.get(loop)
        if layer is None:
            layer = self._layers[loop] = ObservedPubSubLoopLayer(*self._args, **self._kwargs, channel_layer=self)
            _wrap_close(self, loop)
        return layer

    def deserialize(self, message: Any) -> Any:
        # The loop layer's receive() hands each queued item here: the interruption surfaces as an error.
        if isinstance(message, _Interruption):
            raise LayerInterrupted(f"live events may have been lost ({message.cause})")
        return super().deserialize(message)

    async def probe(self) -> None:
        """Raises unless every Redis answers and every subscription reads again."""
        await self._get_layer().probe()
