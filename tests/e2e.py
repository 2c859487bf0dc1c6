"""End-to-end support: real daphne processes on loopback, real HTTP logins, real WebSockets.

No tests live here. A test module uses it like this::

    from tests import e2e

    pytestmark = [pytest.mark.e2e]
    database = e2e.sqlite_db          # fixture: a fresh, migrated database per module (URL)
    # or: database = e2e.postgres_db  (skips without PostgreSQL/Redis, fails in CI)
    daphne = e2e.daphne               # fixture: daphne(env) starts a server, stopped after the test

    async def test_something(database, daphne):
        env = e2e.server_env(database)              # + redis_url=e2e.redis_url() for the Redis layer
        clinic = e2e.provision(env, patients=["alex", "sam"])   # management commands only
        server = daphne(env)                         # started, /healthz answered 200
        cookie = e2e.login(server.base_url, "alex", e2e.PASSWORD)
        alex = await e2e.ws_connect(server.base_url, clinic.session_id, cookie)
        reply = await alex.request("chat.send", text="hello")
        ...
        e2e.assert_no_traceback(server.log_text())

Fixtures are exported as plain functions; bind them in a test module by
assignment (`database = e2e.sqlite_db`): an import of the same name would
be shadowed by the test's parameter (ruff F811).

Everything a server or a command gets comes from the environment built by
`server_env`: the runner's own Circle variables (DATABASE_URL in CI, for one)
never leak into the processes under test.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import http.client
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.protocol import State

from tests.services import postgres_url, redis_url, require_services

__all__ = [
    "PASSWORD",
    "Client",
    "Clinic",
    "Person",
    "ServerProcess",
    "assert_no_traceback",
    "create_member",
    "create_members",
    "daphne",
    "free_port",
    "invite_guest",
    "login",
    "manage",
    "migrate",
    "postgres_database",
    "postgres_db",
    "provision",
    "redis_url",
    "schedule_session",
    "server_env",
    "sqlite_database",
    "sqlite_db",
    "ws_connect",
]

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DAPHNE = BIN / "daphne"
PASSWORD = "a-long-e2e-password-7"
# ws_connect's default Origin: the server's own pages (scheme, host and port of its base URL).
PAGE_ORIGIN = "the server's own pages"
# One per test run: servers and commands of this run share it, other runs on
# the same Redis do not see this run's groups.
RUN_ID = uuid.uuid4().hex[:10]

# What the processes under test inherit from the runner: the basics of a process, libpq's
# and TLS's own variables, coverage hooks. Everything Circle reads comes from server_env
# alone, so the runner's DATABASE_URL (set in CI), SECRET_KEY, limits etc. never leak in.
_INHERITED = {"PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TEMP", "TMP", "VIRTUAL_ENV"}
_INHERITED_PREFIXES = ("LC_", "PG", "SSL_CERT_", "COVERAGE_")


# ---------------------------------------------------------------- environment


def free_port() -> int:
    """A loopback port nobody listens on right now (ServerProcess retries if it is taken meanwhile)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(
    database_url: str, *, redis_url: str | None = None, prefix: str | None = None, **extra: Any
) -> dict[str, str]:
    """The complete environment of a server or command under test.

    Servers that must share a channel layer must share this env (the prefix is
    unique per call unless given). `extra` adds settings, e.g. CHAT_RATE_LIMIT=3,
    PRESENCE_STALE_SECONDS=4; None removes one.
    """
    env = {
        name: value for name, value in os.environ.items() if name in _INHERITED or name.startswith(_INHERITED_PREFIXES)
    }
    env.update(
        DJANGO_SETTINGS_MODULE="tests.e2e_settings",
        DATABASE_URL=database_url,
        SECRET_KEY=f"e2e-{RUN_ID}-{secrets.token_hex(16)}",
        DEBUG="0",
        ALLOWED_HOSTS="localhost,127.0.0.1",
        # Not "circle...": channels-redis's flush() deletes `prefix*`, so a test run
        # flushing the default prefix "circle" would wipe these servers' groups.
        CHANNEL_LAYER_PREFIX=prefix or f"e2e-{RUN_ID}-{secrets.token_hex(3)}",
        PYTHONUNBUFFERED="1",
        PYTHONFAULTHANDLER="1",
        # Presence is debounced by this grace (15 s in production): a departure is announced a second after
        # the last socket closed, not after the tests' timeouts.
        ABSENCE_GRACE_SECONDS="1",
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    for name, value in extra.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = str(value)
    return env


# ---------------------------------------------------------------- management commands


def manage(
    env: Mapping[str, str], *args: str, timeout: float = 120, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run `python manage.py ARGS` with `env`; with `check`, a non-zero exit fails the test with its output."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        pytest.fail(
            f"manage.py {' '.join(args)} exited {result.returncode}\n"
            f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}",
            pytrace=False,
        )
    return result


