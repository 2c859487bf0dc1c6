"""The load generator: R rooms x C WebSocket clients in one asyncio process, open-loop sends, per-delivery latency.

Every message's text carries its room-local number and its send time
(`bench m17 123456789`: phase m = measured / w = warm-up, number, perf_counter_ns),
and every receiver records, for each measured message, the delay between that
send and its own receipt (one clock: the generator is one process on loopback).
Each room's sends are spread evenly in time and round-robin over its senders;
the schedule is open-loop (a slow server does not slow the sender down, see
`send_lag_ms` for whether the generator itself kept up).

Two dialects speak the same load: Circle's contract (cookie-authenticated
`/ws/sessions/<id>/`, `chat.send` with a `ref`, `chat.message` deliveries with a
`seq`) and the reference tutorial room (`/ws/chat/<room>/`, `{"message": ...}`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

MARK = re.compile(r"bench ([mw])(\d+) (\d+)")
SEQ = re.compile(r'"seq":(\d+)')
ORIGIN = "http://localhost"


async def open_socket(url: str, headers: dict[str, str]) -> ClientConnection:
    """A generator's WebSocket, with the options every load uses for both apps (the storm and the day too)."""
    return await connect(
        url,
        additional_headers=headers,
        proxy=None,
        compression=None,  # the same for both apps (docs/performance-journal.md)
        open_timeout=60,
        ping_interval=None,  # browsers do not ping; the server's pings are answered
        max_queue=4096,
        max_size=2**22,
    )


@dataclass
class Load:
    name: str
    rooms: int
    clients: int  # per room
    rate: float = 0.0  # messages per second per room
    duration: float = 0.0  # measured seconds
    warmup: float = 0.0
    senders: int = 0  # per room; 0 = every client of the room
    drain: float = 10.0  # at most this long after the last send for the last deliveries
    connect_concurrency: int = 50
    connections: int = 0  # idle loads (C1): this many connections; 0 = rooms x clients
    settle: float = 0.0  # idle loads: wait this long after the last connect before measuring memory
    hold: float = 0.0  # idle loads: keep every connection open this long, then check them

    @property
    def idle(self) -> bool:
        return self.rate <= 0


# ---------------------------------------------------------------- dialects


class CircleDialect:
    """Circle's public contract."""

    name = "circle"
    marker = '"type":"chat.message"'
    checks_seq = True

    def __init__(
        self,
        base_urls: Sequence[str],
        session_ids: Sequence[int],
        rosters: Sequence[Sequence[str]],
        cookies: dict[str, str],
    ) -> None:
        self.base_urls = list(base_urls)
        self.session_ids = list(session_ids)
        self.rosters = rosters
        self.cookies = cookies

    def url(self, room: int, index: int) -> str:
        base = self.base_urls[(room + index) % len(self.base_urls)]
        return base.replace("http://", "ws://", 1) + f"/ws/sessions/{self.session_ids[room]}/"

    def headers(self, room: int, index: int) -> dict[str, str]:
        # Circle checks the Origin's scheme, host and port: the server's own pages (rooms.origin).
        base = self.base_urls[(room + index) % len(self.base_urls)]
        return {"Cookie": self.cookies[self.rosters[room][index]], "Origin": base.rstrip("/")}

    def chat_frame(self, text: str, number: int) -> str:
        return '{"type":"chat.send","ref":"%d","text":"%s"}' % (number, text)  # noqa: UP031 - hot loop

    async def first_frame(self, client: Client, timeout: float) -> None:
        raw = await asyncio.wait_for(client.ws.recv(), timeout)  # type: ignore[union-attr]
        frame = json.loads(raw)
        if frame.get("type") != "session.state":
            raise RuntimeError(f"first frame is {frame.get('type')!r}, not session.state")
        client.state = frame
        for message in frame.get("messages", []):
            client.last_seq = max(client.last_seq, int(message["seq"]))

    async def prepare(self, room: list[Client]) -> None:
        """The facilitator (client 0) takes the room live and open, so every patient may chat."""
        facilitator = room[0]
        session = facilitator.state.get("session", {})
        if session.get("status") == "scheduled":
            await facilitator.request('{"type":"session.start","ref":"%s"}')
        if session.get("mode") != "open":
            await facilitator.request('{"type":"mode.set","mode":"open","ref":"%s"}')


