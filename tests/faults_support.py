"""Support for the fault tests (tests/test_faults_*.py): services the tests own and break.

Each fault test starts its own processes on loopback: daphne workers
(tests/e2e.py), and where a service is broken, a service only that test uses:
a redis-server on its own port, a PostgreSQL database it may close to new
connections. No test here sleeps to let something happen: it waits on the
event (a frame, a close, /healthz), with a generous deadline.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests import e2e
from tests.services import postgres_url

# Presence timings for the tests (the defaults are 10 / 30 / 15 s, docs/deploy.md).
# Settings for e2e.server_env(**FAST_PRESENCE) (Any: mypy matches an unpacked dict against every keyword).
FAST_PRESENCE: dict[str, Any] = {
    "PRESENCE_HEARTBEAT_SECONDS": 1,
    "PRESENCE_STALE_SECONDS": 3,
    "ABSENCE_GRACE_SECONDS": 1,
}


# ---------------------------------------------------------------- waiting on events


async def until(
    condition: Callable[[], bool | Awaitable[bool]], *, timeout: float, interval: float = 0.1, what: str = ""
) -> float:
    """Poll `condition` (sync or async) until it holds; returns the seconds it took. Fails after `timeout`."""
    started = time.monotonic()
    while True:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            pytest.fail(f"not within {timeout} s: {what or condition}", pytrace=False)
        await asyncio.sleep(interval)


async def healthz(server: e2e.ServerProcess) -> int:
    return (await asyncio.to_thread(server.healthz))[0]


async def wait_healthz(server: e2e.ServerProcess, status: int, *, timeout: float) -> float:
    async def check() -> bool:
        return await healthz(server) == status

    return await until(check, timeout=timeout, interval=0.25, what=f"{server.name} /healthz {status}")


# ---------------------------------------------------------------- what clients saw


def seen_seqs(*clients: e2e.Client) -> set[int]:
    """Every chat seq these connections (one person's, one after the other) received: states and live frames."""
    seqs: set[int] = set()
    for client in clients:
        seqs |= {int(m["seq"]) for m in client.state.get("messages", [])}
        seqs |= {int(f["seq"]) for f in client.frames if f.get("type") == "chat.message"}
        seqs |= {int(m["seq"]) for f in client.frames if f.get("type") == "session.state" for m in f["messages"]}
    return seqs


def assert_nobody_missed(acked: Iterable[int], everyone: Mapping[str, list[e2e.Client]]) -> None:
    """Each person, over all their connections one after the other, received every acknowledged seq."""
    for who, clients in everyone.items():
        missing = set(acked) - seen_seqs(*clients)
        assert not missing, f"{who} never got {sorted(missing)}"


def notices(client: e2e.Client, code: str) -> list[dict[str, Any]]:
    """Server notices: `error` frames without a ref."""
    return [f for f in client.frames if f.get("type") == "error" and f.get("ref") is None and f.get("code") == code]


async def wait_frame(client: e2e.Client, predicate: Callable[[dict[str, Any]], bool], timeout: float) -> dict:
    """The first frame (already received or arriving within `timeout`) matching `predicate`; keeps the rest."""
    for frame in client.frames:
        if predicate(frame):
            return frame
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            raise TimeoutError(f"{client.name}: no matching frame within {timeout} s; got {client.frames[-10:]}")
        frame = await client._next(remaining)
        client.backlog.append(frame)
        if predicate(frame):
            return frame


# ---------------------------------------------------------------- a Redis of the test's own


class RedisServer:
    """`redis-server` on a free loopback port, no persistence: stop() loses everything, as a crash would."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail("CI=true but redis-server is not installed", pytrace=False)
            pytest.skip("redis-server is not installed")
        self.binary = binary
        self.port = e2e.free_port()
        self.process: subprocess.Popen[bytes] | None = None
        fd, path = tempfile.mkstemp(prefix="circle-faults-redis-", suffix=".log")
        os.close(fd)
        self.log_path = Path(path)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 15) -> RedisServer:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"redis-server exited:\n{self.log_path.read_text(errors='replace')}", pytrace=False)
            if self.answers():
                return self
            time.sleep(0.05)
        pytest.fail(f"redis-server did not answer on {self.port}", pytrace=False)

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """SIGKILL: connections drop at once and every key (groups, queued events) is gone."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def freeze(self) -> None:
        """SIGSTOP: connections stay open and nothing answers, as with a hung server or a path that drops packets."""
        assert self.process is not None and self.process.poll() is None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT: it answers again, everything it held still there."""
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)


@pytest.fixture
def redis_server() -> Any:
    server = RedisServer().start()
    try:
        yield server
    finally:
        server.stop()


# ---------------------------------------------------------------- a PostgreSQL database the test may close


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def _admin(sql: str, *params: Any) -> None:
    import psycopg

    with psycopg.connect(postgres_url(), autocommit=True, connect_timeout=5) as admin:
        admin.execute(sql, params)


def close_database(url: str) -> None:
    """New connections are refused ("not currently accepting connections") and open ones are cut."""
    name = database_name(url)
    _admin(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
    _admin(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
        name,
    )


def open_database(url: str) -> None:
    _admin(f'ALTER DATABASE "{database_name(url)}" WITH ALLOW_CONNECTIONS true')


def stored_texts(url: str, texts: Iterable[str]) -> set[str]:
    """Which of these message texts the database holds (read directly, not through Circle)."""
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        rows = conn.execute("SELECT text FROM rooms_message WHERE text = ANY(%s)", (list(texts),)).fetchall()
    return {row[0] for row in rows}


# ---------------------------------------------------------------- a client that stops reading


class StalledReader:
    """A real WebSocket client that completes the handshake and then never reads another byte.

    Its receive buffer is made small before connecting, so the kernel stops
    taking data for it soon and the server's own buffer is what grows.
    """

    def __init__(self, base_url: str, session_id: int, cookie: str, since: int | None = None) -> None:
        parts = urlsplit(base_url)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.settimeout(10)
        self.sock.connect((parts.hostname, parts.port))
        key = base64.b64encode(secrets.token_bytes(16)).decode()
        request = (
            f"GET /ws/sessions/{session_id}/{'' if since is None else f'?since={since}'} HTTP/1.1\r\n"
            f"Host: {parts.hostname}:{parts.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Origin: {e2e.page_origin(base_url)}\r\nCookie: {cookie}\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise ConnectionError("closed during the handshake")
            head += chunk
        assert head.startswith(b"HTTP/1.1 101"), head
        # From here on the client reads nothing until `drained()`.

    def drained(self, timeout: float = 30) -> str:
        """Read everything the server managed to send; how the connection ended: 'reset' or 'closed'."""
        self.sock.settimeout(timeout)
        try:
            while self.sock.recv(65536):
                pass
        except ConnectionResetError:
            return "reset"
        except TimeoutError:
            return "open"
        return "closed"

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


# Django logs every 5xx response at ERROR; /healthz answering 503 during an outage is the point.
EXPECTED_ERROR_LINES = ("ERROR django.request Service Unavailable: /healthz",)


def assert_clean_log(server: e2e.ServerProcess) -> None:
    """No traceback and no ERROR line in the worker's log, besides /healthz's expected 503s."""
    log = "\n".join(line for line in server.log_text().splitlines() if not line.endswith(EXPECTED_ERROR_LINES))
    e2e.assert_no_traceback(log, name=server.name)


def chat_texts(client: e2e.Client) -> list[str]:
    return [f["text"] for f in client.frames if f.get("type") == "chat.message"]


def dump(frames: list[dict[str, Any]]) -> str:
    return "\n".join(json.dumps(f)[:300] for f in frames[-20:])