def _last_line(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    assert lines, "the command printed nothing"
    return lines[-1]


def migrate(env: Mapping[str, str]) -> None:
    manage(env, "migrate", "--noinput", "-v", "0")


# ---------------------------------------------------------------- databases


def sqlite_database(directory: Path | str) -> str:
    """A fresh SQLite database in `directory`, migrated; returns its DATABASE_URL."""
    path = Path(directory) / f"circle-e2e-{secrets.token_hex(4)}.sqlite3"
    url = f"sqlite:///{path}"  # path is absolute: sqlite:////tmp/...
    migrate(server_env(url))
    return url


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + quote(name), parts.query, ""))


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """CREATE DATABASE circle_e2e_<random> on the admin URL, migrate it, yield its URL, DROP it (FORCE)."""
    import psycopg

    require_services()
    admin_url = postgres_url()
    name = f"circle_e2e_{secrets.token_hex(5)}"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = _with_database(admin_url, name)
        migrate(server_env(url))
        yield url
    finally:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def sqlite_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Module fixture: the DATABASE_URL of a fresh, migrated SQLite database."""
    return sqlite_database(tmp_path_factory.mktemp("e2e-db"))


@pytest.fixture(scope="module")
def postgres_db() -> Iterator[str]:
    """Module fixture: the DATABASE_URL of a fresh, migrated PostgreSQL database (needs the services)."""
    require_services()
    with postgres_database() as url:
        yield url


# ---------------------------------------------------------------- provisioning (commands only)


@dataclass(frozen=True)
class Person:
    username: str
    role: str
    display_name: str
    password: str = PASSWORD


@dataclass
class Clinic:
    session_id: int
    facilitator: Person
    patients: list[Person]
    people: dict[str, Person] = field(default_factory=dict)

    def __getitem__(self, username: str) -> Person:
        return self.people[username]


def _create_member_args(person: Person) -> list[str]:
    return [
        "create_member",
        person.username,
        "--role",
        person.role,
        "--display-name",
        person.display_name,
        "--password",
        person.password,
    ]


def create_member(
    env: Mapping[str, str], username: str, role: str, display_name: str | None = None, password: str = PASSWORD
) -> Person:
    person = Person(username, role, display_name or username.capitalize(), password)
    manage(env, *_create_member_args(person))
    return person


def create_members(env: Mapping[str, str], people: Iterable[Person]) -> list[Person]:
    """Several create_member commands at once (each is its own process; Django start-up dominates)."""
    people = list(people)
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda person: manage(env, *_create_member_args(person)), people))
    return people


def schedule_session(
    env: Mapping[str, str],
    *,
    title: str,
    facilitator: str,
    patients: Iterable[str],
    kind: str | None = None,
    starts_in: int | None = None,
    duration: int | None = None,
    allow_guests: bool = False,
) -> int:
    args = ["schedule_session", "--title", title, "--facilitator", facilitator, "--patients", ",".join(patients)]
    if kind is not None:
        args += ["--kind", kind]
    if starts_in is not None:
        args += ["--starts-in", str(starts_in)]
    if duration is not None:
        args += ["--duration", str(duration)]
    if allow_guests:
        args.append("--allow-guests")
    line = _last_line(manage(env, *args).stdout)
    assert line.isdigit(), f"schedule_session's last line is not an id: {line!r}"
    return int(line)


def invite_guest(env: Mapping[str, str], session_id: int, *, for_patient: str, name: str) -> str:
    """Returns the join path /join/<token>/."""
    line = _last_line(manage(env, "invite_guest", str(session_id), "--for", for_patient, "--name", name).stdout)
    assert re.fullmatch(r"/join/[^/\s]+/", line), f"invite_guest's last line is not a join path: {line!r}"
    return line


def provision(
    env: Mapping[str, str],
    *,
    facilitator: str = "dana",
    patients: Iterable[str] = ("alex", "sam", "jordan"),
    title: str = "E2E group",
    create: bool = True,
    **session_options: Any,
) -> Clinic:
    """Create the facilitator and patients (skip with create=False when they exist) and schedule one session."""
    lead = Person(facilitator, "facilitator", facilitator.capitalize())
    roster = [Person(name, "patient", name.capitalize()) for name in patients]
    if create:
        create_members(env, [lead, *roster])
    session_id = schedule_session(
        env, title=title, facilitator=lead.username, patients=[p.username for p in roster], **session_options
    )
    return Clinic(session_id, lead, roster, {p.username: p for p in (lead, *roster)})


# ---------------------------------------------------------------- the server


_live_servers: set[ServerProcess] = set()

# Every server made since the current test began: a failing test's report ends with their logs
# (tests/conftest.py), since the log files are gone once CI's machine is.
servers_of_this_test: list[ServerProcess] = []


@atexit.register
def _kill_leftovers() -> None:
    for server in list(_live_servers):
        server.kill()


class ServerProcess:
    """One `daphne -b 127.0.0.1 -p PORT config.asgi:application`, its output in a log file."""

    def __init__(
        self,
        env: Mapping[str, str],
        *,
        name: str = "daphne",
        port: int | None = None,
        log_dir: Path | str | None = None,
    ) -> None:
        self.env = dict(env)
        self.name = name
        self.port = port or free_port()
        self._fixed_port = port is not None
        self.process: subprocess.Popen[bytes] | None = None
        fd, path = tempfile.mkstemp(prefix=f"circle-e2e-{name}-", suffix=".log", dir=log_dir)
        os.close(fd)
        self.log_path = Path(path)
        servers_of_this_test.append(self)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __repr__(self) -> str:
        return f"<ServerProcess {self.name} {self.base_url} pid={self.pid}>"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self, timeout: float = 20) -> ServerProcess:
        for _ in range(3):
            self._spawn()
            if self._wait_healthy(timeout):
                # Shown by pytest with a failing test's captured output.
                print(f"{self.name}: {self.base_url} pid {self.pid}, log {self.log_path}")
                return self
            # Somebody took the port between free_port() and daphne's bind: try another one.
            if self._fixed_port or "Address already in use" not in self.log_text():
                break
            self.port = free_port()
        log = self.log_text()
        self.kill()
        pytest.fail(f"{self.name} did not answer /healthz with 200 on {self.base_url}\n--- log\n{log}", pytrace=False)

    def _spawn(self) -> None:
        with self.log_path.open("ab") as log:
            log.write(f"=== {self.name}: daphne on 127.0.0.1:{self.port}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                [str(DAPHNE), "-b", "127.0.0.1", "-p", str(self.port), "config.asgi:application"],
                cwd=REPO,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C on pytest does not reach it; we stop it ourselves
            )
        _live_servers.add(self)

    def _wait_healthy(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                _live_servers.discard(self)
                return False
            if self.healthz()[0] == 200:
                return True
            time.sleep(0.05)
        return False

    def healthz(self) -> tuple[int, str]:
        """(status, body) of GET /healthz; (0, error) when nothing answers."""
        try:
            status, _, body = http_request(self.base_url, "GET", "/healthz", timeout=5)
        except OSError as error:
            return 0, str(error)
        return status, body

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: the worker dies without any clean-up (as in a crash)."""
        if self.running():
            assert self.process is not None
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
        _live_servers.discard(self)

    def terminate(self, timeout: float = 10) -> int | None:
        """SIGTERM, wait for the exit (SIGKILL after `timeout`); returns the exit status."""
        if self.running():
            assert self.process is not None
            self.process.send_signal(signal.SIGTERM)
            started = time.monotonic()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                # PYTHONFAULTHANDLER is on: SIGABRT writes every thread's stack to the log first.
                self._note(f"still running {timeout:.0f} s after SIGTERM: SIGABRT (stacks below), then SIGKILL")
                self.process.send_signal(signal.SIGABRT)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(3)
                self.kill()
            else:
                self._note(f"exited {self.process.returncode} {time.monotonic() - started:.1f} s after SIGTERM")
        _live_servers.discard(self)
        return self.process.returncode if self.process else None

    stop = terminate

    def _note(self, text: str) -> None:
        with self.log_path.open("a") as log:
            log.write(f"=== {self.name}: {text}\n")

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def __enter__(self) -> ServerProcess:
        return self.start() if not self.running() else self

    def __exit__(self, *exc: object) -> None:
        self.terminate()


