"""The hub's background duties, in process, on PostgreSQL, as live sessions fill up.

    python -m bench duties [--rooms 50] [--people 12] [--per-room 600,1800,3600]

Every worker runs them whatever the traffic (rooms.hub): the participation-stats
tick every 5 s (facilitator.stats) and the due-timer sweep four times a second, so
their cost must stay small and must not grow with the length of the sessions. This
instrument makes ROOMS live sessions of PEOPLE (through the contract's commands),
fills them with messages in steps (one message per second per room for an hour is
3,600 per room), and at each step times one stats tick over all the rooms and one
due-timer sweep with nothing due: wall time (including PostgreSQL's) and the CPU of
the calling thread, medians. The messages are written with one INSERT ... SELECT and
the participants' counts set to match them by migration 0003's back-fill, as
`chat.send` would have left them (sending 180,000 messages through the action
would take longer than the measurement is worth).
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import time
from collections.abc import Callable


def make_rooms(rooms: int, people: int) -> list[int]:
    from bench.micro import provision, schedule_session
    from rooms.models import GroupSession, Status

    first, names = provision(people)
    ids = [first, *(schedule_session(f"Stats {number}", names) for number in range(1, rooms))]
    GroupSession.objects.filter(pk__in=ids).update(status=Status.LIVE)
    return ids


def add_messages(per_room: int) -> None:
    """PER_ROOM more messages in every room, spread over its people, and their counts as chat.send keeps them."""
    from django.apps import apps as django_apps
    from django.db import connection

    from rooms.models import GroupSession, Message, Participant

    rooms, people, messages = GroupSession._meta.db_table, Participant._meta.db_table, Message._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {messages} (session_id, participant_id, seq, text, html, sent_at, audience)
            SELECT s.id, p.id, s.last_seq + g, 'a message of an ordinary length, about this long', '<p>x</p>',
                   now(), 'room'
            FROM {rooms} s, generate_series(1, %s) g,
                 LATERAL (SELECT id FROM {people} WHERE session_id = s.id ORDER BY id
                          OFFSET g %% (SELECT count(*) FROM {people} WHERE session_id = s.id) LIMIT 1) p
            """,  # noqa: S608 (table names from the models)
            [per_room],
        )
        cursor.execute(f"UPDATE {rooms} SET last_seq = last_seq + %s", [per_room])  # noqa: S608
        cursor.execute(f"ANALYZE {messages}")
    # The counts, by the same code that fills them in when an installation upgrades.
    backfill = importlib.import_module("rooms.migrations.0003_participant_room_counts").count_room_messages
    with connection.schema_editor() as editor:
        backfill(django_apps, editor)


def timed(duty: Callable[[], object], times: int) -> tuple[float, float]:
    """Median wall and thread CPU seconds of one call, after a warm-up."""
    for _ in range(3):
        duty()
    samples = []
    for _ in range(times):
        wall, cpu = time.perf_counter(), time.thread_time()
        duty()
        samples.append((time.perf_counter() - wall, time.thread_time() - cpu))
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)


def stats_tick(session_ids: list[int]) -> None:
    from django.utils import timezone

    from facilitator.stats import stats_envelopes

    envelopes = stats_envelopes(session_ids, timezone.now(), {})
    assert len(envelopes) == len(session_ids), "every room's stats are built (nothing was sent before)"


def due_timer_sweep() -> None:
    """The due checks of the deadline duties (floor expiry, mute lapse), as each hub asks them four times a second."""
    from django.utils import timezone

    from rooms.extensions import deadline_tick_seconds, periodic_duties
    from rooms.hub import due_duties, duties_by_period

    due_duties(duties_by_period(periodic_duties)[(deadline_tick_seconds(), 0.0)], timezone.now())


def command_duties(args: argparse.Namespace) -> int:
    from bench.micro import drop_database, setup_env

    _url, pg_name = setup_env("production")
    try:
        import django

        django.setup()
        session_ids = make_rooms(args.rooms, args.people)
        total = 0
        for target in (int(n) for n in args.per_room.split(",")):
            add_messages(target - total)
            total = target
            tick_wall, tick_cpu = timed(lambda: stats_tick(session_ids), 7)
            sweep_wall, sweep_cpu = timed(due_timer_sweep, 200)
            print(
                json.dumps(
                    {
                        "rooms": args.rooms,
                        "people": args.people,
                        "messages_per_room": total,
                        "stats_tick_wall_ms": round(1000 * tick_wall, 2),
                        "stats_tick_cpu_ms": round(1000 * tick_cpu, 2),
                        "due_timer_sweep_wall_ms": round(1000 * sweep_wall, 2),
                        "due_timer_sweep_cpu_ms": round(1000 * sweep_cpu, 2),
                    }
                ),
                flush=True,
            )
    finally:
        drop_database(pg_name)
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rooms", type=int, default=50)
    parser.add_argument("--people", type=int, default=12)
    parser.add_argument("--per-room", default="600,1800,3600", help="cumulative messages per room at each step")
