"""The bench's clinic: a fresh database, people and sessions made by the contract's commands, logins over HTTP.

People: a pool of facilitators and patients (default 4 + 44). Each bench room is
a group session of one facilitator and CLIENTS-1 patients drawn from the pool,
so 50 rooms need 48 accounts, not 600: a password hash costs ~0.5 s by design,
at `create_member` and again at each login, and only the setup pays for it.
Every (person, room) pair is still its own participant with its own presence,
rate limit and connection; a person simply has several rooms open at once.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from bench.servers import run_checked
from tests.e2e import login  # the same CSRF sign-in the e2e tests use

DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
# What a server or command inherits from the bench's own environment: nothing Circle reads.
# Also a deployment's sizing (docs/deploy.md), so that a run can measure it, e.g. ASGI_THREADS=8 as in
# docker-compose.yml; unset, daphne's thread pool has Python's default size (cores + 4).
_INHERITED = {"PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "VIRTUAL_ENV"}
_INHERITED |= {"ASGI_THREADS", "DB_POOL_SIZE", "DB_PREPARED_STATEMENTS"}
_INHERITED_PREFIXES = ("LC_", "PG", "SSL_CERT_")
# The bench raises the per-person rate limit by the documented setting (CHAT_RATE_LIMIT), nothing else.
# Its size costs Circle nothing: the check reads the sender's sends in the last 10 s, however high the limit.
BENCH_RATE_LIMIT = 1_000_000


def postgres_admin_url() -> str:
    return os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("TEST_POSTGRES_URL") or DEFAULT_POSTGRES


def redis_url() -> str:
    return os.environ.get("BENCH_REDIS_URL") or os.environ.get("TEST_REDIS_URL") or DEFAULT_REDIS


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + quote(name), parts.query, ""))


@dataclass
class Clinic:
    """A provisioned database and what the bench made in it."""

    database_url: str
    redis_url: str | None
    run_id: str = field(default_factory=lambda: secrets.token_hex(4))
    password: str = field(default_factory=lambda: f"bench-{secrets.token_hex(8)}")
    facilitators: list[str] = field(default_factory=list)
    patients: list[str] = field(default_factory=list)
    # clients per room -> session ids, provisioned on demand and reused by every load and run.
    sessions: dict[int, list[int]] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)
    cookies_at: float = 0.0
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))
    setup_seconds: float = 0.0

    def env(self, **extra: str | None) -> dict[str, str]:
        """The complete environment of every Circle process and command of this clinic."""
        env = {
            name: value
            for name, value in os.environ.items()
            if name in _INHERITED or name.startswith(_INHERITED_PREFIXES)
        }
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            DATABASE_URL=self.database_url,
            SECRET_KEY=self.secret_key,
            DEBUG="0",
            ALLOWED_HOSTS="localhost,127.0.0.1",
            CHANNEL_LAYER_PREFIX=f"circle-bench-{self.run_id}",
            CHAT_RATE_LIMIT=str(BENCH_RATE_LIMIT),
            PYTHONUNBUFFERED="1",
            PYTHONPATH=str(_repo()),
        )
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        for name, value in extra.items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        return env

    # ------------------------------------------------------------ provisioning

    def provision_people(self, facilitators: int, patients: int) -> None:
        """create_member for the pool, in two child processes (password hashing is the cost)."""
        started = time.monotonic()
        new_f = [f"bf{index}" for index in range(len(self.facilitators), facilitators)]
        new_p = [f"bp{index}" for index in range(len(self.patients), patients)]
        members = [[name, "facilitator", f"Facilitator {name[2:]}", self.password] for name in new_f]
        members += [[name, "patient", f"Patient {name[2:]}", self.password] for name in new_p]
        if members and self.database_url.startswith("sqlite"):
            self._provision({"members": members})  # one writer: SQLite's journal-mode switch does not wait
        elif members:
            halves = [members[0::2], members[1::2]]  # two processes: hashing is the cost
            with ThreadPoolExecutor(max_workers=2) as pool:
                list(pool.map(lambda part: self._provision({"members": part}), [h for h in halves if h]))
        self.facilitators += new_f
        self.patients += new_p
        self.setup_seconds += time.monotonic() - started

    def session_ids(self, rooms: int, clients: int) -> list[int]:
        """`rooms` group sessions of one facilitator and clients-1 patients each (schedule_session)."""
        if clients < 2:
            raise ValueError("a bench room needs at least 2 clients (a facilitator and a patient)")
        if clients - 1 > len(self.patients):
            raise ValueError(f"{clients} clients per room need at least {clients - 1} patients in the pool")
        have = self.sessions.setdefault(clients, [])
        if len(have) < rooms:
            started = time.monotonic()
            sessions = []
            for index in range(len(have), rooms):
                facilitator = self.facilitators[index % len(self.facilitators)]
                roster = [self.patients[(index * (clients - 1) + j) % len(self.patients)] for j in range(clients - 1)]
                sessions.append([f"Bench room {clients}x{index}", facilitator, roster])
            have += self._provision({"sessions": sessions})["session_ids"]
            self.setup_seconds += time.monotonic() - started
        return have[:rooms]

    def roster(self, room_index: int, clients: int) -> list[str]:
        """Usernames in connection order: the facilitator first, then the patients."""
        facilitator = self.facilitators[room_index % len(self.facilitators)]
        patients = [self.patients[(room_index * (clients - 1) + j) % len(self.patients)] for j in range(clients - 1)]
        return [facilitator, *patients]

    def _provision(self, job: Mapping[str, object]) -> dict[str, Any]:  # bench.provision's JSON reply
        out = run_checked([sys.executable, "-m", "bench.provision"], self.env(), stdin=json.dumps(job))
        return json.loads(out.strip().splitlines()[-1])

    # ------------------------------------------------------------ logins

    def login_all(self, base_url: str, *, max_age: float = 900) -> dict[str, str]:
        """Sign everyone in over HTTP (CSRF and all); cookies are kept for max_age seconds (idle timeout: 30 min)."""
        if self.cookies and time.monotonic() - self.cookies_at < max_age:
            return self.cookies
        started = time.monotonic()
        people = self.facilitators + self.patients
        with ThreadPoolExecutor(max_workers=4) as pool:
            cookies = list(pool.map(lambda name: login(base_url, name, self.password), people))
        self.cookies = dict(zip(people, cookies, strict=True))
        self.cookies_at = time.monotonic()
        self.setup_seconds += self.cookies_at - started
        return self.cookies


@contextlib.contextmanager
def clinic(config: str, *, keep: bool = False) -> Iterator[Clinic]:
    """A fresh, migrated database for one bench invocation.

    embedded: a SQLite file (in-memory layer); production: a new PostgreSQL database (and Redis).
    """
    if config == "embedded":
        directory = tempfile.mkdtemp(prefix="circle-bench-")
        made = Clinic(database_url=f"sqlite:///{directory}/circle.sqlite3", redis_url=None)
        try:
            run_checked([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], made.env())
            yield made
        finally:
            if not keep:
                shutil.rmtree(directory, ignore_errors=True)
        return
    if config != "production":
        raise ValueError(f"unknown configuration {config!r} (embedded or production)")
    import psycopg

    admin_url = postgres_admin_url()
    name = f"circle_bench_{secrets.token_hex(5)}"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    made = Clinic(database_url=_with_database(admin_url, name), redis_url=redis_url())
    try:
        run_checked([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], made.env())
        yield made
    finally:
        if not keep:
            with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            _forget_redis_keys(made)


def _forget_redis_keys(made: Clinic) -> None:
    """Drop this run's channel-layer keys (they would expire by themselves within an hour)."""
    with contextlib.suppress(Exception):
        import redis

        client = redis.Redis.from_url(made.redis_url or redis_url(), socket_timeout=5)
        prefix = f"circle-bench-{made.run_id}"
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
        client.close()


def _repo() -> str:
    from bench.servers import REPO

    return str(REPO)
