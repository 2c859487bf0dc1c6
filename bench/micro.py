"""CPU per chat message through Circle's real ASGI application, in one process, one message at a time.

    python -m bench micro [--messages 1500] [--clients 12] [--config embedded|production]

A steady instrument for before/after comparisons of the hot path on a busy
machine: it counts the process's CPU time (every thread: event loop and the
database thread pool), not wall time, so other work on the machine barely moves
it. It drives `config.asgi:application` with Channels' `WebsocketCommunicator`
(no sockets): the consumer, the chat action and its transaction, the channel
layer, the hub's fan-out to every connection. Closed loop: each message is sent
once the previous one has reached all CLIENTS connections. The communicator's
own cost is included (the same on both sides of a comparison). Provisioning
goes through the contract's commands; sessions are made with Django's
`force_login` (HTTP login is measured by the real bench, not here).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import tempfile
import time
from typing import Any


def setup_env(config: str) -> tuple[str, str | None]:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["SECRET_KEY"] = secrets.token_hex(32)
    os.environ["DEBUG"] = "0"
    os.environ["CHAT_RATE_LIMIT"] = "1000000"
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["CHANNEL_LAYER_PREFIX"] = f"circle-micro-{secrets.token_hex(3)}"
    if config == "embedded":
        directory = tempfile.mkdtemp(prefix="circle-micro-")
        os.environ["DATABASE_URL"] = f"sqlite:///{directory}/circle.sqlite3"
        os.environ.pop("REDIS_URL", None)
        return os.environ["DATABASE_URL"], None
    import psycopg

    from bench.clinic import _with_database, postgres_admin_url, redis_url

    name = f"circle_micro_{secrets.token_hex(5)}"
    with psycopg.connect(postgres_admin_url(), autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = _with_database(postgres_admin_url(), name)
    os.environ["REDIS_URL"] = redis_url()
    return os.environ["DATABASE_URL"], name


def provision(clients: int) -> tuple[int, list[str]]:
    import io

    from django.core.management import call_command

    call_command("migrate", "--noinput", "-v", "0")
    password = f"micro-{secrets.token_hex(8)}"
    people = ["mf0", *[f"mp{i}" for i in range(clients - 1)]]
    for index, name in enumerate(people):
        role = "facilitator" if index == 0 else "patient"
        call_command(
            "create_member", name, "--role", role, "--display-name", name, "--password", password, stdout=io.StringIO()
        )
    return schedule_session("Micro", people), people


def schedule_session(title: str, people: list[str]) -> int:
    """A session (through the contract's command) led by the first of `people`, with the others as patients."""
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command(
        "schedule_session",
        "--title",
        title,
        "--facilitator",
        people[0],
        "--patients",
        ",".join(people[1:]),
        "--duration",
        "600",
        stdout=out,
    )
    return int(out.getvalue().strip().splitlines()[-1])


def cookies_for(people: list[str]) -> dict[str, str]:
    from django.test import Client

    from accounts.models import Member

    out = {}
    for name in people:
        client = Client()
        client.force_login(Member.objects.get(username=name))
        out[name] = client.cookies["sessionid"].value
    return out


async def measure(
    session_id: int, people: list[str], cookies: dict[str, str], messages: int, warmup: int
) -> dict[str, Any]:
    from channels.testing import WebsocketCommunicator

    from config.asgi import application

    comms = []
    for name in people:
        comm = WebsocketCommunicator(
            application,
            f"/ws/sessions/{session_id}/",
            headers=[(b"cookie", f"sessionid={cookies[name]}".encode()), (b"origin", b"http://localhost")],
        )
        connected, _ = await comm.connect(timeout=30)
        assert connected
        state = await comm.receive_json_from(timeout=30)
        assert state["type"] == "session.state", state
        comms.append(comm)
    facilitator = comms[0]

    async def request(comm: Any, frame: dict[str, Any]) -> dict[str, Any]:
        await comm.send_json_to(frame)
        while True:
            reply = await comm.receive_json_from(timeout=30)
            if reply.get("ref") == frame["ref"]:
                return reply

    assert (await request(facilitator, {"type": "session.start", "ref": "s"}))["type"] == "ack"
    assert (await request(facilitator, {"type": "mode.set", "mode": "open", "ref": "m"}))["type"] == "ack"
    await asyncio.sleep(0.5)
    for comm in comms:  # drop what the start caused
        while not await comm.receive_nothing(timeout=0.05):
            await comm.receive_output(timeout=1)

    async def one(number: int) -> None:
        sender = comms[number % len(comms)]
        text = f"micro {number}"
        await sender.send_to(text_data=json.dumps({"type": "chat.send", "text": text, "ref": str(number)}))
        for comm in comms:
            while True:
                frame = json.loads(await comm.receive_from(timeout=30))
                if frame.get("type") == "chat.message" and frame.get("text") == text:
                    break

    for number in range(warmup):
        await one(number)
    cpu, wall = time.process_time(), time.perf_counter()
    for number in range(warmup, warmup + messages):
        await one(number)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    for comm in comms:
        await comm.disconnect()
    from rooms.hub import stop_hub

    await stop_hub()
    return {
        "messages": messages,
        "clients": len(comms),
        "cpu_ms_per_message": round(1000 * cpu / messages, 3),
        "cpu_us_per_delivery": round(1e6 * cpu / (messages * len(comms)), 1),
        "wall_ms_per_message": round(1000 * wall / messages, 3),
    }


def command_micro(args: argparse.Namespace) -> int:
    _url, pg_name = setup_env(args.config)
    try:
        import django

        django.setup()
        session_id, people = provision(args.clients)
        cookies = cookies_for(people)
        results = []
        for _ in range(args.repeat):
            results.append(asyncio.run(measure(session_id, people, cookies, args.messages, args.warmup)))
            print(json.dumps(results[-1]), flush=True)
        per_message = [r["cpu_ms_per_message"] for r in results]
        print(
            json.dumps(
                {
                    "config": args.config,
                    "cpu_ms_per_message_median": statistics.median(per_message),
                    "min": min(per_message),
                    "max": max(per_message),
                }
            )
        )
    finally:
        drop_database(pg_name)
    return 0


def drop_database(pg_name: str | None) -> None:
    """The PostgreSQL database setup_env made, if any."""
    if not pg_name:
        return
    from django.db import connections

    connections.close_all()
    import psycopg

    from bench.clinic import postgres_admin_url

    with psycopg.connect(postgres_admin_url(), autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", choices=["embedded", "production"], default="embedded")
    parser.add_argument("--messages", type=int, default=1500)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--clients", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=3)
