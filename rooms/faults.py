"""Outages of the services a worker depends on, told apart from bugs.

PostgreSQL or Redis going away is an expected fault: the worker says so in one
log line (no traceback), tells the clients, and recovers by itself when the
service returns (docs/deploy.md, "Faults and what people see"). Anything else
is a bug and keeps its traceback.
"""

from __future__ import annotations

from django.db import DatabaseError, InterfaceError

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

LIVE_PAUSED = (
    "Live updates are interrupted. You can keep writing: what you send is saved, "
    "and the room catches up as soon as they are back."
)
