"""A clinic's day, compressed (issue 25, point 4): `python -m bench run --config production --load day`.

Two daphne workers on PostgreSQL and Redis. Over `--minutes` (30), `--sessions`
(100, scaled with the minutes) group sessions of 12 members (a facilitator and
11 patients) run "on the hour": three cohorts, each session live for a third of
the day (10 minutes), the next cohort's sessions starting as the last one's end,
so about a third of them are live at any time from the first minute on and the
workers meet the same load all day long. A session is driven as a real one:

- its members connect (to either worker); the facilitator sends `session.start`
  and opens the room (`mode.set open`); a message per second goes to the room,
  round robin over whoever may speak (the facilitator while a round runs);
- the facilitator posts a prompt, grants the floor to a patient who raised a
  hand, then to another, revokes it, runs a round (`mode.set round`,
  `round.next` through the roster) and opens the room again; the hub's stats
  flow by themselves;
- a third of the members drop (the socket aborted, no close frame, as a phone
  leaving its network) and come back a few seconds later with `?since=`, the
  page's resume rule (docs/protocol.md, Connecting), on the other worker;
- two guests are invited (`invite.create`), redeem their pass over HTTP as a
  browser does (the join form, its CSRF token, consent), wait in the lobby and
  are admitted (`lobby.admit`) when the facilitator sees `lobby.waiting`;
- the facilitator ends it (`session.end`); everyone is closed with 4410.

Measured: each worker's RSS every 5 s (/proc/<pid>/status), the database's
connections (pg_stat_activity) and size (pg_database_size), Redis's clients,
the machine's steal time; every client's loss (every acked message of its room,
live or in the catch-up after a drop; a guest, every message sent after its
admission) and nothing shown twice; the p99 of live deliveries per minute of the
day. The JSON goes to bench/results/, the plot to docs/day.svg (bench.svgplot).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import math
import random
import re
import secrets
import statistics
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidStatus

from bench.clinic import Clinic, clinic
from bench.loadgen import MARK, open_socket, percentiles
from bench.servers import REPO, ServerGroup, parse_cpus, pin_self, raise_fd_limit, read_proc

RESULTS = REPO / "bench" / "results"
PLOT = REPO / "docs" / "day.svg"
MEMBERS = 12  # per session: a facilitator and 11 patients
GUESTS = 2  # per session, admitted through the lobby
SAMPLE_SECONDS = 5.0
# The page resumes after the newest message of its last session.state or the newest live one
# that arrived at least this long ago, whichever is higher (docs/protocol.md, Connecting).
RESUME_SETTLE_SECONDS = 60.0
P99_TARGET_MS = 100.0
SEQ_ROWS = "SELECT relname, seq_tup_read FROM pg_stat_user_tables WHERE seq_tup_read > 0"
RSS_GROWTH_TARGET = 0.05
FLOOR_EXPIRY_WITHIN_S = 1.0


@dataclasses.dataclass(frozen=True)
class Plan:
    """The day's schedule: cohorts of sessions, each session `session_seconds` long."""

    minutes: float = 30.0
    sessions: int = 100
    cohorts: int = 3
    rate: float = 1.0  # messages per second per live room

    @property
    def session_seconds(self) -> float:
        return 60.0 * self.minutes / self.cohorts

    @property
    def spread_seconds(self) -> float:
        """A cohort's sessions start over this long (people trickle in), as the last cohort's end."""
        return 0.1 * self.session_seconds

    @property
    def warm_seconds(self) -> float:
        """The first 5 minutes of a 30-minute day, scaled."""
        return 60.0 * self.minutes / 6

    def starts(self) -> list[float]:
        """Seconds from the day's start at which each session starts."""
        per_cohort = math.ceil(self.sessions / self.cohorts)  # dealt round: cohorts differ by one at most
        return [
            (index % self.cohorts) * self.session_seconds + (index // self.cohorts) * self.spread_seconds / per_cohort
            for index in range(self.sessions)
        ]

    def describe(self) -> str:
        return (
            f"{self.sessions} sessions x {MEMBERS} (+{GUESTS} guests) in {self.cohorts} cohorts over "
            f"{self.minutes:g} min, each live {self.session_seconds:.0f} s, {self.rate:g} msg/s per live room"
        )


# ---------------------------------------------------------------- one person's seat in one session


class Seat:
    """A member or guest of one session, across its drops and reconnects."""

    def __init__(self, day: Day, room: Room, role: str, cookie: str, worker: int) -> None:
        self.day = day
        self.room = room
        self.role = role  # facilitator | patient | guest
        self.cookie = cookie
        self.worker = worker
        self.ws: ClientConnection | None = None
        self.reader: asyncio.Task[None] | None = None
        self.participant_id: int | None = None
        self.state: dict[str, Any] = {}
        self.got: set[int] = set()  # bench numbers received, live or in a session.state
        self.state_seq = 0  # newest message of the last session.state
        self.live_seqs: list[tuple[float, int]] = []  # (arrival, seq) of live messages
        self.replies: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.refs = 0
        self.dropped = False  # aborted on purpose: its close is expected
        self.drops = 0
        self.ended = False  # closed with 4410 after session.end
        self.failures: list[str] = []
        # Guests: a message acked before the admission was asked for is never theirs to see; one sent
        # after its ack is theirs to get (monotonic times; in between, either is right).
        self.admit_asked: float | None = None
        self.admitted_at: float | None = None
        self.state_event = asyncio.Event()

    @property
    def open(self) -> bool:
        return self.ws is not None and self.reader is not None and not self.reader.done() and not self.dropped

    def resume_seq(self) -> int:
        settled = time.monotonic() - RESUME_SETTLE_SECONDS
        old_live = [seq for arrived, seq in self.live_seqs if arrived <= settled]
        return max([self.state_seq, *old_live])

    async def connect(self, since: int | None = None) -> bool:
        base = self.day.group.base_urls[self.worker % len(self.day.group.base_urls)]
        url = base.replace("http://", "ws://", 1) + f"/ws/sessions/{self.room.session_id}/"
        if since is not None:
            url += f"?since={since}"
        self.state_event = asyncio.Event()
        began = time.perf_counter()
        try:
            self.ws = await open_socket(url, {"Cookie": self.cookie, "Origin": base})
        except (InvalidStatus, OSError, TimeoutError, ConnectionClosed) as error:
            self.failures.append(f"connect: {type(error).__name__}: {error}"[:160])
            self.day.counts["connect_failures"] += 1
            return False
        self.dropped = False
        self.reader = asyncio.get_running_loop().create_task(self.read(self.ws))
        try:
            await asyncio.wait_for(self.state_event.wait(), 60)
        except TimeoutError:
            self.failures.append("no session.state within 60 s")
            return False
        self.day.connect_ms.append((time.perf_counter() - began) * 1000)
        return True

    async def read(self, ws: ClientConnection) -> None:
        live_here: set[int] = set()  # numbers delivered live on this connection: twice is a duplicate
        try:
            async for raw in ws:
                now_ns = time.perf_counter_ns()
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "chat.message":
                    self.on_message(frame, now_ns, live_here)
                elif kind == "session.state":
                    self.on_state(frame)
                elif kind in ("ack", "error"):
                    self.on_reply(frame)
                elif kind == "lobby.waiting" and self.role == "facilitator":
                    self.room.waiting.put_nowait(frame["participant"]["participant_id"])
                elif kind == "session.status" and frame.get("status") == "ended":
                    self.ended = True
                elif self.role == "facilitator" and kind in ("floor.changed", "stats"):
                    self.on_timer(frame)
        except ConnectionClosed:
            pass
        code = ws.close_code if ws.close_code is not None else 1006
        if not self.dropped and not (code == 4410 and self.room.ending):
            self.day.counts[f"closed_unexpectedly_{code}"] += 1
            self.failures.append(f"closed {code}")
        for future in self.replies.values():
            if not future.done():
                future.set_exception(ConnectionError(f"closed {code}"))
        self.replies.clear()

    def on_state(self, frame: dict[str, Any]) -> None:
        self.state = frame
        me = frame.get("me") or {}
        self.participant_id = me.get("participant_id", self.participant_id)
        for message in frame.get("messages") or []:
            self.state_seq = max(self.state_seq, int(message["seq"]))
            found = MARK.search(message.get("text", ""))
            if found is not None:
                self.got.add(int(found.group(2)))
        self.state_event.set()

    def on_message(self, message: dict[str, Any], now_ns: int, live_here: set[int]) -> None:
        seq = int(message["seq"])
        self.live_seqs.append((time.monotonic(), seq))
        if len(self.live_seqs) > 4096:  # only the last minute or so matters to the resume rule
            del self.live_seqs[:2048]
        found = MARK.search(message.get("text", ""))
        if found is None:
            return
        number = int(found.group(2))
        if number in live_here:
            self.day.counts["duplicates"] += 1
            return
        live_here.add(number)
        if number in self.got:
            return  # already in a catch-up session.state: the page merges it by message_id
        self.got.add(number)
        self.day.record_latency(int(found.group(3)), now_ns)

    def on_timer(self, frame: dict[str, Any]) -> None:
        """The room's timers as the facilitator sees them: a floor's expiry and the stats ticks."""
        now = time.time()
        if frame["type"] == "stats":
            if self.room.last_stats is not None:
                self.day.timers["stats_interval_s"].append((now - self.day.wall_origin, now - self.room.last_stats))
            self.room.last_stats = now
        elif frame.get("reason") == "granted" and frame.get("expires_at"):
            self.room.floor_expires = dt.datetime.fromisoformat(frame["expires_at"]).timestamp()
        elif frame.get("reason") == "expired" and self.room.floor_expires is not None:
            late = now - self.room.floor_expires
            self.day.timers["floor_expiry_late_s"].append((now - self.day.wall_origin, late))
            self.room.floor_expires = None

    def on_reply(self, frame: dict[str, Any]) -> None:
        ref = frame.get("ref")
        if not isinstance(ref, str):
            self.day.counts[f"error_without_ref_{frame.get('code')}"] += 1
            return
        future = self.replies.pop(ref, None)
        if future is not None:
            if not future.done():
                future.set_result(frame)
            return
        if ref.isdigit():
            number = int(ref)
            if frame["type"] == "ack":
                self.room.acked[number] = int(frame.get("seq") or 0)
                self.room.acked_at[number] = time.monotonic()
            else:
                self.room.refused[number] = str(frame.get("code"))
                self.day.counts[f"chat_refused_{frame.get('code')}"] += 1

    async def request(self, kind: str, **fields: Any) -> dict[str, Any]:
        """A control frame with a fresh ref; its ack (a refusal raises)."""
        self.refs += 1
        ref = f"c{self.refs}"
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.replies[ref] = future
        assert self.ws is not None
        await self.ws.send(json.dumps({"type": kind, "ref": ref, **fields}))
        reply = await asyncio.wait_for(future, 30)
        if reply.get("type") != "ack":
            raise RuntimeError(f"{kind} refused: {reply}")
        return reply

    def drop(self) -> None:
        """The phone leaves its network: no close frame, the TCP connection simply goes."""
        self.dropped = True
        self.drops += 1
        if self.ws is not None:
            self.ws.transport.abort()


# ---------------------------------------------------------------- one session


@dataclasses.dataclass
class Room:
    index: int
    session_id: int
    start_at: float  # seconds from the day's start
    mode: str = "moderated"  # who may speak: the driver sends from patients only while "open"
    numbered: int = 0  # chat messages numbered so far (each number once, sent or not)
    floor_expires: float | None = None  # the granted floor's expires_at (epoch seconds)
    last_stats: float | None = None  # when the facilitator's last stats event came (epoch seconds)
    seats: list[Seat] = dataclasses.field(default_factory=list)
    guests: list[Seat] = dataclasses.field(default_factory=list)
    sent_at: dict[int, float] = dataclasses.field(default_factory=dict)  # number -> monotonic send time
    acked: dict[int, int] = dataclasses.field(default_factory=dict)  # number -> seq
    acked_at: dict[int, float] = dataclasses.field(default_factory=dict)  # number -> monotonic time of its ack
    refused: dict[int, str] = dataclasses.field(default_factory=dict)
    waiting: asyncio.Queue[int] = dataclasses.field(default_factory=asyncio.Queue)
    ending: bool = False
    live: bool = False
    steps: Counter[str] = dataclasses.field(default_factory=Counter)
    problems: list[str] = dataclasses.field(default_factory=list)

    @property
    def facilitator(self) -> Seat:
        return self.seats[0]


class Day:
    def __init__(self, made: Clinic, group: ServerGroup, plan: Plan, session_ids: list[int], seed: int) -> None:
        self.made = made
        self.group = group
        self.plan = plan
        self.random = random.Random(seed)
        self.rooms = [
            Room(index, session_id, start)
            for index, (session_id, start) in enumerate(zip(session_ids, plan.starts(), strict=True))
        ]
        self.counts: Counter[str] = Counter()
        self.connect_ms: list[float] = []
        self.latencies: dict[int, list[float]] = {}  # minute of the day -> ms
        self.origin_ns = 0
        self.origin = 0.0
        self.wall_origin = 0.0
        # (seconds into the day, value): how late each floor expiry was announced, each stats interval.
        self.timers: dict[str, list[tuple[float, float]]] = {"floor_expiry_late_s": [], "stats_interval_s": []}
        self.samples: list[dict[str, Any]] = []
        self.stop_sampling = threading.Event()

    # ------------------------------------------------------------ measuring

    def record_latency(self, sent_ns: int, now_ns: int) -> None:
        minute = (sent_ns - self.origin_ns) // 60_000_000_000
        self.latencies.setdefault(int(minute), []).append((now_ns - sent_ns) / 1e6)

    def live_rooms(self) -> int:
        return sum(1 for room in self.rooms if room.live)

    def open_sockets(self) -> int:
        return sum(1 for room in self.rooms for seat in (*room.seats, *room.guests) if seat.open)

    def sample_forever(self) -> None:
        """Every 5 s, in a thread (its blocking reads never hold up the clients' event loop)."""
        import psycopg
        import redis

        database = psycopg.connect(self.made.database_url, autocommit=True)
        layer = redis.Redis.from_url(self.made.redis_url) if self.made.redis_url else None
        steal_before = _cpu_times()
        try:
            while True:
                row = database.execute(
                    "SELECT count(*), pg_database_size(current_database()) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                ).fetchone()
                assert row is not None
                cluster = database.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
                )
                steal_now = _cpu_times()
                total = sum(steal_now) - sum(steal_before)
                sample: dict[str, Any] = {
                    "t": round(time.monotonic() - self.origin, 1),
                    "rss_kib": [read_proc(pid)[1] for pid in self.group.pids()],
                    "cpu_s": [round(read_proc(pid)[0], 2) for pid in self.group.pids()],
                    "db_connections": row[0],
                    "cluster_connections": cluster.fetchone()[0],  # type: ignore[index]
                    "db_bytes": row[1],
                    "redis_clients": _redis_clients(layer),
                    "live_rooms": self.live_rooms(),
                    "open_sockets": self.open_sockets(),
                    "steal_percent": round(100 * (steal_now[7] - steal_before[7]) / total, 1) if total else 0.0,
                    # Rows read by sequential scans, per table (cumulative): a scan that grows with history
                    # shows as a table whose rows read per minute climb through the day.
                    "seq_rows": dict(database.execute(SEQ_ROWS).fetchall()),
                }
                steal_before = steal_now
                self.samples.append(sample)
                if self.stop_sampling.wait(SAMPLE_SECONDS):
                    return
        finally:
            database.close()
            if layer is not None:
                layer.close()

    # ------------------------------------------------------------ the day

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        self.origin = time.monotonic()
        self.origin_ns = time.perf_counter_ns()
        self.wall_origin = time.time()
        sampler = threading.Thread(target=self.sample_forever, name="day-sampler", daemon=True)
        sampler.start()
        try:
            await asyncio.gather(*(self.session(room) for room in self.rooms))
        finally:
            await asyncio.sleep(SAMPLE_SECONDS)  # one more sample with every session over
            self.stop_sampling.set()
            await loop.run_in_executor(None, sampler.join, 30)

    async def session(self, room: Room) -> None:
        length = self.plan.session_seconds
        await asyncio.sleep(max(0.0, self.origin + room.start_at - time.monotonic()))
        try:
            await self.open_room(room)
            begun = time.monotonic()
            tasks = [
                asyncio.create_task(self.chat(room, begun + length - 3)),
                asyncio.create_task(self.facilitate(room, begun, length)),
                *(asyncio.create_task(self.guest(room, begun + length * (0.1 + 0.05 * n))) for n in range(GUESTS)),
                *(asyncio.create_task(self.bounce(room, seat, begun, length)) for seat in self.droppers(room)),
            ]
            for task in tasks:
                try:
                    await task
                except Exception as error:  # one step failing is reported, the session goes on
                    room.problems.append(f"{type(error).__name__}: {error}"[:200])
            await self.drain(room, deadline=begun + length)
            await asyncio.sleep(max(0.0, begun + length - time.monotonic()))
            await self.end_room(room)
        except Exception as error:  # reported with the session; the day goes on
            room.problems.append(f"{type(error).__name__}: {error}"[:200])
        finally:
            room.live = False
            for seat in (*room.seats, *room.guests):
                if seat.ws is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(seat.ws.close(), 5)
                if seat.reader is not None:
                    seat.reader.cancel()

    def droppers(self, room: Room) -> list[Seat]:
        patients = room.seats[1:]
        return self.random.sample(patients, round(MEMBERS / 3))

    async def open_room(self, room: Room) -> None:
        roster = self.made.roster(room.index, MEMBERS)
        cookies = self.made.cookies
        room.seats = [
            Seat(self, room, "facilitator" if n == 0 else "patient", cookies[name], room.index + n)
            for n, name in enumerate(roster)
        ]
        connected = await asyncio.gather(*(seat.connect() for seat in room.seats))
        if not all(connected):
            room.problems.append(f"{connected.count(False)} members could not connect")
        facilitator = room.facilitator
        await facilitator.request("session.start")
        await facilitator.request("mode.set", mode="open")
        room.mode = "open"
        room.live = True
        room.steps["start"] += 1

    async def chat(self, room: Room, until: float) -> None:
        """A message per second (the rate), open loop, from whoever may speak now."""
        interval = 1.0 / self.plan.rate
        due = time.monotonic()
        turn = 0
        while due < until:
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            due += interval
            speakers = [seat for seat in room.seats if seat.open] if room.mode == "open" else [room.facilitator]
            if not speakers or not speakers[0].open:
                continue
            seat = speakers[turn % len(speakers)]
            turn += 1
            number = room.numbered
            room.numbered += 1
            sent_ns = time.perf_counter_ns()
            room.sent_at[number] = time.monotonic()
            frame = '{"type":"chat.send","ref":"%d","text":"bench m%d %d"}' % (number, number, sent_ns)  # noqa: UP031
            try:
                await seat.ws.send(frame)  # type: ignore[union-attr]
            except ConnectionClosed:
                room.sent_at.pop(number)  # never left: not the room's to deliver

    async def facilitate(self, room: Room, begun: float, length: float) -> None:
        """Prompt, floors, a round, the room opened again: what a facilitator does in a session."""
        facilitator = room.facilitator

        async def at(fraction: float) -> None:
            await asyncio.sleep(max(0.0, begun + fraction * length - time.monotonic()))

        def patient(position: int) -> Seat:
            return room.seats[1 + position]

        await at(0.08)
        await facilitator.request("prompt.post", category="coping", text="What helped you most this week?")
        room.steps["prompt"] += 1
        await at(0.2)
        raiser = patient(2)
        if raiser.open:
            await raiser.request("hand.raise")
            await facilitator.request("floor.grant", participant_id=raiser.participant_id, seconds=60)
            room.steps["floor"] += 1
        await at(0.27)
        other = patient(3)
        if other.open:  # a short floor, left to run out: the expiry duty announces it (timers in the report)
            seconds = max(3, round(0.04 * length))
            await facilitator.request("floor.grant", participant_id=other.participant_id, seconds=seconds)
            room.steps["floor"] += 1
        await at(0.33)
        await facilitator.request("floor.revoke")
        await at(0.4)
        # Patients stop speaking a moment before the round, so that no chat.send in flight meets it.
        room.mode = "round"
        await asyncio.sleep(1.5)
        await facilitator.request("mode.set", mode="round", seconds=10)
        room.steps["round"] += 1
        turns = MEMBERS - 1
        step = 0.2 * length / turns
        for _ in range(turns - 1):
            await asyncio.sleep(step)
            try:
                await facilitator.request("round.next")
                room.steps["round_next"] += 1
            except RuntimeError:  # the round ended already (its last turns' people offline)
                break
        await at(0.65)
        await facilitator.request("mode.set", mode="open")
        room.mode = "open"

    async def guest(self, room: Room, when: float) -> None:
        """A family member: invited by the facilitator, redeems the link, waits in the lobby, is admitted."""
        await asyncio.sleep(max(0.0, when - time.monotonic()))
        facilitator = room.facilitator
        patient = room.seats[1 + len(room.guests) % (MEMBERS - 1)]
        reply = await facilitator.request(
            "invite.create", for_participant_id=patient.participant_id, name=f"Family {len(room.guests) + 1}"
        )
        base = self.group.base_urls[(room.index + len(room.guests)) % len(self.group.base_urls)]
        cookie = await asyncio.to_thread(_redeem, base, reply["join_path"])
        seat = Seat(self, room, "guest", cookie, room.index + len(room.guests))
        room.guests.append(seat)
        lobby_at = time.monotonic()
        if not await seat.connect():
            raise RuntimeError(f"guest could not connect: {seat.failures}")
        while True:  # the facilitator admits whoever the lobby announces
            waiting = await asyncio.wait_for(room.waiting.get(), 30)
            if waiting == seat.participant_id:
                break
            room.waiting.put_nowait(waiting)  # another guest's: theirs to take
            await asyncio.sleep(0.05)
        seat.admit_asked = time.monotonic()
        await facilitator.request("lobby.admit", participant_id=seat.participant_id)
        seat.admitted_at = time.monotonic()
        room.steps["guest_admitted"] += 1
        self.counts["guest_lobby_ms_total"] += round((time.monotonic() - lobby_at) * 1000)

    async def bounce(self, room: Room, seat: Seat, begun: float, length: float) -> None:
        """Drop (abort the socket) at a random moment, come back a few seconds later with ?since=."""
        leave = begun + length * self.random.uniform(0.1, 0.75)
        away = self.random.uniform(2.0, max(2.0, min(25.0, 0.15 * length)))
        await asyncio.sleep(max(0.0, leave - time.monotonic()))
        if not seat.open:
            return
        seat.drop()
        room.steps["drop"] += 1
        await asyncio.sleep(away)
        seat.worker += 1  # the load balancer may send it to the other worker
        if await seat.connect(since=seat.resume_seq()):
            room.steps["back"] += 1
        else:
            room.problems.append(f"a dropped member did not come back: {seat.failures[-1:]}")

    async def drain(self, room: Room, deadline: float) -> None:
        """Until every open seat has every acked message (or the session's time is up)."""
        while time.monotonic() < deadline:
            if all(not self.missing(room, seat) for seat in (*room.seats, *room.guests) if seat.open):
                return
            await asyncio.sleep(0.1)

    def wanted(self, room: Room, seat: Seat) -> set[int]:
        """The messages this seat must have: every acked one; a guest's, those sent after its admission."""
        if seat.role != "guest":
            return set(room.acked)
        after = seat.admitted_at if seat.admitted_at is not None else math.inf
        return {number for number in room.acked if room.sent_at[number] > after}

    def missing(self, room: Room, seat: Seat) -> set[int]:
        return self.wanted(room, seat) - seat.got

    def leaked(self, room: Room, seat: Seat) -> set[int]:
        """Messages a guest got that were committed (acked) before its admission was even asked for."""
        if seat.role != "guest":
            return set()
        asked = seat.admit_asked if seat.admit_asked is not None else math.inf
        return {number for number in seat.got if room.acked_at.get(number, math.inf) < asked}

    async def end_room(self, room: Room) -> None:
        room.ending = True
        await room.facilitator.request("session.end")
        room.steps["end"] += 1
        readers = [seat.reader for seat in (*room.seats, *room.guests) if seat.reader is not None]
        if readers:  # everyone is closed with 4410
            await asyncio.wait(readers, timeout=15)

    # ------------------------------------------------------------ the report

    def report(self) -> dict[str, Any]:
        lost = expected = leaked = 0
        lost_by_role: Counter[str] = Counter()
        for room in self.rooms:
            for seat in (*room.seats, *room.guests):
                leaked += len(self.leaked(room, seat))
                missing = len(self.missing(room, seat))
                expected += len(self.wanted(room, seat))
                lost += missing
                lost_by_role[seat.role] += missing
        minutes = sorted(self.latencies)
        per_minute = [
            {"minute": minute, "deliveries": len(self.latencies[minute]), **percentiles(self.latencies[minute])}
            for minute in minutes
        ]
        everything = [value for minute in minutes for value in self.latencies[minute]]
        steps: Counter[str] = Counter()
        for room in self.rooms:
            steps.update(room.steps)
        problems = [f"session {room.session_id}: {p}" for room in self.rooms for p in room.problems]
        return {
            "sessions": len(self.rooms),
            "steps": dict(steps),
            "messages": {
                "sent": sum(len(room.sent_at) for room in self.rooms),
                "acked": sum(len(room.acked) for room in self.rooms),
                "refused": sum(len(room.refused) for room in self.rooms),
            },
            "deliveries": {
                "expected": expected,
                "lost": lost,
                "lost_by_role": dict(lost_by_role),
                "duplicates": self.counts["duplicates"],
                "leaked_to_guests_before_admission": leaked,
                "live_measured": len(everything),
            },
            "latency_ms": percentiles(everything),
            "latency_by_minute_ms": per_minute,
            "connect_ms": percentiles(self.connect_ms),
            "timers": {name: timer_report(values, self.plan) for name, values in self.timers.items()},
            "counts": dict(self.counts),
            "problems": problems[:50],
            "problem_count": len(problems),
            "samples": self.samples,
        }


def timer_report(values: list[tuple[float, float]], plan: Plan) -> dict[str, Any]:
    """A timer's figures over the day and per cohort: one that drifts shows as a later cohort's larger figures."""
    cohorts = []
    for cohort in range(plan.cohorts):
        start, end = cohort * plan.session_seconds, (cohort + 1) * plan.session_seconds
        inside = [value for at, value in values if start <= at < end or (cohort == plan.cohorts - 1 and at >= end)]
        cohorts.append(percentiles(inside))
    return {"all": percentiles([value for _, value in values]), "count": len(values), "by_cohort": cohorts}


def _redeem(base_url: str, join_path: str) -> str:
    """The guest's browser: the join page (CSRF cookie and token), then the form with consent; the cookie."""
    from tests import e2e

    status, headers, page = e2e.http_request(base_url, "GET", join_path)
    if status != 200:
        raise RuntimeError(f"GET {join_path[:7]}... answered {status}")
    csrf = e2e._cookies(headers)["csrftoken"]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if token is None:
        raise RuntimeError("the join page carries no CSRF token")
    form = "&".join(
        f"{name}={value}"
        for name, value in {
            "display_name": "Family",
            "relationship": "spouse",
            "accept_rules": "on",
            "csrfmiddlewaretoken": token.group(1),
        }.items()
    )
    status, headers, _ = e2e.http_request(
        base_url,
        "POST",
        join_path,
        body=form.encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={csrf}",
            "Origin": base_url,
            "Referer": base_url + join_path,
        },
    )
    session = e2e._cookies(headers).get("sessionid")
    if status != 302 or not session:
        raise RuntimeError(f"redeeming a pass answered {status}")
    return f"sessionid={session}"


