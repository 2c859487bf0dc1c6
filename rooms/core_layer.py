"""channels-redis's default layer, with fewer round trips to Redis per room event (REDIS_LAYER=core).

channels-redis receives one message per call, in four round trips to Redis
one after the other (a clean-up script, BZPOPMIN, a backup copy, then its
removal), so that a message popped by a consumer cancelled mid-receive is not
lost. Every room event reaches a worker through its hub's lanes
(`rooms.hub.lane_channels`: plain channels that only that worker reads), and
there those round trips were most of what the worker spent on Redis.

On plain channels this subclass pops up to RECEIVE_BATCH waiting messages in
one ZPOPMIN, blocking (BZPOPMIN) only when there are none, and hands them out
one by one. It keeps no backup copy: a lane is read only by its worker's hub,
and when that stops (the worker shuts down or dies) its connections are gone
too; their clients resume from the database with ?since=, as after any
message the layer drops. Process-local "!" channels (new_channel()) and
everything else are channels-redis's own code.

`group_send` is two round trips instead of four: the group's trim and read in
one pipeline, then one script that trims each member channel's expired
messages, checks its capacity and adds the message, as channels-redis's three
separate steps did. With several Redis shards it is channels-redis's own.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from typing import Any

from channels_redis.core import RedisChannelLayer

logger = logging.getLogger(__name__)

# At most this many messages per round trip; the rest wait in Redis (within the channel's capacity).
RECEIVE_BATCH = 100

# KEYS: the member channels' keys. ARGV: a message per key, a capacity per key, then the
# score below which a channel's messages have expired, the time now, the keys' expiry.
GROUP_SEND_SCRIPT = """
local count = #KEYS
local expired_before = ARGV[2 * count + 1]
local now = ARGV[2 * count + 2]
local expiry = ARGV[2 * count + 3]
local over_capacity = 0
for i = 1, count do
    redis.call('ZREMRANGEBYSCORE', KEYS[i], 0, expired_before)
    if redis.call('ZCARD', KEYS[i]) < tonumber(ARGV[count + i]) then
        redis.call('ZADD', KEYS[i], now, ARGV[i])
        redis.call('EXPIRE', KEYS[i], expiry)
    else
        over_capacity = over_capacity + 1
    end
end
return over_capacity
"""


class BatchedRedisChannelLayer(RedisChannelLayer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._received: dict[str, deque[Any]] = {}  # plain channel -> popped, not yet handed out

    async def receive(self, channel: str) -> Any:
        if "!" in channel:
            return await super().receive(channel)
        self.require_valid_channel_name(channel, receive=True)  # raises TypeError
        if not self._received.get(channel):
            batch = await self._pop_batch(channel)
            # Added to, never replaced: another receive of this channel may have left some meanwhile.
            self._received.setdefault(channel, deque()).extend(batch)
        waiting = self._received[channel]
        message = waiting.popleft()
        if not waiting:
            del self._received[channel]
        return message

    async def _pop_batch(self, channel: str) -> list[Any]:
        key = self.prefix + channel
        connection = self.connection(self.consistent_hash(channel))  # where group_send and send put it
        while True:
            popped = await connection.zpopmin(key, RECEIVE_BATCH)
            if popped:
                return [self._unpack(member) for member, _score in popped]
            blocked = await connection.bzpopmin(key, timeout=self.brpop_timeout)
            if blocked is not None:
                return [self._unpack(blocked[1])]

    def _unpack(self, member: bytes) -> Any:
        message = self.deserialize(member)
        message.pop("__asgi_channel__", None)  # group_send names the channel in every message
        return message

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        if self.ring_size != 1:
            await super().group_send(group, message)
            return
        self.require_valid_group_name(group)  # raises TypeError
        key = self._group_key(group)
        connection = self.connection(0)
        now = time.time()
        pipe = connection.pipeline()
        pipe.zremrangebyscore(key, min=0, max=int(now) - self.group_expiry)  # members that stopped renewing
        pipe.zrange(key, 0, -1)
        _, members = await pipe.execute()
        if not members:
            return
        _, messages, capacities = self._map_channel_keys_to_connection([m.decode() for m in members], message)
        keys = list(messages)
        over_capacity = await connection.eval(
            GROUP_SEND_SCRIPT,
            len(keys),
            *keys,
            *(messages[k] for k in keys),
            *(capacities[k] for k in keys),
            int(now) - int(self.expiry),
            now,
            self.expiry,
        )
        if over_capacity:
            logger.info("%s of %s channels over capacity in group %s", over_capacity, len(members), group)

    async def flush(self) -> None:
        self._received.clear()
        await super().flush()
