"""The per-process hub: one channel-layer subscription per room per worker.

Each worker process (each event loop) has one hub. It owns one layer channel,
joins a room's group when its first local connection to that room opens and
leaves it when the last one closes, and runs the worker's background duties:
presence heartbeats, the sweep of dead workers' connections, and due timers
(floor expiry). Timers are claimed in the database, so every worker may sweep
and each deadline is still acted on once.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import weakref
from collections.abc import Awaitable, Callable
from typing import Protocol

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.utils import timezone

from rooms.broadcast import Envelope, room_group

logger = logging.getLogger(__name__)


class Receiver(Protocol):
    session_id: int

    async def deliver(self, envelope: Envelope) -> None: ...


class RoomHub:
    def __init__(self) -> None:
        self.layer = get_channel_layer()
        self.worker_id = uuid.uuid4().hex
        self.channel_name: str | None = None
        self.rooms: dict[int, set[Receiver]] = {}
        self._group_lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self.layer_healthy = True

    # ------------------------------------------------------------ membership

    async def attach(self, receiver: Receiver) -> None:
        await self._start()
        async with self._group_lock:
            local = self.rooms.get(receiver.session_id)
            if local is None:
                local = self.rooms[receiver.session_id] = set()
                await self.layer.group_add(room_group(receiver.session_id), self.channel_name)
            local.add(receiver)

    async def detach(self, receiver: Receiver) -> None:
        async with self._group_lock:
            local = self.rooms.get(receiver.session_id)
            if local is None:
                return
            local.discard(receiver)
            if not local:
                del self.rooms[receiver.session_id]
                try:
                    await self.layer.group_discard(room_group(receiver.session_id), self.channel_name)
                except Exception:  # the group lapses by itself (group_expiry) if the layer is down
                    logger.warning("could not leave room group %s", receiver.session_id, exc_info=True)

    def local_receivers(self) -> list[Receiver]:
        return [receiver for local in self.rooms.values() for receiver in local]

    # ------------------------------------------------------------ tasks

    async def _start(self) -> None:
        if self.channel_name is not None:
            return
        # The default prefix, as every consumer's own channel: channels-redis reads all of
        # a process's channels through ONE receive lock on one shared list, so a channel
        # with another prefix waits forever behind the consumers' receive loops.
        self.channel_name = await self.layer.new_channel()
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._pump(), name="circle-hub-pump"),
            loop.create_task(self._every(settings.CIRCLE["TIMER_TICK_SECONDS"], self._due_timers)),
            loop.create_task(self._every(settings.CIRCLE["HEARTBEAT_SECONDS"], self._heartbeat)),
            loop.create_task(self._every(settings.CIRCLE["STALE_SECONDS"] / 3, self._sweep)),
            loop.create_task(self._every(self._stats_seconds(), self._stats)),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _pump(self) -> None:
        channel = self.channel_name
        if channel is None:
            raise RuntimeError("the hub's pump needs its channel; call _start() first")
        while True:
            try:
                envelope: Envelope = await self.layer.receive(channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("channel layer receive failed; retrying", exc_info=True)
                self.layer_healthy = False
                await asyncio.sleep(0.5)
                continue
            if not self.layer_healthy:
                self.layer_healthy = True
                await self._rejoin_groups()
            await self._fan_out(envelope)

    async def _fan_out(self, envelope: Envelope) -> None:
        for receiver in tuple(self.rooms.get(envelope["session_id"], ())):
            try:
                await receiver.deliver(envelope)
            except Exception:
                logger.exception("delivery to one connection failed")

    async def _rejoin_groups(self) -> None:
        for session_id in tuple(self.rooms):
            await self.layer.group_add(room_group(session_id), self.channel_name)

    async def _every(self, seconds: float, duty: Callable[[], Awaitable[None]]) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await duty()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("background duty %s failed; will retry", duty.__name__, exc_info=True)

    async def _due_timers(self) -> None:
        from facilitator.actions import do_expire_due_floors
        from moderation.actions import do_expire_due_mutes

        await database_sync_to_async(do_expire_due_floors, thread_sensitive=False)(timezone.now())
        await database_sync_to_async(do_expire_due_mutes, thread_sensitive=False)(timezone.now())

    async def _heartbeat(self) -> None:
        from rooms.actions.presence import do_refresh_worker_connections

        await database_sync_to_async(do_refresh_worker_connections, thread_sensitive=False)(
            self.worker_id, timezone.now()
        )
        # Keeps group membership fresh (group_expiry) and restores it after a Redis restart.
        await self._rejoin_groups()

    async def _sweep(self) -> None:
        from rooms.actions.presence import do_sweep_stale_connections

        await database_sync_to_async(do_sweep_stale_connections, thread_sensitive=False)(timezone.now())

    @staticmethod
    def _stats_seconds() -> float:
        from facilitator.stats import STATS_SECONDS

        return float(settings.CIRCLE.get("STATS_SECONDS", STATS_SECONDS))

    async def _stats(self) -> None:
        """Participation stats, computed once per room by this worker, for its facilitators only."""
        from facilitator.stats import stats_tick

        await stats_tick(self)


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, RoomHub] = weakref.WeakKeyDictionary()


def get_hub() -> RoomHub:
    """The hub of the running event loop (one per worker process; one per test loop)."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        hub = _hubs[loop] = RoomHub()
    return hub


async def stop_hub() -> None:
    hub = _hubs.pop(asyncio.get_running_loop(), None)
    if hub is not None:
        await hub.stop()
