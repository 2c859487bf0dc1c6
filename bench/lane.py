"""CPU per room event through Circle's Redis layer (rooms.core_layer): the group_send and the lane's receive.

    python -m bench lane [--messages 1500] [--rounds 4] [--burst 1]

A hub's pump waits on its lane; a room event is sent to the room's group; the pump
receives it. With --burst 1 every event finds the lane empty (a worker that keeps
up); with --burst N, N events wait together (a worker that fell behind: one pop
takes them all). Rounds alternate the two ways to pop: BZMPOP, one round trip
whether it waits or not (Redis 7), and ZPOPMIN then BZPOPMIN when the lane was
empty (older Redis). The process's CPU time per event is reported, the median of
the rounds; it needs the real Redis (BENCH_REDIS_URL, default redis://127.0.0.1:6379/0).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
import uuid

TEXT = "I went for a walk when the craving came, like we said last week." * 3


async def round_of(redis_url: str, *, bzmpop: bool, messages: int, burst: int) -> float:
    from config.env import channel_layers_from_url
    from rooms.core_layer import BatchedRedisChannelLayer

    config = channel_layers_from_url(redis_url, prefix=f"bench-lane-{uuid.uuid4().hex[:8]}")["default"]["CONFIG"]
    layer = BatchedRedisChannelLayer(**config)
    layer._has_bzmpop = bzmpop  # the older Redis's way, as the layer falls back to it
    lane = "circle-hub.bench.1"
    await layer.group_add("room.1", lane)
    started = time.process_time()
    for number in range(messages // burst):
        waiting = asyncio.create_task(layer.receive(lane))
        await asyncio.sleep(0)  # the pump is waiting before the event is sent
        for _ in range(burst):
            await layer.group_send("room.1", {"type": "room.event", "n": number, "text": TEXT})
        await waiting
        for _ in range(burst - 1):
            await layer.receive(lane)
    cpu_us = (time.process_time() - started) / (messages // burst * burst) * 1e6
    await layer.flush()
    return cpu_us


def command_lane(args: argparse.Namespace) -> int:
    from bench.clinic import redis_url

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("SECRET_KEY", "bench-lane")
    url = redis_url()

    async def main() -> dict[str, list[float]]:
        rounds: dict[str, list[float]] = {"bzmpop": [], "zpopmin+bzpopmin": []}
        for _ in range(args.rounds):
            for name, bzmpop in (("zpopmin+bzpopmin", False), ("bzmpop", True)):
                rounds[name].append(await round_of(url, bzmpop=bzmpop, messages=args.messages, burst=args.burst))
        return rounds

    for name, values in asyncio.run(main()).items():
        figures = {"pop": name, "burst": args.burst, "cpu_us_per_event": round(statistics.median(values), 1)}
        print(json.dumps({**figures, "rounds": [round(v, 1) for v in values]}))
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--messages", type=int, default=1500)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--burst", type=int, default=1, help="events sent together (1: each finds the lane empty)")
