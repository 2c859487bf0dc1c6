"""The reconnect storm (issue 25, point 3): one worker of two is stopped mid-run; do its clients come back whole?

    python -m bench run --config production --workers 2 --load storm
    python -m bench.storm plot bench/results/<stamp>-storm-production-daphne-w2.json docs/storm.svg

Set-up: R rooms x C clients (default L1's 50 x 12 at 1 message/s per room) spread over
the workers as the other loads are. A third of the way into the measured window the
last worker gets SIGTERM: Circle's graceful shutdown (rooms/shutdown.py) stops
listening and closes its sockets with 1012. Each client closed that way reconnects
as Circle's page does (static/circle/room/socket.js: the backoff table, its jitter,
the attempt counter reset by a session.state, the final close codes), through a
balancer that stops sending anyone to a worker once it stopped listening, with
`?since=<the highest seq it received>`. Chat goes on meanwhile: each room's sends go
round-robin to its connected clients, and a send whose ack never came is sent again
after the reconnect with the same `txn_id`, as the page's resendUnacknowledged does.

The page itself resumes from an older seq (store.js's resumeAfter: the newest of its
last session.state, or of the live messages older than 60 s) and merges what comes
twice by message_id. The bench resumes from the highest seq instead, the strictest
choice: a message the server repeats across the resume, or drops between the close
and the catch-up, shows here instead of being absorbed by the page's merge.

Checked per client, by seq, against the database's rows (the ground truth): every
visible message of its room after the newest one of its first session.state arrived
exactly once, from live frames plus the catch-up. Reported: the time from SIGTERM
until the last client is back (its next session.state), missing and duplicated seqs
per client, chat latency per second (live deliveries) and its p99 during the storm,
clients connected, and PostgreSQL's and Redis's connections sampled every 0.5 s.

The reference (the Channels tutorial) has no `?since` catch-up, so the storm runs
Circle only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import re
import secrets
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidStatus

from bench import profile as profiling
from bench.loadgen import CircleDialect, Load, open_socket, percentiles
from bench.servers import ServerGroup

if TYPE_CHECKING:
    from bench.clinic import Clinic
    from bench.run import Options

# Circle's page (static/circle/room/socket.js): BACKOFF_SECONDS, FINAL_CLOSE_CODES and the
# jitter of RoomSocket.closed(); the attempt counter starts again at a session.state.
BACKOFF_SECONDS = (0.5, 1, 2, 3, 5, 8)
FINAL_CLOSE_CODES = frozenset({4401, 4403, 4404, 4410})
SIGTERM_AT = 1 / 3  # of the measured window
SAMPLE_SECONDS = 0.5
TARGET_BACK_SECONDS = 10.0
TARGET_P99_MS = 500.0
MARK = re.compile(r"bench [mw](\d+) (\d+)")
REFERENCE_NOTE = "the storm runs Circle only: the reference (the Channels tutorial) has no ?since catch-up"


def backoff_delay(attempt: int, rng: random.Random) -> float:
    """Seconds before the next try after `attempt` failed ones: RoomSocket.closed() in socket.js."""
    base = BACKOFF_SECONDS[min(attempt, len(BACKOFF_SECONDS) - 1)]
    return base * (0.75 + rng.random() * 0.5)


def seq_check(expected: set[int], received: Counter[int]) -> dict[str, list[int]]:
    """One client's verdict: the seqs it should have and never got, got more than once, or should not have got
    (before its first session.state, or not in the database)."""
    return {
        "missing": sorted(expected - received.keys()),
        "duplicated": sorted(seq for seq, times in received.items() if times > 1),
        "unexpected": sorted(received.keys() - expected),
    }


# ---------------------------------------------------------------- one client


class StormClient:
    def __init__(self, storm: Storm, room: int, index: int) -> None:
        self.storm = storm
        self.room = room
        self.index = index
        self.ws: ClientConnection | None = None
        self.baseline: int | None = None  # newest seq of the first session.state: history before the run
        self.last_seq = 0
        self.received: Counter[int] = Counter()  # seq -> times, live frames and catch-ups together
        self.caught_up = 0  # messages that came in a ?since catch-up
        self.out_of_order = 0  # live messages below a seq already received
        self.numbers: set[int] = set()  # bench numbers seen (the first receipt is the one timed)
        self.unacked: dict[int, str] = {}  # number -> chat.send frame, sent again after a reconnect
        self.attempt = 0
        self.failure: str | None = None  # the first connection failed, or a final close code
        self.failed_attempts: Counter[str] = Counter()  # reconnects refused or failed, by reason
        self.closes: list[tuple[float, int]] = []  # (seconds, code) of each close the server made
        self.back: list[tuple[float, float]] = []  # (closed at, back at): each reconnect's session.state
        self.connect_seconds = 0.0

    @property
    def open(self) -> bool:
        return self.ws is not None

    def url(self) -> str:
        storm = self.storm
        base = storm.balancer(self.room, self.index)
        url = base.replace("http://", "ws://", 1) + f"/ws/sessions/{storm.dialect.session_ids[self.room]}/"
        return url if self.baseline is None else f"{url}?since={self.last_seq}"

    async def connect_once(self) -> bool:
        """One try: open the socket and read its session.state. False (with the reason counted) if it failed."""
        storm = self.storm
        began = time.perf_counter()
        try:
            headers = storm.dialect.headers(self.room, self.index)
            headers["Origin"] = storm.balancer(self.room, self.index)
            ws = await open_socket(self.url(), headers)
        except InvalidStatus as refused:
            reason = f"http {refused.response.status_code}"
        except (OSError, TimeoutError) as error:
            reason = type(error).__name__
        else:
            try:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 60))
                if frame.get("type") != "session.state":
                    raise RuntimeError(f"first frame is {frame.get('type')!r}")
            except ConnectionClosed as closed:
                reason = f"closed {closed.rcvd.code if closed.rcvd else 1006}"
            except (TimeoutError, RuntimeError, ValueError) as error:
                reason = f"{type(error).__name__}: {error}"[:80]
                await ws.close()
            else:
                self.connect_seconds = time.perf_counter() - began
                self.on_state(frame)
                self.ws = ws
                storm.connected += 1
                return True
        self.failed_attempts[reason] += 1
        return False

    def on_state(self, frame: dict[str, Any]) -> None:
        seqs = [int(message["seq"]) for message in frame.get("messages", [])]
        now = self.storm.clock()
        if self.baseline is None:
            self.baseline = self.last_seq = max(seqs, default=0)
        else:
            for message in frame["messages"]:
                self.take(message, now, live=False)
            self.caught_up += len(seqs)
            self.back.append((self.closes[-1][0], now))
        self.attempt = 0

    def take(self, message: dict[str, Any], now: float, *, live: bool) -> None:
        seq = int(message["seq"])
        self.received[seq] += 1
        if live and seq < self.last_seq:
            self.out_of_order += 1
        self.last_seq = max(self.last_seq, seq)
        found = MARK.fullmatch(message.get("text", ""))
        if found is None:
            return
        number = int(found.group(1))
        if number in self.numbers:
            return
        self.numbers.add(number)
        sent = (int(found.group(2)) - self.storm.origin_ns) / 1e9
        self.storm.deliveries.append((sent, now - sent, live))

    async def life(self) -> None:
        """Read until the server closes the socket; reconnect as the page would; until the run closes."""
        storm = self.storm
        rng = storm.rng
        while True:
            ws = self.ws
            assert ws is not None
            with contextlib.suppress(ConnectionClosed):
                async for raw in ws:
                    self.on_frame(raw)
            self.ws = None
            storm.connected -= 1
            if storm.closing:
                return
            code = ws.close_code if ws.close_code is not None else 1006
            self.closes.append((storm.clock(), code))
            if code in FINAL_CLOSE_CODES:
                self.failure = f"closed {code}"
                return
            while True:
                await asyncio.sleep(backoff_delay(self.attempt, rng))
                self.attempt += 1
                if storm.closing:
                    return
                if await self.connect_once():
                    break
            ws = self.ws
            for frame in list(self.unacked.values()):  # after the catch-up, as resendUnacknowledged
                if ws is None:  # closed again before the resend: the next reconnect resends
                    break
                with contextlib.suppress(ConnectionClosed):
                    await ws.send(frame)

    def on_frame(self, raw: str | bytes) -> None:
        frame = json.loads(raw)
        kind = frame.get("type")
        if kind == "chat.message":
            self.take(frame, self.storm.clock(), live=True)
        elif kind in ("ack", "error") and isinstance(frame.get("ref"), str) and frame["ref"].isdigit():
            number = int(frame["ref"])
            self.unacked.pop(number, None)
            if kind == "error":
                self.storm.refusals[str(frame.get("code"))] += 1
        elif kind == "session.state":  # a fresh state on an open socket (a role re-check): not a resume
            self.storm.notes.add("a fresh session.state arrived on an open socket")


# ---------------------------------------------------------------- the run


@dataclass
class Storm:
    load: Load
    dialect: CircleDialect
    group: ServerGroup
    victim: int  # the index of the worker that gets SIGTERM
    rng: random.Random = field(default_factory=lambda: random.Random(secrets.randbits(32)))
    tag: str = field(default_factory=lambda: secrets.token_hex(4))  # txn_ids of this run (the rooms outlive it)
    rooms: list[list[StormClient]] = field(default_factory=list)
    alive: list[str] = field(default_factory=list)  # the balancer's workers
    origin_ns: int = field(default_factory=time.perf_counter_ns)
    deliveries: list[tuple[float, float, bool]] = field(default_factory=list)  # (sent s, latency s, live)
    sent: list[set[int]] = field(default_factory=list)  # per room, the bench numbers sent
    refusals: Counter[str] = field(default_factory=Counter)
    skipped_sends: int = 0  # a room's turn came while none of its clients was connected
    connected: int = 0
    closing: bool = False
    sigterm_at: float | None = None
    window: tuple[float, float] = (0.0, 0.0)
    notes: set[str] = field(default_factory=set)
    profile_out: Path | None = None  # --profile circle: py-spy on the surviving worker from SIGTERM on, for 15 s
    spy: Any = None
    generator_cpu_percent: float | None = None  # from the first chat send to the drain's end: did the generator keep up

    def clock(self) -> float:
        return (time.perf_counter_ns() - self.origin_ns) / 1e9

    def balancer(self, room: int, index: int) -> str:
        """The worker a (re)connection reaches: spread as the other loads are, over the workers still listening."""
        return self.alive[(room + index) % len(self.alive)]

    async def connect_all(self) -> None:
        semaphore = asyncio.Semaphore(self.load.connect_concurrency)

        async def first(client: StormClient) -> None:
            async with semaphore:
                if not await client.connect_once():
                    client.failure = "first connection: " + ", ".join(client.failed_attempts)

        self.rooms = [
            [StormClient(self, room, index) for index in range(self.load.clients)] for room in range(self.load.rooms)
        ]
        self.sent = [set() for _ in self.rooms]
        await asyncio.gather(*(first(client) for room in self.rooms for client in room))

    async def prepare(self) -> None:
        """The facilitator (client 0) takes each room live and open, on a socket of its own (as loadgen's prepare)."""
        for room in self.rooms:
            facilitator = room[0]
            if facilitator.ws is None:
                continue
            for frame in (
                '{"type":"session.start","ref":"prep-1"}',
                '{"type":"mode.set","mode":"open","ref":"prep-2"}',
            ):
                await facilitator.ws.send(frame)
                while True:  # the acks (or errors: already live, already open) come before the readers start
                    reply = json.loads(await asyncio.wait_for(facilitator.ws.recv(), 30))
                    if str(reply.get("ref") or "").startswith("prep-"):
                        break

    async def drive(self, index: int, start: float, warm_end: float, end: float) -> None:
        """One room's open-loop sends, round-robin over its connected clients."""
        loop = asyncio.get_running_loop()
        clients = self.rooms[index]
        interval = 1.0 / self.load.rate
        due = start + interval * index / len(self.rooms)
        number = 0
        while due < end:
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            sender = next((c for k in range(len(clients)) if (c := clients[(number + k) % len(clients)]).open), None)
            if sender is None:
                self.skipped_sends += 1
            else:
                phase = "m" if due >= warm_end else "w"
                text = f"bench {phase}{number} {time.perf_counter_ns()}"
                frame = json.dumps(
                    {"type": "chat.send", "ref": str(number), "txn_id": f"{self.tag}-{number}", "text": text}
                )
                sender.unacked[number] = frame
                self.sent[index].add(number)
                with contextlib.suppress(ConnectionClosed):  # sent again after the reconnect
                    await sender.ws.send(frame)  # type: ignore[union-attr]
            number += 1
            due += interval

    def sigterm(self) -> None:
        victim = self.group.processes[self.victim]
        self.alive.remove(victim.base_url)  # it stops listening first thing (rooms/shutdown.py)
        self.sigterm_at = self.clock()
        assert victim.process is not None
        victim.process.send_signal(signal.SIGTERM)
        if self.profile_out is not None:
            survivor = next(p for i, p in enumerate(self.group.processes) if i != self.victim)
            self.spy = profiling.start(survivor.pid, 15, self.profile_out)

    async def run(self, sampler: Sampler) -> None:
        load = self.load
        loop = asyncio.get_running_loop()
        sampler.start()  # from the first connection: the ramp's peak counts too
        await self.connect_all()
        await self.prepare()
        lives = [loop.create_task(c.life()) for room in self.rooms for c in room if c.open]
        cpu_began, wall_began = time.process_time(), time.perf_counter()
        await asyncio.sleep(0.5)
        start = loop.time() + 0.2
        warm_end = start + load.warmup
        end = warm_end + load.duration
        self.window = (self.clock() + warm_end - loop.time(), self.clock() + end - loop.time())
        loop.call_at(warm_end + load.duration * SIGTERM_AT, self.sigterm)
        await asyncio.gather(*(self.drive(index, start, warm_end, end) for index in range(len(self.rooms))))
        deadline = loop.time() + load.drain
        while loop.time() < deadline and not self.settled():
            await asyncio.sleep(0.1)
        self.generator_cpu_percent = round(
            100 * (time.process_time() - cpu_began) / (time.perf_counter() - wall_began), 1
        )
        self.closing = True
        for room in self.rooms:
            for client in room:
                if client.ws is not None:
                    with contextlib.suppress(TimeoutError, OSError, ConnectionClosed):
                        await asyncio.wait_for(client.ws.close(), 10)
        for task in lives:
            task.cancel()
        await asyncio.gather(*lives, return_exceptions=True)
        sampler.stop()

    def settled(self) -> bool:
        """Every send acknowledged, every client back and holding every bench number of its room."""
        for room, sent in zip(self.rooms, self.sent, strict=True):
            for client in room:
                if client.failure is None and (client.unacked or not client.open or not sent <= client.numbers):
                    return False
        return True


class Sampler(threading.Thread):
    """Every 0.5 s: clients connected, PostgreSQL's client connections (the bench database's and all), Redis's."""

    def __init__(self, storm: Storm, admin_url: str, database: str, redis_url: str) -> None:
        super().__init__(name="storm-sampler", daemon=True)
        self.storm = storm
        self.admin_url = admin_url
        self.database = database
        self.redis_url = redis_url
        self.samples: list[dict[str, Any]] = []  # one per tick: counts, and each worker's CPU seconds
        self._done = threading.Event()
        self._pg: Any = None  # psycopg.Connection, imported in the thread

    def run(self) -> None:
        import redis

        cache = redis.Redis.from_url(self.redis_url, socket_timeout=2)
        while not self._done.wait(SAMPLE_SECONDS):
            pg_bench_db, pg_all = self.postgres()
            try:  # minus the sampler's own connection
                redis_clients: int | None = int(cache.info("clients")["connected_clients"]) - 1
            except redis.RedisError:
                redis_clients = None
            self.samples.append(
                {
                    "t": round(self.storm.clock(), 2),
                    "clients_connected": self.storm.connected,
                    "pg_bench_db": pg_bench_db,
                    "pg_all": pg_all,
                    "redis_clients": redis_clients,
                    "worker_cpu_s": self.worker_cpu(),
                }
            )
        cache.close()
        if self._pg is not None:
            self._pg.close()

    def worker_cpu(self) -> list[float | None]:
        """Each worker's CPU seconds so far (None once it stopped): is the survivor saturated during the storm?"""
        out: list[float | None] = []
        for process in self.storm.group.processes:
            try:
                out.append(process.sample()[0] if process.running() else None)
            except OSError:  # exited between the two reads
                out.append(None)
        return out

    def postgres(self) -> tuple[int | None, int | None]:
        """Client backends on the bench's database and on the server, the sampler's own left out; (None, None)
        when PostgreSQL does not answer (the sampler connects again at the next tick)."""
        import psycopg

        try:
            if self._pg is None or self._pg.closed:
                self._pg = psycopg.connect(self.admin_url, autocommit=True, connect_timeout=2)
            row = self._pg.execute(
                "SELECT count(*) FILTER (WHERE datname = %s), count(*) FROM pg_stat_activity "
                "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
                (self.database,),
            ).fetchone()
        except psycopg.Error:
            self._pg = None
            return None, None
        return (row[0], row[1]) if row else (None, None)

    def stop(self) -> None:
        self._done.set()
        self.join(10)


# ---------------------------------------------------------------- from the clinic to the report


def database_seqs(database_url: str, session_ids: Sequence[int]) -> list[set[int]]:
    """Every room's visible messages by seq, from the database: what each client must end up with."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as pg:
        rows = pg.execute(
            "SELECT session_id, seq FROM rooms_message WHERE session_id = ANY(%s) "
            "AND audience = 'room' AND removed_at IS NULL",
            (list(session_ids),),
        ).fetchall()
    by_session: dict[int, set[int]] = {session_id: set() for session_id in session_ids}
    for session_id, seq in rows:
        by_session[session_id].add(int(seq))
    return [by_session[session_id] for session_id in session_ids]


def run_storm(made: Clinic, load: Load, options: Options) -> dict[str, Any]:
    """Start the workers, run the storm, stop them; the report of this one run."""
    from bench.clinic import postgres_admin_url
    from bench.run import analyze, cpu_times, steal  # here: bench.run imports this module

    if not made.redis_url or options.workers < 2:
        raise ValueError("the storm needs two workers or more on PostgreSQL and Redis: --config production --workers 2")
    env = made.env(CHANNEL_LAYER_PREFIX=f"circle-bench-{made.run_id}-{secrets.token_hex(3)}")
    made.session_ids(load.rooms, load.clients)  # before the servers start: set-up is not measured
    analyzed = analyze(made.database_url)  # as every run: fresh statistics (autovacuum is off here)
    steal_before = cpu_times()
    started = time.monotonic()
    group = ServerGroup("circle", options.server, env, workers=options.workers, cpus=options.server_cpus)
    with group:
        cookies = made.login_all(group.base_urls[0])
        session_ids = made.session_ids(load.rooms, load.clients)
        rosters = [made.roster(index, load.clients) for index in range(load.rooms)]
        dialect = CircleDialect(group.base_urls, session_ids, rosters, cookies)
        storm = Storm(load, dialect, group, victim=len(group.processes) - 1, alive=list(group.base_urls))
        if "circle" in options.profile:
            storm.profile_out = options.profile_dir / f"{time.strftime('%Y%m%d-%H%M%S')}-profile-circle-storm.txt"
        database = made.database_url.rsplit("/", 1)[1]
        sampler = Sampler(storm, postgres_admin_url(), database, made.redis_url)
        asyncio.run(storm.run(sampler))
        truth = database_seqs(made.database_url, session_ids)
        victim = group.processes[storm.victim]
        victim_exit = victim.process.wait(15) if victim.process is not None else None
    report = storm_report(storm, truth, sampler.samples)
    report["server"] = {
        "workers": len(group.processes),
        "victim": victim.name,
        "victim_exit_code": victim_exit,
        "problems": group.problems()[:20],
        "logs": group.logs(),
    }
    if storm.spy is not None:
        storm.spy.wait(60)
        report["server"]["profile"] = str(storm.profile_out)
    report["target"] = "circle"
    report["note"] = REFERENCE_NOTE
    report["wall_seconds"] = round(time.monotonic() - started, 1)
    report["analyze_seconds"] = analyzed
    report["steal"] = steal(steal_before, cpu_times(), options.server_cpus)
    report["ok"], report["why_not"] = judge(report)
    report["targets"] = targets(report)
    if report["ok"]:
        group.remove_logs()
        report["server"]["logs"] = {}
    return report


def storm_report(storm: Storm, truth: list[set[int]], samples: list[dict[str, Any]]) -> dict[str, Any]:
    clients = [client for room in storm.rooms for client in room]
    made = [client for client in clients if client.baseline is not None]
    per_client: list[dict[str, Any]] = []
    missing = duplicated = unexpected = 0
    for room, seqs in zip(storm.rooms, truth, strict=True):
        for client in room:
            if client.baseline is None:
                continue
            verdict = seq_check({seq for seq in seqs if seq > client.baseline}, client.received)
            missing += len(verdict["missing"])
            duplicated += len(verdict["duplicated"])
            unexpected += len(verdict["unexpected"])
            if any(verdict.values()) or client.closes:
                per_client.append(
                    {
                        "room": client.room,
                        "client": client.index,
                        "since_first": client.baseline,
                        "closes": [[round(t, 3), code] for t, code in client.closes],
                        "back_after_s": [round(back - closed, 3) for closed, back in client.back],
                        "caught_up": client.caught_up,
                        "out_of_order": client.out_of_order,
                        "failed_attempts": dict(client.failed_attempts),
                        **{name: values[:50] for name, values in verdict.items()},
                    }
                )
    sigterm = storm.sigterm_at
    closed = [client for client in clients if client.closes]
    stuck = [client for client in closed if len(client.back) < len(client.closes)]
    back_times = [back for client in closed for _, back in client.back]
    last_back = max(back_times) if back_times and not stuck else None
    storm_end = max(last_back or storm.window[1], (sigterm or 0) + 1)
    live = [(sent, latency) for sent, latency, is_live in storm.deliveries if is_live]
    during = [latency for sent, latency in live if sigterm is not None and sigterm <= sent <= storm_end]
    shown = [latency for sent, latency, _ in storm.deliveries if sigterm is not None and sigterm <= sent <= storm_end]
    codes = Counter(str(code) for client in closed for _, code in client.closes)
    survivors_cpu = cpu_share(
        samples, sigterm, storm_end, [i for i in range(len(storm.group.processes)) if i != storm.victim]
    )
    return {
        "connections": {
            "wanted": len(clients),
            "made": len(made),
            "failed": len(clients) - len(made),
            "failures": dict(Counter(client.failure for client in clients if client.baseline is None)),
            "connect_ms": percentiles([client.connect_seconds for client in made], 1000.0),
        },
        "storm": {
            "sigterm_at_s": round(sigterm, 3) if sigterm is not None else None,
            "window_s": [round(storm.window[0], 3), round(storm.window[1], 3)],
            "clients_closed": len(closed),
            "close_codes": dict(codes),
            "clients_not_back": len(stuck),
            "final_closes": sorted(client.failure for client in clients if client.failure and client.baseline),
            "last_back_after_sigterm_s": round(last_back - sigterm, 3) if last_back and sigterm else None,
            "back_after_close_s": percentiles([back - closed for c in closed for closed, back in c.back]),
            "reconnect_attempts_failed": dict(sum((c.failed_attempts for c in closed), Counter())),
            "caught_up_messages": sum(client.caught_up for client in clients),
            "survivors_cpu_percent": survivors_cpu,  # from SIGTERM to the last one back: 100 = a core each, busy
        },
        "seqs": {
            "expected": sum(
                len({s for s in seqs if s > (c.baseline or 0)})
                for room, seqs in zip(storm.rooms, truth, strict=True)
                for c in room
                if c.baseline is not None
            ),
            "missing": missing,
            "duplicated": duplicated,
            "unexpected": unexpected,
            "out_of_order_live": sum(client.out_of_order for client in clients),
            "clients_with_a_problem": sum(1 for c in per_client if c["missing"] or c["duplicated"] or c["unexpected"]),
        },
        "messages": {
            "sent": sum(len(sent) for sent in storm.sent),
            "never_acknowledged": sum(len(client.unacked) for client in clients),
            "refused": dict(storm.refusals),
            "skipped_sends": storm.skipped_sends,
        },
        "latency_ms": {
            "live": percentiles([latency for _, latency in live], 1000.0),
            "storm_live": percentiles(during, 1000.0),
            "storm_as_shown": percentiles(shown, 1000.0),
        },
        "per_second": per_second(storm, live, samples),
        "samples": samples,
        "peak": {
            "pg_bench_db": max((s["pg_bench_db"] or 0 for s in samples), default=None),
            "pg_all": max((s["pg_all"] or 0 for s in samples), default=None),
            "redis_clients": max((s["redis_clients"] or 0 for s in samples), default=None),
        },
        "per_client": per_client,
        "generator_cpu_percent": storm.generator_cpu_percent,
        "notes": sorted(storm.notes),
    }


def cpu_share(samples: list[dict[str, Any]], begin: float | None, end: float, workers: list[int]) -> float | None:
    """The workers' CPU use (percent of one core, summed) between the samples nearest `begin` and `end`."""
    inside = [s for s in samples if begin is not None and begin <= s["t"] <= end]
    if len(inside) < 2:
        return None
    first, last = inside[0], inside[-1]
    used = [
        last["worker_cpu_s"][w] - first["worker_cpu_s"][w]
        for w in workers
        if first["worker_cpu_s"][w] is not None and last["worker_cpu_s"][w] is not None
    ]
    return round(100 * sum(used) / (last["t"] - first["t"]), 1) if used else None


def per_second(storm: Storm, live: list[tuple[float, float]], samples: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """By second of the measured window (0 = its start, to the last sample): live chat p50/p99/max by send time,
    and the fewest clients connected in the second."""
    origin = storm.window[0]
    seconds = list(range(int(max([storm.window[1], *(s["t"] for s in samples)]) - origin) + 1))
    latencies: dict[int, list[float]] = {}
    for sent, latency in live:
        if sent >= origin:
            latencies.setdefault(int(sent - origin), []).append(latency)
    figures = [percentiles(latencies.get(second, []), 1000.0) for second in seconds]
    fewest: dict[int, int] = {}
    for sample in samples:
        if sample["t"] >= origin:
            second = int(sample["t"] - origin)
            fewest[second] = min(fewest.get(second, sample["clients_connected"]), sample["clients_connected"])
    return {
        "t": seconds,
        "p50_ms": [f["p50"] for f in figures],
        "p99_ms": [f["p99"] for f in figures],
        "max_ms": [f["max"] for f in figures],
        "clients_connected": [fewest.get(second) for second in seconds],
    }


def judge(report: dict[str, Any]) -> tuple[bool, list[str]]:
    """Did the storm work: everyone connected and back, every seq exactly once, no refusal, no server traceback."""
    why: list[str] = []
    if report["connections"]["failed"]:
        why.append(f"{report['connections']['failed']} connections failed: {report['connections']['failures']}")
    storm = report["storm"]
    if storm["sigterm_at_s"] is None or not storm["clients_closed"]:
        why.append("no client was closed by the SIGTERM")
    if storm["clients_not_back"] or storm["final_closes"]:
        why.append(f"{storm['clients_not_back']} clients not back, final closes {storm['final_closes']}")
    if set(storm["close_codes"]) - {"1012"}:
        why.append(f"closed with other codes than 1012: {storm['close_codes']}")
    seqs = report["seqs"]
    for name in ("missing", "duplicated", "unexpected"):
        if seqs[name]:
            why.append(f"{seqs[name]} seqs {name}")
    if report["messages"]["refused"] or report["messages"]["never_acknowledged"]:
        why.append(f"refused {report['messages']['refused']}, never acked {report['messages']['never_acknowledged']}")
    if report["server"]["problems"]:
        why.append(f"server log has errors: {report['server']['problems'][:3]}")
    if not seqs["expected"]:
        why.append("nothing was sent")
    return not why, why


def targets(report: dict[str, Any]) -> dict[str, Any]:
    """Issue 25's targets: everyone back within 10 s, nothing missing or twice, chat p99 < 500 ms during the storm."""
    back = report["storm"]["last_back_after_sigterm_s"]
    p99 = report["latency_ms"]["storm_live"]["p99"]
    met = {
        "back_within_10_s": back is not None and back <= TARGET_BACK_SECONDS,
        "nothing_missing_or_twice": not (report["seqs"]["missing"] or report["seqs"]["duplicated"]),
        "storm_p99_under_500_ms": p99 is not None and p99 < TARGET_P99_MS,
    }
    return {**met, "all": all(met.values())}


def one_line(report: dict[str, Any]) -> str:
    storm, seqs, latency = report["storm"], report["seqs"], report["latency_ms"]
    peak = report["peak"]
    return (
        f"{storm['clients_closed']} closed ({storm['close_codes']}), last back {storm['last_back_after_sigterm_s']} s "
        f"after SIGTERM ({storm['clients_not_back']} not back, failed tries {storm['reconnect_attempts_failed']}); "
        f"seqs missing {seqs['missing']} duplicated {seqs['duplicated']} of {seqs['expected']}; "
        f"storm p99 {latency['storm_live']['p99']} ms (as shown with catch-up {latency['storm_as_shown']['p99']}), "
        f"whole-run p99 {latency['live']['p99']} ms; peak pg {peak['pg_bench_db']} (all {peak['pg_all']}), "
        f"redis {peak['redis_clients']}; survivor cpu {storm['survivors_cpu_percent']}% in the storm; "
        f"gen cpu {report['generator_cpu_percent']}%, "
        f"steal {report.get('steal', {}).get('percent')}%; "
        f"targets {'met' if report['targets']['all'] else 'NOT met'} {report['targets']}"
        + ("" if report["ok"] else " NOT OK: " + "; ".join(report["why_not"]))
    )


# ---------------------------------------------------------------- the plot


def svg(report: dict[str, Any], title: str) -> str:
    """Two panels against the seconds of the measured window, SIGTERM marked: the live chat p99 of each second
    (by send time; the 500 ms target dashed), and clients connected beside PostgreSQL's and Redis's connections."""
    from bench.svgplot import GAP, LEFT, PANEL, RIGHT, TOP, WIDTH, Panel

    series = report["per_second"]
    origin = report["storm"]["window_s"][0]
    samples = [s for s in report["samples"] if s["t"] >= origin]
    x_max = max([series["t"][-1] if series["t"] else 1, *(s["t"] - origin for s in samples)])
    p99 = [(t + 0.5, v) for t, v in zip(series["t"], series["p99_ms"], strict=True) if v is not None]

    latency = Panel(
        TOP, "Live chat p99, per second sent", x_max, max([TARGET_P99_MS * 1.2, *(v for _, v in p99)]), "ms"
    )
    latency.axes()
    latency.line(p99, "#d62728", "p99", 0)
    latency.line([(0, TARGET_P99_MS), (x_max, TARGET_P99_MS)], "#999", "target 500 ms", 1, dashed=True)

    def series_of(name: str) -> list[tuple[float, float]]:
        return [(s["t"] - origin, float(s[name])) for s in samples if s[name] is not None]

    lines = [("clients_connected", "clients connected"), ("pg_bench_db", "PostgreSQL"), ("redis_clients", "Redis")]
    high = max([1.0, *(v for name, _ in lines for _, v in series_of(name))])
    top = TOP + PANEL + GAP
    connections = Panel(top, "Clients connected; PostgreSQL and Redis connections", x_max, high, "")
    connections.axes()
    for index, (name, label) in enumerate(lines):
        connections.line(series_of(name), ["#1f77b4", "#2ca02c", "#9467bd"][index], label, index)

    sigterm = report["storm"]["sigterm_at_s"]
    for panel in (latency, connections) if sigterm is not None else ():
        at = panel.x(sigterm - origin)
        panel.parts.append(
            f'<line x1="{at:.1f}" x2="{at:.1f}" y1="{panel.top}" y2="{panel.top + PANEL}" stroke="#555" '
            f'stroke-dasharray="2,3"/><text x="{at + 3:.1f}" y="{panel.top + PANEL - 4}" fill="#555">SIGTERM</text>'
        )
    height = top + PANEL + 40
    storm = report["storm"]
    caption = (
        f"last client back {storm['last_back_after_sigterm_s']} s after SIGTERM; missing {report['seqs']['missing']}, "
        f"twice {report['seqs']['duplicated']}; storm p99 {report['latency_ms']['storm_live']['p99']} ms"
    )
    body = "".join(part for panel in (latency, connections) for part in panel.parts)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="11">'
        f'<rect width="{WIDTH}" height="{height}" fill="white"/>'
        f'<text x="{LEFT}" y="18" font-size="13" font-weight="bold">{escape(title)}</text>'
        f'<text x="{WIDTH - RIGHT}" y="{height - 8}" text-anchor="end" fill="#555">seconds of the window</text>'
        f'<text x="{LEFT}" y="{height - 8}" fill="#555">{escape(caption)}</text>'
        f"{body}</svg>\n"
    )


def command_plot(args: argparse.Namespace) -> int:
    document = json.loads(Path(args.result).read_text())
    run = document["runs"][args.run - 1]["circle"]
    load_average = document.get("machine", {}).get("load_average")  # a busy machine shows here
    title = f"Reconnect storm, {document['label']}, run {args.run} ({document['when']}, load average {load_average})"
    Path(args.out).write_text(svg(run, title))
    print(f"written {args.out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.storm", description="the storm's plot (SVG) from its JSON")
    commands = parser.add_subparsers(dest="command", required=True)
    plot = commands.add_parser("plot", help="per-second chat p99 and clients connected, as SVG")
    plot.add_argument("result", help="a storm result JSON (bench/results/*-storm-*.json)")
    plot.add_argument("out", nargs="?", default="docs/storm.svg")
    plot.add_argument("--run", type=int, default=1, help="which run of the file (1-based)")
    return command_plot(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