def _cpu_times() -> list[int]:
    with open("/proc/stat") as stat:
        return [int(value) for value in stat.readline().split()[1:9]]


def _redis_clients(layer: Any) -> int | None:
    if layer is None:
        return None
    try:
        return int(layer.info("clients")["connected_clients"])
    except Exception:  # a missed sample is not a failed day
        return None


# ---------------------------------------------------------------- judging and summarising


def scans(samples: list[dict[str, Any]], plan: Plan) -> dict[str, dict[str, float | None]]:
    """Rows read by sequential scans per minute, per table, in the first cohort and in the last.

    The cohorts carry the same load, so a table read more in the last one is scanned in
    proportion to what the day left behind (the messages, participants, spans of ended sessions).
    """

    def rate(table: str, start: float, end: float) -> float | None:
        inside = [s for s in samples if start <= s["t"] <= end]
        if len(inside) < 2:
            return None
        first, last = inside[0], inside[-1]
        read = last["seq_rows"].get(table, 0) - first["seq_rows"].get(table, 0)
        return round(60 * read / (last["t"] - first["t"]), 1)

    length = plan.session_seconds
    first_window = (plan.warm_seconds, length)
    last_window = ((plan.cohorts - 1) * length + plan.warm_seconds, plan.cohorts * length)
    tables = sorted({table for s in samples for table in s.get("seq_rows", {})})
    out: dict[str, dict[str, float | None]] = {}
    for table in tables:
        early, late = rate(table, *first_window), rate(table, *last_window)
        if early or late:
            out[table] = {
                "first_cohort_per_minute": early,
                "last_cohort_per_minute": late,
                "growth": round(late / early, 2) if early and late is not None else None,
            }
    return out