class ReferenceDialect:
    """The Channels tutorial room."""

    name = "reference"
    marker = '{"message":'
    checks_seq = False

    def __init__(self, base_urls: Sequence[str], tag: str) -> None:
        self.base_urls = list(base_urls)
        self.tag = tag  # fresh group names per run: a shared Redis keeps old groups for an hour

    def url(self, room: int, index: int) -> str:
        base = self.base_urls[(room + index) % len(self.base_urls)]
        return base.replace("http://", "ws://", 1) + f"/ws/chat/{self.tag}x{room}/"

    def headers(self, room: int, index: int) -> dict[str, str]:
        return {"Origin": ORIGIN}

    def chat_frame(self, text: str, number: int) -> str:
        return '{"message":"%s"}' % text  # noqa: UP031 - hot loop

    async def first_frame(self, client: Client, timeout: float) -> None:
        return None

    async def prepare(self, room: list[Client]) -> None:
        return None


# ---------------------------------------------------------------- one connection


class Client:
    def __init__(self, run: Run, room: int, index: int) -> None:
        self.run = run
        self.room = room
        self.index = index
        self.ws: ClientConnection | None = None
        self.state: dict[str, Any] = {}
        self.got: set[int] = set()
        self.last_seq = 0
        self.close_code: int | None = None
        self.failure: str | None = None
        self.connect_seconds = 0.0
        self.replies: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.reader: asyncio.Task[None] | None = None
        self.frames = 0
        self._refs = 0

    @property
    def open(self) -> bool:
        return self.ws is not None and self.close_code is None and self.failure is None

    async def request(self, template: str, timeout: float = 30) -> dict[str, Any]:
        """Send a control frame with a fresh ref; wait for its ack (an error reply raises)."""
        self._refs += 1
        ref = f"prep-{self._refs}"
        future = asyncio.get_running_loop().create_future()
        self.replies[ref] = future
        await self.ws.send(template % ref)  # type: ignore[union-attr]
        reply = await asyncio.wait_for(future, timeout)
        if reply.get("type") != "ack":
            raise RuntimeError(f"{template % ref} was refused: {reply}")
        return reply

    async def read(self) -> None:
        run = self.run
        stats = run.stats
        marker = run.dialect.marker
        checks_seq = run.dialect.checks_seq
        got = self.got
        ws = self.ws
        assert ws is not None
        try:
            async for raw in ws:
                now = time.perf_counter_ns()
                self.frames += 1
                if marker in raw:
                    found = MARK.search(raw)  # type: ignore[arg-type]
                    if found is None:
                        continue
                    number = int(found.group(2))
                    if number in got:
                        stats.duplicates += 1
                        continue
                    got.add(number)
                    if found.group(1) == "m":
                        stats.received += 1
                        sent_at = int(found.group(3))
                        stats.latencies.append(now - sent_at)
                        stats.sent_times.append(sent_at)
                    if checks_seq:
                        seq_found = SEQ.search(raw)  # type: ignore[arg-type]
                        if seq_found is not None:
                            seq = int(seq_found.group(1))
                            if seq <= self.last_seq:
                                stats.out_of_order += 1
                            else:
                                self.last_seq = seq
                elif '"type":"ack"' in raw or '"type":"error"' in raw:
                    self.on_reply(json.loads(raw), now)
        except ConnectionClosed:
            pass
        self.close_code = ws.close_code if ws.close_code is not None else 1006
        if not run.closing:
            stats.closed_unexpectedly[str(self.close_code)] += 1

    def on_reply(self, frame: dict[str, Any], now: int) -> None:
        ref = frame.get("ref")
        if not isinstance(ref, str):
            self.run.stats.errors_without_ref[frame.get("code", "?")] += 1
            return
        future = self.replies.pop(ref, None)
        if future is not None:
            if not future.done():
                future.set_result(frame)
            return
        if not ref.isdigit():
            return
        room = self.run.rooms[self.room]
        number = int(ref)
        sent_at = room.sent_at.get(number)
        if frame["type"] == "ack":
            self.run.stats.acked += 1
            if sent_at is not None and number in room.measured_set:
                self.run.stats.ack_latencies.append(now - sent_at)
        else:
            room.refused.add(number)
            self.run.stats.refusals[str(frame.get("code"))] += 1