def assert_no_traceback(log: str, *, name: str = "daphne") -> None:
    """A server log (ServerProcess.log_text()) must hold no Python traceback and no ERROR line."""
    bad = [
        line
        for line in log.splitlines()
        if "Traceback (most recent call last)" in line or re.search(r"\bERROR\b|\bCRITICAL\b", line)
    ]
    assert not bad, f"{name}'s log has a traceback or an error:\n{log}"


@pytest.fixture
def daphne(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """daphne(env, name=...) -> a started ServerProcess; every one is stopped (SIGTERM) after the test.

    Logs go to the test's tmp_path (pytest keeps the last three runs).
    """
    started: list[ServerProcess] = []

    def _start(env: Mapping[str, str], *, name: str | None = None, port: int | None = None) -> ServerProcess:
        server = ServerProcess(env, name=name or f"daphne-{len(started) + 1}", port=port, log_dir=tmp_path)
        started.append(server)
        return server.start()

    yield _start
    for server in started:
        server.terminate()


# ---------------------------------------------------------------- HTTP


def http_request(
    base_url: str,
    method: str,
    path: str,
    *,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10,
) -> tuple[int, http.client.HTTPMessage, str]:
    """One request without redirects or proxies: (status, headers, body text)."""
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=dict(headers or {}))
        response = conn.getresponse()
        return response.status, response.headers, response.read().decode(errors="replace")
    finally:
        conn.close()


