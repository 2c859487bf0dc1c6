"""chat.send's transaction alone on PostgreSQL: prepared statements on and off, side by side.

    python -m bench txn [--messages 2000] [--rounds 5] [--clients 12] [--busy] [--batch N]

Runs the real action (`rooms.actions.chat.do_send_chat`: the claim with the look for
an earlier message of the same `txn_id`, the rules, the
rendering, the crisis scan, the INSERT with its COMMIT) in a loop on one
connection, the senders taking turns, with the broadcast left out (`bench run`
measures the fan-out). Per message: the CPU of the thread that runs it, the CPU
of its PostgreSQL backend (from /proc: the server must be on this machine) and
the wall time. Rounds alternate DB_PREPARED_STATEMENTS's two settings, so a
drifting machine moves both alike; the median of the rounds is reported. The
messages are 50 ms apart on the action's clock (`now`), 20 per second in the room
as under L2, so the sender's read of their last 10 s finds what it finds under
load (the rate limit raised as `bench run` raises it).

With --batch N the messages go N at a time, from N different senders, through
`do_send_chats` (group commit, rooms.group_commit): what a busy worker does.

With --busy another thread runs Python without pause meanwhile, as a worker's
event loop does under load: each time the action's thread gives the GIL up (to
wait for PostgreSQL) it waits for it again, up to the switch interval (5 ms).
The wall time then counts those hand-overs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import threading
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

SETTINGS = {"on": "1", "off": "0"}
MESSAGE_SPACING = timedelta(milliseconds=50)


def backend_cpu_seconds(pid: int) -> float:
    """utime + stime of a process on this machine."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def connect_with(prepared: str) -> int:
    """The connection set as DB_PREPARED_STATEMENTS=`prepared` sets a new one; its backend's pid.

    Django's pool made its connections with the settings of start-up, so the
    option is applied to the connection itself, as psycopg reads it.
    """
    from django.db import connection

    from config.env import database_from_url

    os.environ["DB_PREPARED_STATEMENTS"] = SETTINGS[prepared]
    options = database_from_url(os.environ["DATABASE_URL"], default_sqlite_path="")["OPTIONS"]
    assert isinstance(options, dict)
    connection.ensure_connection()
    connection.connection.prepare_threshold = options.get("prepare_threshold")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


class Clock:
    """The action's `now`: MESSAGE_SPACING apart, from the session's start on."""

    def __init__(self) -> None:
        from django.utils import timezone

        self.now = timezone.now()

    def tick(self) -> datetime:
        self.now += MESSAGE_SPACING
        return self.now


def send_all(session_id: int, senders: list[int], messages: int, batch: int, clock: Clock, label: str) -> None:
    """`messages` messages, the senders taking turns, `batch` at a time (1: do_send_chat itself)."""
    from rooms.actions.chat import ChatRequest, do_send_chat, do_send_chats
    from rooms.errors import ActionError

    for first in range(0, messages, batch):
        numbers = range(first, min(first + batch, messages))
        # Each with its own txn_id, as the room page sends them (looked for with the claim).
        if batch == 1:
            sender = senders[first % len(senders)]
            do_send_chat(session_id, sender, f"{label} {first}", clock.tick(), txn_id=uuid.uuid4().hex)
            continue
        requests = [
            ChatRequest(
                session_id, senders[number % len(senders)], f"{label} {number}", clock.tick(), txn_id=uuid.uuid4().hex
            )
            for number in numbers
        ]
        for result in do_send_chats(requests):
            if isinstance(result, ActionError):
                raise SystemExit(f"a message was refused: {result.code} {result.message}")


def measure(
    session_id: int, senders: list[int], messages: int, prepared: str, clock: Clock, batch: int = 1
) -> dict[str, Any]:
    backend = connect_with(prepared)
    send_all(session_id, senders, 50, batch, clock, "warm")  # statements prepared (or not), caches filled
    server, cpu, wall = backend_cpu_seconds(backend), time.thread_time(), time.perf_counter()
    send_all(session_id, senders, messages, batch, clock, "txn")
    per_message = 1e6 / messages
    return {
        "prepared": prepared,
        "batch": batch,
        "client_cpu_us": round(per_message * (time.thread_time() - cpu), 1),
        "backend_cpu_us": round(per_message * (backend_cpu_seconds(backend) - server), 1),
        "wall_us": round(per_message * (time.perf_counter() - wall), 1),
    }


def spin(stop: threading.Event) -> None:
    """Hold the GIL as a busy event loop does, until told to stop."""
    while not stop.is_set():
        pass


def command_txn(args: argparse.Namespace) -> int:
    if not 1 <= args.batch <= args.clients:
        raise SystemExit(f"--batch must be between 1 and --clients ({args.clients}): one message per sender a batch")
    from bench.micro import drop_database, provision, setup_env

    _url, pg_name = setup_env("production")
    os.environ.pop("REDIS_URL", None)  # nothing is broadcast
    stop = threading.Event()
    try:
        import django

        django.setup()
        from django.utils import timezone

        from facilitator.actions.rounds import do_set_mode
        from rooms import broadcast
        from rooms.actions.lifecycle import do_start_session
        from rooms.models import Mode, Participant, ParticipantRole

        broadcast.publish = lambda envelope: None  # the fan-out is bench run's
        session_id, _people = provision(args.clients)
        lead = Participant.objects.get(session_id=session_id, role=ParticipantRole.FACILITATOR).pk
        do_start_session(session_id, lead, timezone.now())
        do_set_mode(session_id, lead, Mode.OPEN, None, timezone.now())
        senders = list(Participant.objects.filter(session_id=session_id).values_list("pk", flat=True))
        clock = Clock()
        if args.busy:
            threading.Thread(target=spin, args=(stop,), daemon=True).start()
        rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in SETTINGS}
        for _ in range(args.rounds):
            for name in SETTINGS:
                rounds[name].append(measure(session_id, senders, args.messages, name, clock, args.batch))
                print(json.dumps(rounds[name][-1]), flush=True)
        for name, results in rounds.items():
            summary = {
                key: statistics.median(result[key] for result in results)
                for key in ("client_cpu_us", "backend_cpu_us", "wall_us")
            }
            print(
                json.dumps(
                    {"prepared": name, "busy": args.busy, "batch": args.batch, "median_of": len(results), **summary}
                )
            )
    finally:
        stop.set()
        drop_database(pg_name)
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--clients", type=int, default=12)
    parser.add_argument("--busy", action="store_true", help="another thread runs Python meanwhile (GIL hand-overs)")
    parser.add_argument("--batch", type=int, default=1, help="messages per transaction (group commit), <= --clients")
