"""Automatic logoff: what the session remembers about its owner's last activity.

One timestamp per Django session (epoch seconds under LAST_ACTIVITY_KEY),
written by config.security.IdleTimeoutMiddleware for HTTP requests and by
rooms.socket_guard.SocketGuard for WebSocket frames, at most every
SESSION_ACTIVITY_WRITE_SECONDS. Both sides end the session once it is older
than IDLE_TIMEOUT_SECONDS.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.base import SessionBase

LAST_ACTIVITY_KEY = "circle_last_activity"
# When the member signed in (epoch seconds): a sign-in lasts at most SESSION_COOKIE_AGE.
SIGNED_IN_AT_KEY = "circle_signed_in_at"
# The key rooms.views.join stores a redeemed guest under (rooms.ws_auth.GUEST_SESSION_KEY).
GUEST_SESSION_KEY = "circle_guest"


def has_identity(session: Mapping[str, Any]) -> bool:
    """Does this session sign someone in (a member, or a guest holding a redeemed pass)?"""
    return SESSION_KEY in session or isinstance(session.get(GUEST_SESSION_KEY), dict)


def session_store(session_key: str | None) -> SessionBase:
    engine = import_module(settings.SESSION_ENGINE)
    return engine.SessionStore(session_key)


def last_activity(data: Mapping[str, Any]) -> float | None:
    value = data.get(LAST_ACTIVITY_KEY)
    return float(value) if isinstance(value, int | float) else None


def is_idle(data: Mapping[str, Any], now: float, *, also_active_at: float | None = None) -> bool:
    """Idle: the last activity known (stored, or `also_active_at`) is older than the timeout."""
    known = [t for t in (last_activity(data), also_active_at) if t is not None]
    return bool(known) and now - max(known) > settings.IDLE_TIMEOUT_SECONDS


def is_too_old(data: Mapping[str, Any], now: float) -> bool:
    """Signed in longer ago than SESSION_COOKIE_AGE (activity does not extend a sign-in past that)."""
    signed_in_at = data.get(SIGNED_IN_AT_KEY)
    return isinstance(signed_in_at, int | float) and now - signed_in_at > settings.SESSION_COOKIE_AGE


def ending(data: Mapping[str, Any], now: float, *, also_active_at: float | None = None) -> str | None:
    """Why this session must end now: "idle", "expired", or None."""
    if is_idle(data, now, also_active_at=also_active_at):
        return "idle"
    if is_too_old(data, now):
        return "expired"
    return None