def _cookies(headers: http.client.HTTPMessage) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for value in headers.get_all("Set-Cookie") or []:
        jar.load(value)
    return {name: morsel.value for name, morsel in jar.items()}


def login(base_url: str, username: str, password: str = PASSWORD) -> str:
    """Sign in through /accounts/login/ (CSRF and all); returns the Cookie header value `sessionid=...`."""
    status, headers, page = http_request(base_url, "GET", "/accounts/login/")
    assert status == 200, f"GET /accounts/login/ answered {status}"
    csrf_cookie = _cookies(headers).get("csrftoken")
    found = re.search(r'name="csrfmiddlewaretoken"[^>]*?value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*?name="csrfmiddlewaretoken"', page
    )
    assert csrf_cookie and found, "the login page carries no CSRF token"
    form = urlencode({"username": username, "password": password, "csrfmiddlewaretoken": found.group(1)})
    status, headers, page = http_request(
        base_url,
        "POST",
        "/accounts/login/",
        body=form.encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={csrf_cookie}",
            "Origin": base_url,
            "Referer": f"{base_url}/accounts/login/",
        },
    )
    session = _cookies(headers).get("sessionid")
    assert status == 302 and session, f"login of {username!r} failed: {status}\n{page[:2000]}"
    return f"sessionid={session}"


def login_all(base_url: str, people: Iterable[Person | str]) -> dict[str, str]:
    """Log several people in at once: {username: cookie}."""
    persons = [p if isinstance(p, Person) else Person(p, "", "") for p in people]
    with ThreadPoolExecutor(max_workers=4) as pool:
        cookies = pool.map(lambda p: login(base_url, p.username, p.password), persons)
        return {p.username: cookie for p, cookie in zip(persons, cookies, strict=True)}


# ---------------------------------------------------------------- WebSocket clients


def frame_is(frame_type: str | None = None, **fields: object) -> Callable[[dict[str, Any]], bool]:
    """A predicate for receive_type, receive_until and wait_frame: this type (any, without one), these values."""
    return lambda frame: (frame_type is None or frame["type"] == frame_type) and all(
        frame.get(name) == value for name, value in fields.items()
    )