# ---------------------------------------------------------------- one room


@dataclass
class Room:
    index: int
    clients: list[Client] = field(default_factory=list)
    sent_at: dict[int, int] = field(default_factory=dict)  # number -> perf_counter_ns at send
    measured: list[int] = field(default_factory=list)
    measured_set: set[int] = field(default_factory=set)
    refused: set[int] = field(default_factory=set)
    warmup_sent: int = 0
    send_failures: int = 0
    members_at_start: list[Client] = field(default_factory=list)


@dataclass
class Stats:
    latencies: list[int] = field(default_factory=list)  # ns, measured first deliveries
    sent_times: list[int] = field(default_factory=list)  # ns (perf_counter), each latency's send
    ack_latencies: list[int] = field(default_factory=list)
    send_lags: list[float] = field(default_factory=list)  # s, measured sends
    received: int = 0
    duplicates: int = 0
    out_of_order: int = 0
    acked: int = 0
    refusals: Counter[str] = field(default_factory=Counter)
    errors_without_ref: Counter[str] = field(default_factory=Counter)
    closed_unexpectedly: Counter[str] = field(default_factory=Counter)
    connect_failures: Counter[str] = field(default_factory=Counter)


def percentiles(values: Sequence[float], scale: float = 1.0) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None, "p99": None, "max": None, "mean": None}
    ordered = sorted(values)

    def at(q: float) -> float:
        # nearest-rank percentile
        return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))] * scale

    return {
        "p50": round(at(0.50), 3),
        "p95": round(at(0.95), 3),
        "p99": round(at(0.99), 3),
        "max": round(ordered[-1] * scale, 3),
        "mean": round(sum(ordered) / len(ordered) * scale, 3),
    }