def summarise(report: dict[str, Any], plan: Plan) -> dict[str, Any]:
    """The targets: RSS flat after the warm-up (growth < 5 %), nothing lost, p99 < 100 ms in every minute."""
    samples = report["samples"]
    workers = len(samples[0]["rss_kib"]) if samples else 0
    rss: list[dict[str, Any]] = []
    for worker in range(workers):
        series = [(s["t"], s["rss_kib"][worker]) for s in samples if len(s["rss_kib"]) > worker]
        warm = next((kib for t, kib in series if t >= plan.warm_seconds), None)
        after = [kib for t, kib in series if t >= plan.warm_seconds]
        rss.append(
            {
                "worker": worker + 1,
                "first_kib": series[0][1] if series else None,
                "at_warm_kib": warm,
                "peak_after_warm_kib": max(after) if after else None,
                "last_kib": series[-1][1] if series else None,
                "growth_after_warm": round(max(after) / warm - 1, 4) if warm and after else None,
            }
        )
    minutes = report["latency_by_minute_ms"]
    worst = max((m["p99"] for m in minutes if m["p99"] is not None), default=None)
    db = [s["db_connections"] for s in samples]
    size = [s["db_bytes"] for s in samples]
    why: list[str] = []
    for entry in rss:
        if entry["growth_after_warm"] is None or entry["growth_after_warm"] >= RSS_GROWTH_TARGET:
            why.append(f"worker {entry['worker']} RSS grew {entry['growth_after_warm']} after the warm-up")
    deliveries = report["deliveries"]
    if deliveries["lost"]:
        why.append(f"lost {deliveries['lost']} of {deliveries['expected']}")
    if deliveries["duplicates"]:
        why.append(f"{deliveries['duplicates']} duplicates")
    if deliveries["leaked_to_guests_before_admission"]:
        why.append(f"{deliveries['leaked_to_guests_before_admission']} messages reached a guest before admission")
    if worst is None or worst >= P99_TARGET_MS:
        why.append(f"worst minute's p99 {worst} ms")
    if report["problem_count"]:
        why.append(f"{report['problem_count']} session problems: {report['problems'][:3]}")
    if report["messages"]["refused"]:
        why.append(f"{report['messages']['refused']} chat.send refused")
    late = report["timers"]["floor_expiry_late_s"]["all"]["max"]
    if late is not None and late >= FLOOR_EXPIRY_WITHIN_S:
        why.append(f"a floor's expiry announced {late} s late (docs/protocol.md: within a second)")
    return {
        "rss": rss,
        "worst_minute_p99_ms": worst,
        "minutes_over_target": sum(1 for m in minutes if (m["p99"] or 0) >= P99_TARGET_MS),
        "db_connections": {"min": min(db, default=None), "max": max(db, default=None)},
        "db_bytes": {"first": size[0] if size else None, "last": size[-1] if size else None},
        "seq_scan_rows": scans(samples, plan),
        "steal_percent_median": statistics.median([s["steal_percent"] for s in samples]) if samples else None,
        "ok": not why,
        "why_not": why,
    }