class Client:
    """One real WebSocket to /ws/sessions/<id>/.

    `state` is the first `session.state`; `close_code` is set once the server
    closed (or the HTTP status when the handshake was refused). Every frame
    received is kept in `frames`; `request` sets aside frames that are not its
    reply, and `receive` hands those out first, so nothing is lost.
    """

    def __init__(self, ws: ClientConnection | None, *, name: str = "") -> None:
        self.ws = ws
        self.name = name
        self.state: dict[str, Any] = {}
        self.close_code: int | None = None
        self.frames: list[dict[str, Any]] = []
        self.backlog: deque[dict[str, Any]] = deque()
        self.last_seq = 0
        self._refs = 0

    def __repr__(self) -> str:
        return f"<Client {self.name} close_code={self.close_code}>"

    @property
    def participant_id(self) -> int:
        return int(self.state["me"]["participant_id"])

    @property
    def closed(self) -> bool:
        return self.close_code is not None

    @property
    def is_open(self) -> bool:
        """The socket is still open (checked without reading: frames stay unread)."""
        return self.ws is not None and self.close_code is None and self.ws.state is State.OPEN

    async def send(self, **frame: Any) -> None:
        assert self.ws is not None
        await self.ws.send(json.dumps(frame))

    async def _next(self, timeout: float) -> dict[str, Any]:
        assert self.ws is not None
        try:
            raw = await asyncio.wait_for(self.ws.recv(), timeout)
        except ConnectionClosed as closed:
            self.close_code = closed.rcvd.code if closed.rcvd else self.ws.close_code
            raise
        except TimeoutError:
            raise TimeoutError(f"{self.name or 'client'}: nothing received within {timeout} s") from None
        frame = json.loads(raw)
        self.frames.append(frame)
        if frame.get("type") == "chat.message":
            self.last_seq = max(self.last_seq, int(frame["seq"]))
        return frame

    async def receive(self, timeout: float = 10) -> dict[str, Any]:
        if self.backlog:
            return self.backlog.popleft()
        return await self._next(timeout)

    async def receive_type(
        self, frame_type: str, timeout: float = 10, where: Callable[[dict[str, Any]], bool] | None = None
    ) -> dict[str, Any]:
        """Skip (and drop) other frames until one of `frame_type` (matching `where`) arrives within `timeout`."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0 and not self.backlog:
                raise TimeoutError(f"{self.name or 'client'}: no {frame_type} within {timeout} s")
            frame = await self.receive(max(remaining, 0.001))
            if frame.get("type") == frame_type and (where is None or where(frame)):
                return frame

    async def receive_until(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10
    ) -> list[dict[str, Any]]:
        """Every frame up to and including the first matching `predicate`."""
        deadline = asyncio.get_running_loop().time() + timeout
        seen: list[dict[str, Any]] = []
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0 and not self.backlog:
                raise TimeoutError(f"{self.name or 'client'}: condition not met within {timeout} s; got {seen}")
            frame = await self.receive(max(remaining, 0.001))
            seen.append(frame)
            if predicate(frame):
                return seen

    async def request(self, frame_type: str, timeout: float = 10, **fields: Any) -> dict[str, Any]:
        """Send with a fresh `ref`; return its `ack` or `error`. Other frames wait in the backlog."""
        self._refs += 1
        ref = f"{self.name or 'c'}-{self._refs}"
        await self.send(type=frame_type, ref=ref, **fields)
        deadline = asyncio.get_running_loop().time() + timeout
        set_aside: list[dict[str, Any]] = []
        try:
            while True:
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    raise TimeoutError(f"{self.name or 'client'}: no reply to {frame_type} within {timeout} s")
                frame = await self._next(remaining)
                if frame.get("type") in {"ack", "error"} and frame.get("ref") == ref:
                    return frame
                set_aside.append(frame)
        finally:
            self.backlog.extend(set_aside)

    async def wait_closed(self, timeout: float = 10) -> int | None:
        """Read (and keep in `frames`) until the server closes; returns the close code."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self.close_code is None:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(f"{self.name or 'client'}: not closed within {timeout} s")
            try:
                self.backlog.append(await self._next(remaining))
            except ConnectionClosed:
                break
        return self.close_code

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
            if self.close_code is None:
                self.close_code = self.ws.close_code


def ws_url(base_url: str, session_id: int, since: int | None = None, *, query: str | None = None) -> str:
    """`query`: a raw query string instead of `since` (tests of malformed ones)."""
    parts = urlsplit(base_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    if query is None:
        query = f"since={since}" if since is not None else ""
    return urlunsplit((scheme, parts.netloc, f"/ws/sessions/{session_id}/", query, ""))


def page_origin(base_url: str) -> str:
    """The Origin a browser sends from the server's pages: their scheme, host and port."""
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}"


async def ws_connect(
    base_url: str,
    session_id: int,
    cookie: str | None,
    since: int | None = None,
    *,
    query: str | None = None,
    origin: str | None = PAGE_ORIGIN,
    name: str = "",
    timeout: float = 10,
) -> Client:
    """Open the room's WebSocket and read the first frame.

    Accepted: `client.state` holds session.state. Closed at once: `client.close_code`
    is the close code (4401/4403/4404/4410). Handshake refused: `close_code` is the
    HTTP status (403 for a foreign Origin).
    """
    headers = {}
    if cookie:
        headers["Cookie"] = cookie
    if origin == PAGE_ORIGIN:
        origin = page_origin(base_url)
    if origin:
        headers["Origin"] = origin
    try:
        ws = await connect(
            ws_url(base_url, session_id, since, query=query),
            additional_headers=headers,
            proxy=None,
            compression=None,
            open_timeout=timeout,
            max_queue=1024,
        )
    except InvalidStatus as refused:
        client = Client(None, name=name)
        client.close_code = refused.response.status_code
        return client
    client = Client(ws, name=name)
    try:
        first = await client._next(timeout)
    except ConnectionClosed:
        return client
    assert first.get("type") == "session.state", f"first frame is not session.state: {first}"
    client.state = first
    client.frames.clear()
    for message in first.get("messages", []):
        client.last_seq = max(client.last_seq, int(message["seq"]))
    return client


async def close_all(clients: Iterable[Client]) -> None:
    await asyncio.gather(*(client.close() for client in clients), return_exceptions=True)