def by_second(latencies: Sequence[int], sent_times: Sequence[int]) -> dict[str, list[float | None]]:
    """p50, p99 and max (ms) of the deliveries of messages sent in each second of the window: when a tail happened."""
    if not latencies:
        return {"p50": [], "p99": [], "max": []}
    origin = min(sent_times)
    seconds: dict[int, list[int]] = {}
    for latency, sent_at in zip(latencies, sent_times, strict=True):
        seconds.setdefault((sent_at - origin) // 1_000_000_000, []).append(latency)
    figures = [percentiles(seconds.get(second, []), 1e-6) for second in range(max(seconds) + 1)]
    return {name: [figure[name] for figure in figures] for name in ("p50", "p99", "max")}


# ---------------------------------------------------------------- one run


class Run:
    """One load against one server group.

    `on_window(True/False)` is called as the measured window opens and closes (the
    last send), `on_drained()` when the drain ends: the last delivery arrived or
    the drain's time ran out. A server that fell behind does the rest of the
    window's work during the drain, so its cost is measured up to then.
    """

    def __init__(
        self,
        load: Load,
        dialect: CircleDialect | ReferenceDialect,
        on_window: Callable[[bool], None] | None = None,
        on_idle_sample: Callable[[str], None] | None = None,
        on_drained: Callable[[], None] | None = None,
    ) -> None:
        self.load = load
        self.dialect = dialect
        self.on_window = on_window or (lambda opened: None)
        self.on_drained = on_drained or (lambda: None)
        self.on_idle_sample = on_idle_sample or (lambda label: None)
        self.stats = Stats()
        self.rooms: list[Room] = []
        self.closing = False
        self.window: tuple[float, float] = (0.0, 0.0)
        self.generator_cpu = 0.0
        self.ramp_seconds = 0.0
        self.drain_seconds = 0.0
        self.notes: list[str] = []

    # ------------------------------------------------------------ connections

    def layout(self) -> list[tuple[int, int]]:
        load = self.load
        total = load.connections or load.rooms * load.clients
        rooms = math.ceil(total / load.clients)
        self.rooms = [Room(index) for index in range(rooms)]
        return [(n // load.clients, n % load.clients) for n in range(total)]

    async def connect_all(self) -> None:
        semaphore = asyncio.Semaphore(self.load.connect_concurrency)
        started = time.perf_counter()

        async def open_one(room: int, index: int) -> Client:
            client = Client(self, room, index)
            async with semaphore:
                began = time.perf_counter()
                try:
                    client.ws = await open_socket(self.dialect.url(room, index), self.dialect.headers(room, index))
                    await self.dialect.first_frame(client, 60)
                except InvalidStatus as refused:
                    client.failure = f"http {refused.response.status_code}"
                except ConnectionClosed as closed:
                    client.failure = f"closed {closed.rcvd.code if closed.rcvd else 1006}"
                except (OSError, TimeoutError, RuntimeError) as error:
                    client.failure = f"{type(error).__name__}: {error}"[:120]
                client.connect_seconds = time.perf_counter() - began
            if client.failure is None:
                client.reader = asyncio.get_running_loop().create_task(client.read())
            else:
                self.stats.connect_failures[client.failure] += 1
            return client

        clients = await asyncio.gather(*(open_one(room, index) for room, index in self.layout()))
        for client in clients:
            self.rooms[client.room].clients.append(client)
        self.ramp_seconds = time.perf_counter() - started

    async def close_all(self) -> None:
        self.closing = True
        clients = [client for room in self.rooms for client in room.clients if client.ws is not None]
        semaphore = asyncio.Semaphore(200)

        async def close_one(client: Client) -> None:
            async with semaphore:
                with contextlib.suppress(TimeoutError, OSError, ConnectionClosed):
                    await asyncio.wait_for(client.ws.close(), 10)  # type: ignore[union-attr]
            if client.reader is not None:
                client.reader.cancel()

        await asyncio.gather(*(close_one(client) for client in clients), return_exceptions=True)

    # ------------------------------------------------------------ sending

    async def drive(self, room: Room, start: float, warm_end: float, end: float) -> None:
        load = self.load
        loop = asyncio.get_running_loop()
        senders = [client for client in room.clients if client.open]
        if load.senders:
            senders = senders[: load.senders]
        if not senders:
            return
        interval = 1.0 / load.rate
        # Rooms are staggered evenly across one interval, so sends are spread over time.
        due = start + interval * room.index / max(1, len(self.rooms))
        number = 0
        frame = self.dialect.chat_frame
        stats = self.stats
        while due < end:
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            measured = due >= warm_end
            client = senders[number % len(senders)]
            if not client.open:
                number += 1
                due += interval
                continue
            sent_at = time.perf_counter_ns()
            text = f"bench {'m' if measured else 'w'}{number} {sent_at}"
            room.sent_at[number] = sent_at
            if measured:
                room.measured.append(number)
                room.measured_set.add(number)
                stats.send_lags.append(loop.time() - due)
            else:
                room.warmup_sent += 1
            try:
                await client.ws.send(frame(text, number))  # type: ignore[union-attr]
            except ConnectionClosed:
                room.send_failures += 1
                if measured:
                    room.measured.pop()
                    room.measured_set.discard(number)
            number += 1
            due += interval

    def expected(self) -> int:
        return sum(
            (len(room.measured) - len(room.refused & room.measured_set)) * len(room.members_at_start)
            for room in self.rooms
        )

    async def run_load(self) -> None:
        load = self.load
        loop = asyncio.get_running_loop()
        for room in self.rooms:
            opened = [client for client in room.clients if client.open]
            if opened:
                await self.dialect.prepare(opened)
        await asyncio.sleep(0.5)
        for room in self.rooms:
            room.members_at_start = [client for client in room.clients if client.open]
        start = loop.time() + 0.2
        warm_end = start + load.warmup
        end = warm_end + load.duration
        cpu_marks: list[float] = []

        def window(opened: bool) -> None:
            cpu_marks.append(time.process_time())
            self.on_window(opened)

        loop.call_at(warm_end, window, True)
        loop.call_at(end, window, False)
        drivers = [loop.create_task(self.drive(room, start, warm_end, end)) for room in self.rooms]
        await asyncio.gather(*drivers)
        if loop.time() < end:
            await asyncio.sleep(end - loop.time())
        await asyncio.sleep(0.01)  # let the window close run first
        deadline = loop.time() + load.drain
        drain_started = loop.time()
        while loop.time() < deadline and self.stats.received < self.expected():
            await asyncio.sleep(0.02)
        self.drain_seconds = loop.time() - drain_started
        self.on_drained()
        self.window = (warm_end, end)
        if len(cpu_marks) == 2:
            self.generator_cpu = (cpu_marks[1] - cpu_marks[0]) / load.duration

    async def run_idle(self) -> dict[str, Any]:
        """C1: everyone connected and quiet; memory sampled; after the hold, a probe message in room 0."""
        load = self.load
        self.on_idle_sample("ramped")  # the server's CPU over the ramp: what the connects cost it (issue 25)
        await asyncio.sleep(load.settle)
        self.on_idle_sample("connected")
        await asyncio.sleep(load.hold)
        alive = sum(1 for room in self.rooms for client in room.clients if client.open)
        self.on_idle_sample("held")
        probe = {"room": 0, "delivered": 0, "expected": 0, "ok": False}
        room = self.rooms[0]
        opened = [client for client in room.clients if client.open]
        if opened:
            await self.dialect.prepare(opened)
            room.members_at_start = opened
            sent_at = time.perf_counter_ns()
            room.sent_at[0] = sent_at
            room.measured = [0]
            room.measured_set = {0}
            await opened[0].ws.send(self.dialect.chat_frame(f"bench m0 {sent_at}", 0))  # type: ignore[union-attr]
            deadline = asyncio.get_running_loop().time() + 15
            while asyncio.get_running_loop().time() < deadline and self.stats.received < len(opened):
                await asyncio.sleep(0.02)
            probe.update(delivered=self.stats.received, expected=len(opened), ok=self.stats.received == len(opened))
        return {"alive_after_hold": alive, "probe": probe}

    # ------------------------------------------------------------ results

    def connection_report(self) -> dict[str, Any]:
        clients = [client for room in self.rooms for client in room.clients]
        made = [client for client in clients if client.failure is None]
        return {
            "wanted": len(clients),
            "made": len(made),
            "failed": len(clients) - len(made),
            "failures": dict(self.stats.connect_failures),
            "connect_ms": percentiles([client.connect_seconds for client in made], 1000.0),
            "ramp_seconds": round(self.ramp_seconds, 3),
        }

    def report(self) -> dict[str, Any]:
        load = self.load
        stats = self.stats
        lost = 0
        for room in self.rooms:
            wanted = room.measured_set - room.refused
            for client in room.members_at_start:
                lost += len(wanted - client.got)
        expected = self.expected()
        sent = sum(len(room.measured) for room in self.rooms)
        duration = load.duration
        return {
            "connections": self.connection_report(),
            "messages": {
                "sent": sent,
                "sent_warmup": sum(room.warmup_sent for room in self.rooms),
                "per_second": round(sent / duration, 1) if duration else None,
                "acked": stats.acked,
                "refused": sum(stats.refusals.values()),
                "refusal_codes": dict(stats.refusals),
                "errors_without_ref": dict(stats.errors_without_ref),
                "send_failures": sum(room.send_failures for room in self.rooms),
            },
            "deliveries": {
                "expected": expected,
                "received": stats.received,
                "lost": lost,
                "loss_ratio": round(lost / expected, 6) if expected else 0.0,
                "duplicates": stats.duplicates,
                "out_of_order": stats.out_of_order,
                "per_second": round(stats.received / duration, 1) if duration else None,
                "drain_seconds": round(self.drain_seconds, 3),
            },
            "latency_ms": percentiles(stats.latencies, 1e-6),
            "latency_by_second_ms": by_second(stats.latencies, stats.sent_times),
            "ack_ms": percentiles(stats.ack_latencies, 1e-6) if stats.ack_latencies else None,
            "send_lag_ms": percentiles(stats.send_lags, 1000.0),
            "closed_unexpectedly": dict(stats.closed_unexpectedly),
            "generator_cpu_percent": round(self.generator_cpu * 100, 1),
        }