def one_line(summary: dict[str, Any], report: dict[str, Any]) -> str:
    rss = ", ".join(
        f"w{r['worker']} {(r['at_warm_kib'] or 0) >> 10}->{(r['peak_after_warm_kib'] or 0) >> 10} MiB"
        f" ({(r['growth_after_warm'] or 0) * 100:+.1f} %)"
        for r in summary["rss"]
    )
    d = report["deliveries"]
    return (
        f"rss {rss}; lost {d['lost']}/{d['expected']} dup {d['duplicates']}; p99 {report['latency_ms']['p99']} ms, "
        f"worst minute {summary['worst_minute_p99_ms']} ms; db conns {summary['db_connections']['min']}-"
        f"{summary['db_connections']['max']}, db {(summary['db_bytes']['first'] or 0) >> 20}->"
        f"{(summary['db_bytes']['last'] or 0) >> 20} MiB; steps {report['steps']}"
        + ("" if summary["ok"] else " NOT OK: " + "; ".join(summary["why_not"]))
    )


def minute_table(report: dict[str, Any]) -> list[str]:
    """Minute by minute: live rooms, deliveries, p99, each worker's RSS and the database at the minute's end."""
    lines = ["   min  rooms  deliveries   p99 ms  rss MiB (per worker)  db conns  db MiB"]
    latency = {m["minute"]: m for m in report["latency_by_minute_ms"]}
    samples = report["samples"]
    for minute in range(int(max((s["t"] for s in samples), default=0) // 60) + 1):
        inside = [s for s in samples if minute * 60 <= s["t"] < (minute + 1) * 60]
        if not inside:
            continue
        last = inside[-1]
        figures = latency.get(minute, {})
        rss = " ".join(f"{kib >> 10:4d}" for kib in last["rss_kib"])
        lines.append(
            f"   {minute:3d}  {max(s['live_rooms'] for s in inside):5d}  {figures.get('deliveries', 0):10d}  "
            f"{figures.get('p99') or 0:7.1f}  {rss:20s}  {last['db_connections']:8d}  {last['db_bytes'] >> 20:6d}"
        )
    return lines


# ---------------------------------------------------------------- the command


def command_day(args: argparse.Namespace) -> int:
    minutes = args.minutes if args.minutes is not None else 30.0
    sessions = args.sessions if args.sessions is not None else max(3, round(100 * minutes / 30))
    plan = Plan(minutes=minutes, sessions=sessions)
    if args.config != "production":
        raise SystemExit("the day runs on PostgreSQL and Redis: --config production")
    workers = max(2, args.workers)
    pinned = pin_self(parse_cpus(args.client_cpus))
    raise_fd_limit(8192)
    print(f"== day: {plan.describe()}; {workers} workers, server cpus {args.server_cpus or 'any'}", flush=True)
    with clinic("production", keep=args.keep) as made:
        made.provision_people(args.facilitators, args.patients)
        started = time.monotonic()
        report, summary = run_day(
            made, plan, server=args.server, workers=workers, cpus=parse_cpus(args.server_cpus), seed=args.seed
        )
        setup_seconds = made.setup_seconds
    document = {
        "bench": "circle-day",
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, "-m", "bench", *sys.argv[1:]]),
        "plan": {**dataclasses.asdict(plan), "session_seconds": plan.session_seconds, "members": MEMBERS},
        "config": {
            "database": "postgresql",
            "layer": "channels-redis",
            "server": args.server,
            "workers": workers,
            "server_cpus": args.server_cpus,
            "generator_cpus": args.client_cpus if pinned else None,
        },
        "machine": _machine(),
        "setup_seconds": round(setup_seconds, 1),
        "wall_seconds": round(time.monotonic() - started, 1),
        "summary": summary,
        "report": report,
    }
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    name = f"{stamp}-day-{minutes:g}min-production-{args.server}-w{workers}.json"
    out = Path(args.out) if args.out else RESULTS / name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=1))
    for line in minute_table(report):
        print(line, flush=True)
    print(f"== day: {one_line(summary, report)}", flush=True)
    # Small tables are scanned by design (the planner's cheapest plan); a large table whose figure grows from
    # the first cohort to the last is read in proportion to the day's history (see tests/test_due_plans.py).
    print("   rows read by sequential scans per minute, first cohort -> last:", flush=True)
    for table, figures in summary["seq_scan_rows"].items():
        first, last, growth = figures["first_cohort_per_minute"], figures["last_cohort_per_minute"], figures["growth"]
        print(f"     {table:28s} {first or 0:10.0f} -> {last or 0:10.0f}  (x{growth})", flush=True)
    print(f"== written {out}", flush=True)
    if args.plot:
        from bench.svgplot import day_svg

        Path(args.plot).write_text(day_svg(document))
        print(f"== plot {args.plot}", flush=True)
    return 0 if summary["ok"] or args.no_fail else 1


