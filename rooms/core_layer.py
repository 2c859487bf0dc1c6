"""channels-redis's default layer, with fewer round trips to Redis per room event (Circle's one Redis layer).

channels-redis receives one message per call, in four round trips to Redis
one after the other (a clean-up script, BZPOPMIN, a backup copy, then its
removal), so that a message popped by a consumer cancelled mid-receive is not
lost. Every room event reaches a worker through its hub's lanes
(`rooms.hub.lane_channels`: plain channels that only that worker reads), and
there those round trips were most of what the worker spent on Redis.

On plain channels this subclass pops up to RECEIVE_BATCH waiting messages in
one round trip, BZMPOP (Redis 7), which blocks only when there are none, and
hands them out one by one. (On an older Redis: ZPOPMIN, then BZPOPMIN when it
found nothing, two round trips for a message that finds the lane empty, which a
worker keeping up meets for most of them.) It keeps no backup copy: a lane is read only by its worker's hub,
and when that stops (the worker shuts down or dies) its connections are gone
too; their clients resume from the database with ?since=, as after any
message the layer drops. Process-local "!" channels (new_channel()) and
everything else are channels-redis's own code.

`group_send` is one round trip instead of four: one script trims the group,
reads its members and, for each plain channel among them, trims its expired
messages, checks its capacity and adds the message, as channels-redis's four
separate steps did. The message is serialized once for all of them (a plain
channel's message does not name its channel). Process-local "!" members (a
tutorial-style consumer's channel, each message naming it) come back from that
script and get theirs in a second one. With several Redis shards, or capacities
that differ by channel, it is channels-redis's own.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from typing import Any

from channels_redis.core import RedisChannelLayer
from redis.exceptions import ResponseError

logger = logging.getLogger(__name__)

# At most this many messages per round trip; the rest wait in Redis (within the channel's capacity).
RECEIVE_BATCH = 100

# KEYS: the group's key. ARGV: the layer's prefix, the message, the channels' capacity, the
# score below which a member has expired, the score below which a channel's messages have
# expired, the time now, the keys' expiry. Sends to the plain channels among the members;
# returns how many were over capacity, how many members the group has, and the "!" members,
# which it leaves to the caller. It writes keys it was not given in KEYS (the members' own),
# which one Redis server allows; this path runs only with one (ring_size 1), never a cluster.
GROUP_SEND_SCRIPT = """
local prefix, message, capacity = ARGV[1], ARGV[2], tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, ARGV[4])
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
local process_local = {}
local over_capacity = 0
for _, member in ipairs(members) do
    if string.find(member, '!', 1, true) then
        table.insert(process_local, member)
    else
        local key = prefix .. member
        redis.call('ZREMRANGEBYSCORE', key, 0, ARGV[5])
        if redis.call('ZCARD', key) < capacity then
            redis.call('ZADD', key, ARGV[6], message)
            redis.call('EXPIRE', key, ARGV[7])
        else
            over_capacity = over_capacity + 1
        end
    end
end
return {over_capacity, #members, process_local}
"""

# KEYS: channels' keys. ARGV: a message per key, a capacity per key, then the score below
# which a channel's messages have expired, the time now, the keys' expiry.
SEND_TO_CHANNELS_SCRIPT = """
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
        self._has_bzmpop = True  # until a Redis older than 7.0 says it does not know it

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
        while self._has_bzmpop:
            try:
                popped = await connection.bzmpop(self.brpop_timeout, 1, [key], min=True, count=RECEIVE_BATCH)
            except ResponseError as error:
                if "unknown command" not in str(error).lower():
                    raise
                self._has_bzmpop = False
                break
            if popped is not None:  # [key, [[member, score], ...]]; None when the wait timed out
                return [self._unpack(member) for member, _score in popped[1]]
        while True:
            popped = await connection.zpopmin(key, RECEIVE_BATCH)
            if popped:
                return [self._unpack(member) for member, _score in popped]
            blocked = await connection.bzpopmin(key, timeout=self.brpop_timeout)
            if blocked is not None:
                return [self._unpack(blocked[1])]

    def _unpack(self, member: bytes) -> Any:
        message = self.deserialize(member)
        message.pop("__asgi_channel__", None)  # channels-redis's own group_send (several shards) names it
        return message

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        if self.ring_size != 1 or self.channel_capacity:
            await super().group_send(group, message)
            return
        self.require_valid_group_name(group)  # raises TypeError
        connection = self.connection(0)
        now = time.time()
        over_capacity, members, process_local = await connection.eval(
            GROUP_SEND_SCRIPT,
            1,
            self._group_key(group),
            self.prefix,
            self.serialize(message),
            self.capacity,
            int(now) - self.group_expiry,  # members that stopped renewing
            int(now) - int(self.expiry),
            now,
            self.expiry,
        )
        if process_local:
            over_capacity += await self._send_to_channels([m.decode() for m in process_local], message, now)
        if over_capacity:
            logger.info("%s of %s channels over capacity in group %s", over_capacity, members, group)

    async def _send_to_channels(self, channels: list[str], message: dict[str, Any], now: float) -> int:
        """Each channel gets the message with its own name in it (as "!" channels need); how many were full."""
        _, messages, capacities = self._map_channel_keys_to_connection(channels, message)
        keys = list(messages)
        over_capacity: int = await self.connection(0).eval(
            SEND_TO_CHANNELS_SCRIPT,
            len(keys),
            *keys,
            *(messages[k] for k in keys),
            *(capacities[k] for k in keys),
            int(now) - int(self.expiry),
            now,
            self.expiry,
        )
        return over_capacity

    async def flush(self) -> None:
        self._received.clear()
        await super().flush()
