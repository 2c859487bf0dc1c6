"""Where the real PostgreSQL and Redis are, and whether they answer.

Service-backed tests skip with a clear reason on a machine without them, and
fail instead when CI=true: in CI a skipped service test would hide a regression.
"""

from __future__ import annotations

import os
import socket
from functools import cache
from urllib.parse import urlparse

import pytest

DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


def postgres_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        return url
    return os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES)


def redis_url() -> str:
    return os.environ.get("REDIS_URL") or os.environ.get("TEST_REDIS_URL", DEFAULT_REDIS)


@cache
def answers(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 0), timeout=1):
            return True
    except OSError:
        return False


def require_services() -> None:
    missing = [name for name, url in (("PostgreSQL", postgres_url()), ("Redis", redis_url())) if not answers(url)]
    if not missing:
        return
    reason = f"{' and '.join(missing)} not reachable ({postgres_url()}, {redis_url()})"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {reason}: service-backed tests must run in CI", pytrace=False)
    pytest.skip(f"service-backed test: {reason}")
