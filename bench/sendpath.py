"""CPU per frame a room socket sends through its middleware stack: Channels' auth stack against Circle's.

    python -m bench sendpath [--frames 100000] [--rounds 5]

Every delivery of every event leaves a room socket through the `send` that the
middleware stack handed the consumer. Channels' AuthMiddlewareStack hands it its
SessionMiddleware's wrapper, which inspects the session on every message (to save
it on `http.response.start`); Circle's stack (rooms.socket_session) hands it the
server's own. Each stack is called once as a signed-in member's socket (a real
session cookie, on a fresh SQLite database); then the `send` it gave the
application carries `--frames` chat events to a server send that does nothing.
Rounds alternate the two stacks; the CPU time of the loop (thread_time) per
frame is reported, the median of the rounds. The difference is what each
delivery saves; `bench run` measures a whole delivery.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Any

FRAME = {
    "type": "websocket.send",
    "text": json.dumps(
        {
            "type": "chat.message",
            "message_id": 18234,
            "seq": 912,
            "participant_id": 77,
            "display_name": "Alex",
            "text": "I went for a walk when the craving came, like we said last week.",
            "html": "I went for a walk when the craving came, like we said last week.",
            "sent_at": "2026-11-27T21:04:05.123456+00:00",
        }
    ),
}


async def discard(message: dict[str, Any]) -> None:
    """The server's send: the frame goes nowhere, so only the stack's own cost is counted."""


async def no_frames() -> dict[str, Any]:
    raise AssertionError("nothing reads frames here")


async def send_of(stack: Any, cookie: str) -> Any:
    """The `send` that `stack` hands the application on a room socket opened with `cookie`."""
    handed: list[Any] = []

    async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["user"].is_authenticated, "the bench's session must sign a member in"
        handed.append(send)

    scope = {"type": "websocket", "path": "/ws/sessions/1/", "headers": [(b"cookie", cookie.encode())]}
    await stack(application)(scope, no_frames, discard)
    return handed[0]


async def cpu_per_frame(send: Any, frames: int) -> float:
    started = time.thread_time()
    for _ in range(frames):
        await send(FRAME)
    return (time.thread_time() - started) / frames * 1e9


def command_sendpath(args: argparse.Namespace) -> int:
    from bench.micro import provision, setup_env

    setup_env("embedded")
    import django

    django.setup()
    from channels.auth import AuthMiddlewareStack
    from django.contrib.auth import get_user_model
    from django.test import Client

    from rooms.socket_session import SocketAuthMiddlewareStack

    _session_id, people = provision(2)
    client = Client()
    client.force_login(get_user_model().objects.get(username=people[1]))
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    stacks = {"channels": AuthMiddlewareStack, "circle": SocketAuthMiddlewareStack}

    async def measure() -> dict[str, list[float]]:
        sends = {name: await send_of(stack, cookie) for name, stack in stacks.items()}
        rounds: dict[str, list[float]] = {name: [] for name in stacks}
        for _ in range(args.rounds):
            for name, send in sends.items():
                rounds[name].append(await cpu_per_frame(send, args.frames))
                print(json.dumps({"stack": name, "cpu_ns_per_frame": round(rounds[name][-1], 1)}), flush=True)
        return rounds

    for name, results in asyncio.run(measure()).items():
        summary = {"stack": name, "median_of": len(results), "cpu_ns_per_frame": round(statistics.median(results), 1)}
        print(json.dumps(summary))
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--frames", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