def run_day(
    made: Clinic, plan: Plan, *, server: str = "daphne", workers: int = 2, cpus: set[int] | None = None, seed: int = 25
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The day on this clinic (its people provisioned): the report and its summary (the targets judged)."""
    session_ids = provision_sessions(made, plan.sessions)
    analyze(made.database_url)  # as before every production run; the day's own rows then go unanalysed
    env = made.env(CHANNEL_LAYER_PREFIX=f"circle-bench-{made.run_id}-{secrets.token_hex(3)}")
    group = ServerGroup("circle", server, env, workers=workers, cpus=cpus)
    with group:
        made.login_all(group.base_urls[0], max_age=0)
        day = Day(made, group, plan, session_ids, seed=seed)
        asyncio.run(day.run())
        report = day.report()
    report["server_problems"] = group.problems()[:20]
    summary = summarise(report, plan)
    if report["server_problems"]:
        summary["ok"] = False
        summary["why_not"].append(f"server log has errors: {report['server_problems'][:3]}")
        report["server_logs"] = group.logs()
    else:
        group.remove_logs()
    return report, summary


def provision_sessions(made: Clinic, count: int) -> list[int]:
    """The day's group sessions (schedule_session --allow-guests), the bench rooms' rosters (Clinic.roster)."""
    began = time.monotonic()
    sessions = []
    for index in range(count):
        facilitator, *patients = made.roster(index, MEMBERS)
        sessions.append([f"Day session {index + 1}", facilitator, patients, {"allow_guests": True}])
    ids: list[int] = made._provision({"sessions": sessions})["session_ids"]
    made.setup_seconds += time.monotonic() - began
    return ids


def _machine() -> dict[str, Any]:
    from bench.run import machine  # bench.run imports this module: at call time

    return machine()


def analyze(database_url: str) -> None:
    from bench.run import analyze

    analyze(database_url)


def add_day_arguments(parser: argparse.ArgumentParser) -> None:
    day = parser.add_argument_group("the day (--load day)")
    day.add_argument("--minutes", type=float, help="day: the day's length (default 30; sessions last a third)")
    day.add_argument("--sessions", type=int, help="day: sessions in the day (default 100, scaled with --minutes)")
    day.add_argument("--seed", type=int, default=25, help="day: who drops, when, for how long")
    day.add_argument("--plot", default=None, help=f"day: write the SVG plot here too (e.g. {PLOT.relative_to(REPO)})")
