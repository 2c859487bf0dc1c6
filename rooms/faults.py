"""Outages of the services a worker depends on, told apart from bugs.

PostgreSQL or Redis going away is an expected fault: the worker says so in one
log line (no traceback), tells the clients, and recovers by itself when the
service returns (docs/deploy.md, "Faults and what people see"). Anything else
is a bug and keeps its traceback.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from channels.db import database_sync_to_async
from django.db import DatabaseError, InterfaceError, OperationalError
from django.utils.translation import gettext_lazy as _

T = TypeVar("T")
P = ParamSpec("P")

try:  # psycopg_pool's PoolTimeout / TooManyRequests are psycopg.OperationalError subclasses
    from psycopg import Error as _PsycopgError

    _PSYCOPG: tuple[type[BaseException], ...] = (_PsycopgError,)
except ImportError:  # SQLite-only installations
    _PSYCOPG = ()

try:
    from redis.exceptions import ConnectionError as _RedisConnectionError
    from redis.exceptions import TimeoutError as _RedisTimeoutError

    _REDIS: tuple[type[BaseException], ...] = (_RedisConnectionError, _RedisTimeoutError)
except ImportError:  # in-memory layer only
    _REDIS = ()

# The database could not be reached: nothing was stored.
DATABASE_ERRORS: tuple[type[BaseException], ...] = (DatabaseError, InterfaceError, *_PSYCOPG)
# The channel layer (Redis) could not be reached: live events may have been lost.
LAYER_ERRORS: tuple[type[BaseException], ...] = (*_REDIS, OSError, TimeoutError)
OUTAGE_ERRORS: tuple[type[BaseException], ...] = DATABASE_ERRORS + LAYER_ERRORS

# WebSocket close codes (RFC 6455 / IANA) that mean "reconnect and resume with ?since=".
SERVICE_RESTART = 1012  # this worker is going away, or live updates are back: reconnect now
TRY_AGAIN_LATER = 1013  # the database is unavailable right now: reconnect with backoff

# Worded for each connection in its person's language when it is sent (RoomHub._notice).
LIVE_PAUSED = _(
    "Live updates are interrupted. You can keep writing: what you send is saved, "
    "and the room catches up as soon as they are back."
)


class DatabaseUnavailable(OperationalError):
    """Refused without trying: the database was unreachable a moment ago (DatabaseBreaker)."""


def _is_connection_failure(error: BaseException) -> bool:
    """The database could not be reached at all, as opposed to one statement failing (a deadlock, a timeout)."""
    if isinstance(error, DatabaseUnavailable):
        return False  # our own refusal says nothing new
    cause = error if not isinstance(error, DatabaseError | InterfaceError) else (error.__cause__ or error)
    if isinstance(cause, InterfaceError) or type(cause).__name__ in {"PoolTimeout", "PoolClosed", "TooManyRequests"}:
        return True
    if _PSYCOPG and isinstance(cause, _PsycopgError):
        sqlstate = getattr(cause, "sqlstate", None)
        # No SQLSTATE: the client could not talk to the server (refused, reset, closed).
        # 08xxx connection exceptions; 57P01-03 admin shutdown, crash shutdown, cannot connect now.
        return sqlstate is None or sqlstate.startswith("08") or sqlstate in {"57P01", "57P02", "57P03"}
    return False


@dataclass(frozen=True, slots=True)
class Admission:
    """A call let through by the breaker: `record` its outcome with this."""

    generation: int  # how many healthy answers the breaker had seen when it let the call through
    probe: bool  # the one call that tries the database while the breaker is open


class DatabaseBreaker:
    """Fail fast while the database is known to be unreachable, probing with one call at a time.

    Without it, every call during an outage waits for the pool's timeout on one of
    the worker's few threads; calls queue behind each other and a chat.send could
    wait far longer than the client does, which is silence. With it, a call made
    within OPEN_SECONDS of a connection failure is refused at once with
    DatabaseUnavailable (an OperationalError: the callers' usual `unavailable`),
    and after that one call at a time probes the database; its success closes
    the breaker, and calls go through at once.

    A connection failure opens it only if the database has not answered since that
    call was let through (`Admission.generation`): calls that began before a healthy
    answer (waiting for the pool's timeout, or on a connection that died with the old
    server) fail after it, and they say nothing about the database now. They used to
    re-open the breaker for another second after the probe had found it back.
    Used on the event loop only (no locking needed); `clock` is injectable for tests.
    """

    OPEN_SECONDS = 1.0

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.open_until = 0.0
        self.probing = False
        self.generation = 0  # healthy answers seen

    @property
    def is_open(self) -> bool:
        return self.open_until > 0.0

    def admit(self) -> Admission | None:
        """May a database call go ahead now? Every admitted call must be followed by `record`."""
        if self.open_until == 0.0:
            return Admission(self.generation, probe=False)
        if self.probing or self.clock() < self.open_until:
            return None
        self.probing = True
        return Admission(self.generation, probe=True)

    def record(self, admission: Admission, error: BaseException | None) -> None:
        if admission.probe:
            self.probing = False
        if error is not None and _is_connection_failure(error):
            if admission.generation == self.generation:  # nothing answered since this call began
                self.open_until = self.clock() + self.OPEN_SECONDS
        elif error is None or isinstance(error, Exception):
            # The database answered (an ActionError, a constraint: it is up).
            self.open_until = 0.0
            self.generation += 1

    def wrap(self, call: Callable[P, Awaitable[T]]) -> Callable[P, Coroutine[Any, Any, T]]:
        async def guarded(*args: P.args, **kwargs: P.kwargs) -> T:
            admission = self.admit()
            if admission is None:
                raise DatabaseUnavailable("the database was unreachable a moment ago")
            try:
                result = await call(*args, **kwargs)
            except BaseException as error:
                self.record(admission, error)
                raise
            self.record(admission, None)
            return result

        return guarded


database_breaker = DatabaseBreaker()


def db(action: Callable[..., Any], executor: ThreadPoolExecutor | None = None) -> Callable[..., Awaitable[Any]]:
    """Run a synchronous action on the thread pool (or on `executor`), with its own pooled connection.

    Refused at once (DatabaseUnavailable) while the database is known to be unreachable,
    so a client hears `unavailable` promptly instead of queueing for a thread.
    """
    return database_breaker.wrap(database_sync_to_async(action, thread_sensitive=False, executor=executor))
