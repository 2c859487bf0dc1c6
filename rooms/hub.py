"""The per-process hub: one channel-layer subscription per room per worker.

Each worker process (each event loop) has one hub. It owns HUB_LANES layer
channels, each read by its own pump (a room always through the same one, so its
events stay in order; rooms on other lanes do not wait behind it). It joins a
room's group when its first local connection to that room opens and leaves it
when the last one closes, and runs the worker's background duties: its own
(presence heartbeats, the sweep of dead workers' connections, the watch on the
channel layer) and the periodic duties the apps registered (rooms.extensions:
floor expiry, mute lapse, the stats tick). Those take their time from the hub's
clock (`clock`), and `run_duties` is how a test ticks them at a time of its
choosing. Deadlines are claimed in the database, so every worker may run every
duty and each deadline is still acted on once.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from channels.db import database_sync_to_async
from channels.layers import BaseChannelLayer, get_channel_layer
from channels_redis.core import RedisChannelLayer
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone, translation

from config.loop_local import LoopLocal
from rooms.actions import DueCondition, all_due
from rooms.actions.presence import (
    do_close_connections,
    do_close_worker_connections,
    do_refresh_worker_connections,
    do_sweep_stale_connections,
    worker_connections,
)
from rooms.broadcast import Envelope, Viewer, make_envelope, room_group
from rooms.extensions import DutyTick, PeriodicDuty, periodic_duties
from rooms.faults import (
    DATABASE_ERRORS,
    LAYER_ERRORS,
    LIVE_PAUSED,
    OUTAGE_ERRORS,
    SERVICE_RESTART,
    database_breaker,
)
from rooms.schemas import ErrorFrame
from rooms.shutdown import install_sigterm_handler
from rooms.socket_guard import RECHECK_EVENT, WORKERS_GROUP, recheck_named

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

logger = logging.getLogger(__name__)
T = TypeVar("T")


class Receiver(Protocol):
    session_id: int
    connection_id: str
    viewer: Viewer | None  # who it is, once their catch-up is read
    language: str  # its person's language: server notices are worded in it (issue 26)

    async def deliver(self, envelope: Envelope) -> None: ...

    async def shed(self, code: int) -> None:
        """Close so that the client reconnects (and resumes with ?since=), after any reply in progress."""


# While the layer is down, the pumps probe it this often.
LAYER_RETRY_SECONDS = 0.5
# A Redis that stops answering without failing (a stopped process, a path that drops
# packets) raises nothing: with no socket timeout (config/env.py: an idle receive must
# not time out) every command just waits. So the hub asks it something every
# LAYER_WATCH_SECONDS, and the hub's own calls to the layer (joining, leaving and
# re-joining rooms, probing) give up after LAYER_ANSWER_SECONDS: no answer is an
# outage. Generous, because an overloaded worker's loop can be slow to read an answer
# that did come, and a false alarm costs every local client a resync.
LAYER_WATCH_SECONDS = 2.0
LAYER_ANSWER_SECONDS = 5.0
# Room events reach a worker through this many channels, each read by its own pump; a
# room always uses the same one, so its events stay in order. With channels-redis's own
# receive (four round trips to Redis per message, one after the other) a single channel
# left a busy worker seconds behind at 400 events per second with Redis nearly idle;
# rooms.core_layer now reads a lane in batches, and the lanes still keep rooms apart.
HUB_LANES = 4
# A connection row of this worker with no socket behind it, older than this, is an orphan
# (its disconnect could not be recorded, e.g. during a database outage): the heartbeat removes it.
ORPHAN_SECONDS = 60


class RoomHub:
    def __init__(self) -> None:
        layer = get_channel_layer()
        if layer is None:
            raise ImproperlyConfigured("the hub needs a channel layer (CHANNEL_LAYERS has no default)")
        self.layer: BaseChannelLayer = layer
        self.worker_id = uuid.uuid4().hex
        self.channel_names: list[str] = []  # one per lane (HUB_LANES)
        self._start_lock = asyncio.Lock()
        self.rooms: dict[int, set[Receiver]] = {}
        self._group_lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self.layer_healthy = True
        # How many times the layer came back (_layer_up). A call that started in an earlier epoch
        # and fails now (its wait began before the outage was noticed, or reconnect_layer dropped
        # its connection) tells nothing about the layer since it came back: _layer_down ignores it.
        self.layer_epoch = 0
        self._layer_lock = asyncio.Lock()
        self._resyncing: set[Receiver] = set()  # sent away after an outage, not yet closed (_layer_up)
        # SIGTERM: clients are being sent to other workers (rooms.shutdown, RoomHub.drain).
        self.shutting_down = False
        # When this worker's database work last started succeeding again (loop time). After a
        # database outage every worker's rows look stale: the sweep waits until all live
        # workers have beaten again (STALE_SECONDS), so it only ever removes dead ones.
        self.database_ok_since: float | None = None
        self._failing: set[str] = set()  # background duties failing because of an outage (logged once)
        # The time every duty is given; tests run the duties themselves with a time of their own (run_duties).
        self.clock: Callable[[], datetime] = timezone.now
        self._duty_runs: dict[str, int] = {}  # how many times each periodic duty ran on this hub

    # ------------------------------------------------------------ membership

    async def attach(self, receiver: Receiver) -> None:
        await self._start()
        async with self._group_lock:
            local = self.rooms.get(receiver.session_id)
            if local is None:
                local = self.rooms[receiver.session_id] = set()
                # While the layer is down the room is joined when it is back (_layer_up re-joins
                # every room): a call now could only wait LAYER_ANSWER_SECONDS, holding the lock.
                if self.layer_healthy:
                    epoch = self.layer_epoch
                    try:
                        await answered(
                            self.layer.group_add(room_group(receiver.session_id), self.lane(receiver.session_id))
                        )
                    except LAYER_ERRORS as error:
                        await self._layer_down(error, epoch)
            local.add(receiver)
        if self.shutting_down:
            await receiver.shed(SERVICE_RESTART)  # arrived while this worker drains: go to another one
        elif not self.layer_healthy:
            await receiver.deliver(self._notice(receiver, LIVE_PAUSED))

    async def detach(self, receiver: Receiver) -> None:
        async with self._group_lock:
            local = self.rooms.get(receiver.session_id)
            if local is None:
                return
            local.discard(receiver)
            if not local:
                del self.rooms[receiver.session_id]
                if not self.layer_healthy:
                    return  # the group lapses by itself (group_expiry); no call to wait on under the lock
                try:
                    await answered(
                        self.layer.group_discard(room_group(receiver.session_id), self.lane(receiver.session_id))
                    )
                except Exception as error:  # the group lapses by itself (group_expiry) if the layer is down
                    logger.warning(
                        "could not leave room group %s (%r)",
                        receiver.session_id,
                        error,
                        exc_info=not isinstance(error, LAYER_ERRORS),
                    )

    def lane(self, session_id: int) -> str:
        """The channel through which this worker hears a room's events (always the same one: they stay in order)."""
        return self.channel_names[session_id % len(self.channel_names)]

    def local_receivers(self) -> list[Receiver]:
        return [receiver for local in self.rooms.values() for receiver in local]

    def rooms_with_local(self, role: str) -> list[int]:
        """The rooms where this worker serves at least one connection of someone with this role."""
        return [
            session_id
            for session_id, local in self.rooms.items()
            if any(receiver.viewer is not None and receiver.viewer.role == role for receiver in local)
        ]

    async def deliver_local(self, envelope: Envelope) -> None:
        """Hand an event to this worker's own connections to its room (each decides whether it is a recipient).

        The pumps deliver what the channel layer brings this way; a duty that computes an
        event for this worker's connections only (the stats) hands it over directly.
        """
        resyncing = self._resyncing  # empty but for the moments after an outage (_layer_up)
        for receiver in tuple(self.rooms.get(envelope["session_id"], ())):
            if resyncing and receiver in resyncing:
                continue
            try:
                await receiver.deliver(envelope)
            except Exception:
                logger.exception("delivery to one connection failed")

    # ------------------------------------------------------------ tasks

    async def _start(self) -> None:
        if self.channel_names:
            return
        async with self._start_lock:  # two connections may arrive together at a new worker
            if not self.channel_names:
                await self._start_tasks(await lane_channels(self.layer, self.worker_id))
                try:
                    await answered(self.layer.group_add(WORKERS_GROUP, self.channel_names[0]))
                except LAYER_ERRORS as error:  # the heartbeat joins it once the layer answers (_rejoin_groups)
                    logger.warning("could not join the workers' group yet (%r)", error)

    async def _start_tasks(self, channel_names: list[str]) -> None:
        self.channel_names = channel_names
        loop = asyncio.get_running_loop()
        self.database_ok_since = loop.time()
        quiet_layer_cleaners(loop)
        install_sigterm_handler(self)
        self._tasks = [
            *(loop.create_task(self._pump(channel), name=f"circle-hub-pump-{channel}") for channel in channel_names),
            loop.create_task(self._every(settings.CIRCLE["HEARTBEAT_SECONDS"], self._heartbeat)),
            loop.create_task(self._watch_layer(), name="circle-hub-layer-watch"),
            loop.create_task(self._every(settings.CIRCLE["STALE_SECONDS"] / 3, self._sweep)),
        ]
        for (every, first_after), duties in duties_by_period(periodic_duties).items():
            name = " + ".join(duty.name for duty in duties)
            ticking = self._every(every, self._ticker(duties), first_after=first_after, name=name)
            self._tasks.append(loop.create_task(ticking, name=f"circle-hub-{name}"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _pump(self, channel: str) -> None:
        while True:
            if not self.layer_healthy:
                try:
                    await self._layer_up()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    await asyncio.sleep(LAYER_RETRY_SECONDS)
                    continue
            epoch = self.layer_epoch
            try:
                envelope = cast(Envelope, await self.layer.receive(channel))  # what the pumps' groups carry
            except asyncio.CancelledError:
                raise
            except LAYER_ERRORS as error:
                # Events may have been lost, and a restarted Redis has forgotten our groups.
                await self._layer_down(error, epoch)
                await asyncio.sleep(LAYER_RETRY_SECONDS)
                continue
            except Exception:
                logger.warning("channel layer receive failed; retrying", exc_info=True)
                await asyncio.sleep(LAYER_RETRY_SECONDS)
                continue
            if not self.layer_healthy:
                # Published around the outage, and events of the same rooms may be lost: the
                # clients were told live updates paused and get it all from the database when
                # they resync. Delivered now, it could lead a client past a lost one.
                continue
            if envelope["type"] == RECHECK_EVENT:  # to every worker, not a room's (rooms.socket_guard)
                recheck_named(envelope, self.clock())
                continue
            await self.deliver_local(envelope)

    # ------------------------------------------------------------ channel layer outages

    async def _watch_layer(self) -> None:
        """Notice a layer that stopped answering (LAYER_ANSWER_SECONDS): its reads and writes fail nothing.

        While it is down, probe for its return: a pump whose read fails does too, but
        one waiting on a read that never fails (a silent Redis) does not, and the
        heartbeat comes only every HEARTBEAT_SECONDS.
        """
        while True:
            await asyncio.sleep(LAYER_WATCH_SECONDS)
            epoch = self.layer_epoch
            try:
                if self.layer_healthy:
                    await answered(ping_layer(self.layer))
                else:
                    await self._layer_up()  # raises while the layer is still down or silent
            except asyncio.CancelledError:
                raise
            except LAYER_ERRORS as error:
                await self._layer_down(error, epoch)
            except Exception:
                logger.warning("channel layer watch failed; will retry", exc_info=True)

    async def _layer_down(self, error: BaseException, epoch: int) -> None:
        """A layer call that started in `epoch` failed: live events may be lost. Tell the local clients once; the
        pump probes for the layer's return."""
        if not self.layer_healthy:
            return
        if epoch != self.layer_epoch:
            logger.info("a channel layer call from before the layer came back failed (%s): not a new outage", error)
            return
        self.layer_healthy = False
        receivers = self.local_receivers()
        logger.warning(
            "channel layer unavailable (%s): live updates paused for %d local clients; "
            "they resume with ?since= when it is back",
            error,
            len(receivers),
        )
        for receiver in receivers:
            try:
                await receiver.deliver(self._notice(receiver, LIVE_PAUSED))
            except Exception:
                logger.warning("could not tell one connection that live updates paused", exc_info=True)

    async def _layer_up(self) -> None:
        """Raises while the layer is still down. Once it answers: re-join every room, then resync the clients.

        The groups come first, so a client that reconnects at once already gets every
        live event after its catch-up; the close (1012) makes it resume with ?since=,
        which fetches from the database whatever the layer lost meanwhile. Until its
        close, a client that was here during the outage is sent no live event: one
        published during the outage and read only now could lead it past one that was
        lost, and a client resuming after the highest seq it saw would never fetch that.
        """
        async with self._layer_lock:
            if self.layer_healthy:
                return
            await reconnect_layer(self.layer)
            await self._rejoin_groups()
            receivers = self.local_receivers()
            self._resyncing = set(receivers)
            self.layer_epoch += 1
            self.layer_healthy = True
            logger.warning(
                "channel layer is back: room groups re-joined, %d local clients asked to resume (close %d)",
                len(receivers),
                SERVICE_RESTART,
            )
            for receiver in receivers:
                try:
                    await receiver.shed(SERVICE_RESTART)
                except Exception:
                    logger.warning("could not ask one connection to resume", exc_info=True)
            self._resyncing = set()

    @staticmethod
    def _notice(receiver: Receiver, text: StrOrPromise) -> Envelope:
        """A server notice for one local connection, in its person's language, sent through the usual
        delivery path."""
        with translation.override(receiver.language):
            message = str(text)
        return make_envelope(receiver.session_id, ErrorFrame(code="unavailable", message=message), to="everyone")

    # ------------------------------------------------------------ graceful shutdown

    async def drain(self, reconnect_grace: float) -> None:
        """SIGTERM (rooms.shutdown): send every local client to another worker, then hand their rows over.

        Each socket is closed with 1012 after any reply it is finishing, so it reconnects
        (through the load balancer, to a live worker) with ?since=. Their connection rows
        stay until the clients had `reconnect_grace` seconds to arrive elsewhere, so
        someone who merely moved worker is never announced as having left.
        """
        self.shutting_down = True
        receivers = self.local_receivers()
        for receiver in receivers:
            try:
                await receiver.shed(SERVICE_RESTART)
            except Exception:
                logger.warning("could not close one connection for the restart", exc_info=True)
        while self.rooms:  # each detaches when its close handshake is done (consumer.disconnect)
            await asyncio.sleep(0.05)
        if receivers:
            await asyncio.sleep(reconnect_grace)
        await database_sync_to_async(do_close_worker_connections, thread_sensitive=False)(self.worker_id, self.clock())

    async def _rejoin_groups(self) -> None:
        """Join the workers' group and every room's group, including rooms first attached while this ran (attach
        skips the join while the layer is down): when it returns, with no await since its last look, every local
        room is joined."""
        await answered(self.layer.group_add(WORKERS_GROUP, self.channel_names[0]))
        joined: set[int] = set()
        while missing := set(self.rooms) - joined:
            for session_id in missing:
                await answered(self.layer.group_add(room_group(session_id), self.lane(session_id)))
                joined.add(session_id)

    async def _every(
        self, seconds: float, duty: Callable[[], Awaitable[None]], *, first_after: float = 0, name: str = ""
    ) -> None:
        """Run `duty` every `seconds`, the first time `first_after` + `seconds` after the hub starts."""
        await asyncio.sleep(first_after)
        while True:
            await asyncio.sleep(seconds)
            await self._run_guarded(name or duty.__name__, duty)

    async def _run_guarded(self, name: str, duty: Callable[[], Awaitable[None]]) -> None:
        """One run of a background duty: skipped while the database is known to be away, its failure logged
        once (not per tick) and never fatal to the loop."""
        admission = database_breaker.admit()
        if admission is None:
            return  # the database was unreachable a moment ago; a probe is already under way
        outcome: BaseException | None = None
        try:
            await duty()
        except asyncio.CancelledError as cancelled:
            outcome = cancelled
            raise
        except OUTAGE_ERRORS as error:
            outcome = error
            # PostgreSQL or Redis is away: one line when it starts, one when it ends.
            if isinstance(error, DATABASE_ERRORS):
                self.database_ok_since = None
            if name not in self._failing:
                self._failing.add(name)
                logger.warning("background duty %s: service unavailable (%s); retrying", name, error)
        except Exception as error:
            outcome = error
            logger.warning("background duty %s failed; will retry", name, exc_info=True)
        else:
            if name in self._failing:
                self._failing.discard(name)
                logger.warning("background duty %s works again", name)
        finally:
            database_breaker.record(admission, outcome)

    def _ticker(self, duties: Sequence[PeriodicDuty]) -> Callable[[], Awaitable[None]]:
        async def tick() -> None:
            await self.run_duties(duties, self.clock())

        return tick

    async def run_duties(self, duties: Sequence[PeriodicDuty], now: datetime) -> None:
        """One tick of these duties at `now`: the due checks of all of them in one trip to the database thread
        (four times a second on every worker, nearly always nothing is due), then the run of each due one."""
        checked = [duty for duty in duties if duty.due is not None]
        due = await database_sync_to_async(due_duties, thread_sensitive=False)(checked, now) if checked else set()
        for duty in duties:
            if duty.due is not None and duty.name not in due:
                continue
            number = self._duty_runs.get(duty.name, 0)
            self._duty_runs[duty.name] = number + 1
            await duty.run(DutyTick(now=now, number=number, rooms=self))

    async def _heartbeat(self) -> None:
        attached = {receiver.connection_id: receiver for receiver in self.local_receivers()}
        try:
            await database_sync_to_async(do_refresh_worker_connections, thread_sensitive=False)(
                self.worker_id, self.clock()
            )
        except DATABASE_ERRORS:
            self.database_ok_since = None
            raise
        if self.database_ok_since is None:
            self.database_ok_since = asyncio.get_running_loop().time()
        await self._reconcile(attached)
        # Keeps group membership fresh (group_expiry) and restores it after a Redis restart.
        if not self.layer_healthy:
            await self._layer_up()
            return
        epoch = self.layer_epoch
        try:
            await self._rejoin_groups()
        except LAYER_ERRORS as error:
            await self._layer_down(error, epoch)
            raise

    async def _reconcile(self, attached: dict[str, Receiver]) -> None:
        """Make this worker's connection rows and its open sockets agree (one read per heartbeat).

        A socket whose row is gone (swept while this worker could not reach the
        database) reconnects, which registers it again; a row with no socket behind
        it (its disconnect could not be recorded) is closed, announcing the departure.
        """
        stored = await database_sync_to_async(worker_connections, thread_sensitive=False)(self.worker_id)
        for connection_id, receiver in attached.items():
            if connection_id not in stored:
                logger.warning("a connection's presence row vanished; asking the client to reconnect")
                await receiver.shed(SERVICE_RESTART)
        now = self.clock()
        settled = now - timedelta(seconds=ORPHAN_SECONDS)
        orphans = [cid for cid, opened_at in stored.items() if cid not in attached and opened_at < settled]
        if orphans:
            logger.warning("closing %d presence rows left without a socket", len(orphans))
            await database_sync_to_async(do_close_connections, thread_sensitive=False)(orphans, now)

    def _database_steady(self) -> bool:
        since = self.database_ok_since
        return since is not None and asyncio.get_running_loop().time() - since >= settings.CIRCLE["STALE_SECONDS"]

    async def _sweep(self) -> None:
        if not self._database_steady():
            return  # just after a database outage, stale rows may belong to live workers
        await database_sync_to_async(do_sweep_stale_connections, thread_sensitive=False)(self.clock())


def duties_by_period(duties: Iterable[PeriodicDuty]) -> dict[tuple[float, float], list[PeriodicDuty]]:
    """The duties that share a period (and a first run) tick together: one task, one trip for their due checks."""
    groups: dict[tuple[float, float], list[PeriodicDuty]] = {}
    for duty in duties:
        first_after = duty.first_after_seconds() if duty.first_after_seconds is not None else 0.0
        groups.setdefault((duty.every_seconds(), first_after), []).append(duty)
    return groups


def due_duties(duties: Sequence[PeriodicDuty], now: datetime) -> set[str]:
    """The names of the duties whose due check says they have something to do at `now` (database thread).

    The checks that are a DueCondition go in one statement (rooms.actions.all_due): an idle
    worker's ticks cost one query each, however many deadline duties the apps registered.
    """
    conditions = [(duty.name, duty.due) for duty in duties if isinstance(duty.due, DueCondition)]
    answers = all_due([condition for _, condition in conditions], now) if conditions else []
    due = {name for (name, _), answer in zip(conditions, answers, strict=True) if answer}
    others = [duty for duty in duties if duty.due is not None and not isinstance(duty.due, DueCondition)]
    return due | {duty.name for duty in others if duty.due is not None and duty.due(now)}


async def lane_channels(layer: Any, worker_id: str) -> list[str]:
    """A worker's HUB_LANES channels, each read independently of the others."""
    if isinstance(layer, RedisChannelLayer):
        # Plain channels, each its own Redis key: channels-redis reads all of a process's
        # "!" channels (new_channel()) from one shared list under one lock, one message at
        # a time, which would make the lanes one lane again.
        return [f"circle-hub.{worker_id}.{lane}" for lane in range(HUB_LANES)]
    # In memory: every channel has its own queue already.
    return [await layer.new_channel() for _ in range(HUB_LANES)]


async def answered(call: Awaitable[T]) -> T:
    """`call`'s result; TimeoutError (a layer outage) if the layer has not answered within LAYER_ANSWER_SECONDS."""
    try:
        return await asyncio.wait_for(call, LAYER_ANSWER_SECONDS)
    except TimeoutError:
        raise TimeoutError(f"the channel layer did not answer within {LAYER_ANSWER_SECONDS:g} s") from None


async def ping_layer(layer: Any) -> None:
    """One round trip to each of the layer's Redis servers (none for the in-memory layer)."""
    for index in range(getattr(layer, "ring_size", 0)):  # one Redis per shard
        await layer.connection(index).ping()


async def reconnect_layer(layer: Any) -> None:
    """Raises while the channel layer is still down (or silent); returns once it answers again."""
    for index in range(getattr(layer, "ring_size", 0)):  # one Redis per shard
        # Connections pooled before the outage point at a Redis that is gone, restarted or
        # stopped: drop them all (reads and writes waiting on them fail), so that nothing
        # later waits on one of them.
        await layer.connection(index).connection_pool.disconnect()
    await answered(ping_layer(layer))


def quiet_layer_cleaners(loop: asyncio.AbstractEventLoop) -> None:
    """One warning line, not an ERROR and a traceback, when Redis drops during channels-redis's clean-up.

    After each receive channels-redis fires a task that pops the message's backup
    copy and never looks at its outcome; when Redis goes away meanwhile, asyncio
    reports "Task exception was never retrieved". The outage itself is handled
    (and logged) by the hub; anything else goes to the loop's usual handler.
    """
    previous = loop.get_exception_handler()

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, object]) -> None:
        error = context.get("exception")
        future = context.get("future")
        coro = getattr(future, "get_coro", lambda: None)()
        if isinstance(error, LAYER_ERRORS) and "_clean_receive_backup" in getattr(coro, "__qualname__", ""):
            logger.warning("channel layer clean-up failed (%r); its backup copy expires by itself", error)
        elif previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)


_hubs: LoopLocal[RoomHub] = LoopLocal(RoomHub)


def get_hub() -> RoomHub:
    """The hub of the running event loop (one per worker process; one per test loop)."""
    return _hubs.get()


async def stop_hub() -> None:
    hub = _hubs.pop()
    if hub is not None:
        await hub.stop()
