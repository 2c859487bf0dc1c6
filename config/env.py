"""Small typed readers for configuration from the environment.

Every setting Circle reads comes through here, so a bad value fails at
start-up with one clear line naming the variable instead of surfacing later.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import Any, NamedTuple
from urllib.parse import parse_qs, unquote, urlparse, urlsplit

from django.core.exceptions import ImproperlyConfigured


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be 1 or 0, not {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name} must be at most {maximum}, not {value}")
    return value


def env_choice(name: str, default: str, choices: Sequence[str]) -> str:
    """One of `choices` (LANGUAGE_CODE: one of LANGUAGES); unset or empty: `default`."""
    value = env_str(name) or default
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def env_retired(name: str, reason: str, *, only: str) -> None:
    """A choice Circle no longer offers. Unset, or set to `only` (what Circle now always does, so an existing
    deployment's environment file keeps working), it is fine; any other value stops start-up with one line
    naming it: running something other than what was asked for would be a silent change."""
    value = env_str(name).strip()
    if value and value.lower() != only:
        raise ImproperlyConfigured(f"{name}={value} is no longer offered ({reason}): unset it")


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def env_map(name: str, default: str) -> dict[str, str]:
    """Comma separated key=value pairs (SERVICE_CODES=group=90853,individual=90834)."""
    pairs = {}
    for item in env_list(name, default):
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ImproperlyConfigured(f"{name} must be key=value pairs separated by commas, not {item!r}")
        pairs[key.strip()] = value.strip()
    return pairs


class Origin(NamedTuple):
    """A web origin (RFC 6454) as compared: scheme and host lower case, the port always given."""

    scheme: str
    host: str
    port: int


DEFAULT_PORTS = {"http": 80, "https": 443}
# What a browser sends as Origin: scheme://host[:port], nothing else (no userinfo, path, query,
# backslash); anything else is refused before parsing, so parser quirks cannot help.
ORIGIN_SHAPE = re.compile(r"(?i:https?)://(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")


def parse_origin(text: str) -> Origin | None:
    """The origin in an Origin header or ALLOWED_ORIGINS entry; None when it is not one."""
    if not ORIGIN_SHAPE.fullmatch(text):
        return None
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:  # a port out of range
        return None
    scheme = parts.scheme.lower()
    if not parts.hostname:
        return None
    return Origin(scheme, parts.hostname, DEFAULT_PORTS[scheme] if port is None else port)


def env_origins(name: str) -> list[Origin]:
    """Comma separated full origins (https://clinic.example, http://10.0.0.5:8000); unset: none."""
    origins = []
    for item in env_list(name, ""):
        origin = parse_origin(item)
        if origin is None:
            raise ImproperlyConfigured(f"{name} must list origins such as https://clinic.example, not {item!r}")
        origins.append(origin)
    return origins


# psycopg prepares a statement after this many runs, or at once when `execute(prepare=True)` asks.
PREPARE_ONLY_WHEN_ASKED = 2**31 - 1


# A settings entry (DATABASES["default"]; channel_layers_from_url's CHANNEL_LAYERS too): nested dicts of
# mixed values, which Django's own types leave as Any.
def database_from_url(url: str, *, default_sqlite_path: str) -> dict[str, Any]:
    """Translate DATABASE_URL (sqlite:///path or postgres://...) into Django's DATABASES entry."""
    if not url:
        url = f"sqlite:///{default_sqlite_path}"
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        if not url.startswith("sqlite:///"):
            raise ImproperlyConfigured(f"DATABASE_URL for SQLite must look like sqlite:///path, not {url!r}")
        # sqlite:///relative.db or sqlite:////absolute/path.db
        path = unquote(url[len("sqlite:///") :]) or default_sqlite_path
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": path,
            "OPTIONS": {
                # Several threads write: take the write lock when the
                # transaction begins, and wait for it instead of failing.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            # Each thread keeps its connection (the threads are a fixed pool, so they are few).
            # Opening one per action ran Django's set-up every time, and closing the last open
            # one checkpointed the WAL: together a quarter of the worker's samples under load
            # (docs/performance-journal.md, sixth round).
            "CONN_MAX_AGE": None,
            # A file, not :memory:: tests reach the database from several threads.
            # One per test process, so parallel runs on one machine do not collide.
            "TEST": {"NAME": f"{path}.test-{os.getpid()}"},
        }
    if parsed.scheme in {"postgres", "postgresql", "pgsql"}:
        options: dict[str, object] = {
            # Daphne runs database work in worker threads and CONN_MAX_AGE
            # must stay 0 under ASGI; the pool keeps connect cost off each call.
            "pool": {
                "min_size": 2,
                "max_size": env_int("DB_POOL_SIZE", 10, minimum=1),
                # The pool holds more connections than the worker has threads, so a healthy
                # worker never waits for one: a wait this long means PostgreSQL is away, and
                # the caller gets `unavailable` instead of silence (docs/deploy.md).
                "timeout": env_int("DB_POOL_TIMEOUT", 3, minimum=1),
                # psycopg_pool retries a lost connection with doubling delays for this long, then
                # lets the next request start afresh: recovery within seconds of PostgreSQL's
                # return, not after a back-off grown during a long outage (default 300 s).
                "reconnect_timeout": 10,
            },
        }
        if env_bool("DB_PREPARED_STATEMENTS", True):
            # Django turns psycopg's preparation off (prepare_threshold None), and then even
            # `prepare=True` prepares nothing. Django's own cursors bind on the client and never
            # prepare whatever the threshold, so this reaches only chat.send's few statements,
            # which ask for it: planning the sender's read cost PostgreSQL three times what running
            # it did (docs/performance-journal.md, seventh round). Off for a pooler that cannot keep
            # protocol-level prepared statements (docs/deploy.md).
            options["prepare_threshold"] = PREPARE_ONLY_WHEN_ASKED
        query = parse_qs(parsed.query)
        if "sslmode" in query:
            options["sslmode"] = query["sslmode"][0]
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")) or "circle",
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            "CONN_MAX_AGE": 0,
            "OPTIONS": options,
            "TEST": {"NAME": f"test_{unquote(parsed.path.lstrip('/')) or 'circle'}_{os.getpid()}"},
        }
    raise ImproperlyConfigured(
        f"DATABASE_URL must start with sqlite:/// or postgres://, not {parsed.scheme or url!r}://"
    )


# Circle runs channels-redis's default layer (lists and sorted sets, delivery guarantees
# per channel) in a subclass with fewer round trips per event (rooms.core_layer), and only
# that one: it met every target of the first round (docs/performance-journal.md), no need for the
# pub/sub layer Circle also ran until issue 21 (REDIS_LAYER, now refused: config.settings).
REDIS_LAYER_BACKEND = "rooms.core_layer.BatchedRedisChannelLayer"


def channel_layers_from_url(url: str, *, encryption_key: str = "", prefix: str = "circle") -> dict[str, Any]:
    """REDIS_URL set: channels-redis shared by every worker; unset: one process, in memory."""
    if not url:
        return {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 1000}}}
    parsed = urlparse(url)
    if parsed.scheme not in {"redis", "rediss"}:
        raise ImproperlyConfigured(f"REDIS_URL must start with redis:// or rediss://, not {url!r}")
    # redis-py 8 closes sockets idle for 5 s by default, which kills the
    # blocking reads of idle consumers (channels_redis#422).
    hosts = [{"address": url, "socket_timeout": None, "socket_connect_timeout": 5}]
    config: dict[str, object] = {
        "hosts": hosts,
        # One layer message per worker per room (see rooms.broadcast), so the
        # per-channel capacity bounds bursts per worker, not per person.
        "capacity": 5000,
        "expiry": 60,
        # Group membership is refreshed by each worker's heartbeat, so a dead
        # worker's subscriptions lapse within this many seconds.
        "group_expiry": 3600,
        # Several Circle installations (or test runs) may share one Redis.
        "prefix": prefix,
    }
    if encryption_key:
        config["symmetric_encryption_keys"] = [encryption_key]
    return {"default": {"BACKEND": REDIS_LAYER_BACKEND, "CONFIG": config}}


class EmailSettings(NamedTuple):
    """Django's EMAIL_* settings read from EMAIL_URL; `enabled` False: no mail at all (the dummy backend)."""

    backend: str
    enabled: bool
    host: str = "localhost"
    port: int = 25
    user: str = ""
    password: str = ""
    use_tls: bool = False
    file_path: str = ""


def email_from_url(url: str, *, debug: bool) -> EmailSettings:
    """EMAIL_URL: smtp://user:pw@host:port, smtp+tls://... (STARTTLS), console:, or file:///dir.

    Unset: the console with DEBUG on; otherwise no mail (a system check warns, program.checks).
    Django's file backend writes one file per connection, and program.mail sends each message
    on its own connection: one file per message.
    """
    if not url:
        if debug:
            return EmailSettings("django.core.mail.backends.console.EmailBackend", True)
        return EmailSettings("django.core.mail.backends.dummy.EmailBackend", False)
    parsed = urlparse(url)
    if parsed.scheme == "console":
        return EmailSettings("django.core.mail.backends.console.EmailBackend", True)
    if parsed.scheme == "file":
        if not parsed.path or parsed.path == "/":
            raise ImproperlyConfigured(f"EMAIL_URL for files must look like file:///path/to/dir, not {url!r}")
        return EmailSettings("django.core.mail.backends.filebased.EmailBackend", True, file_path=unquote(parsed.path))
    if parsed.scheme in {"smtp", "smtp+tls"}:
        try:
            port = parsed.port
        except ValueError:
            raise ImproperlyConfigured(f"EMAIL_URL has a bad port: {parsed.hostname}") from None
        if not parsed.hostname:
            raise ImproperlyConfigured("EMAIL_URL must name the SMTP host: smtp://user:password@host:port")
        return EmailSettings(
            "django.core.mail.backends.smtp.EmailBackend",
            True,
            host=parsed.hostname,
            port=port or 25,
            user=unquote(parsed.username or ""),
            password=unquote(parsed.password or ""),
            use_tls=parsed.scheme == "smtp+tls",
        )
    # Never echo the URL: it may hold the SMTP password.
    raise ImproperlyConfigured("EMAIL_URL must start with smtp://, smtp+tls://, console: or file://")
