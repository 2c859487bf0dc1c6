"""Automatic logoff: what the session remembers about its owner's last activity.

One timestamp per Django session (epoch seconds under LAST_ACTIVITY_KEY),
written by IdleTimeoutMiddleware (below) for HTTP requests and by
rooms.socket_guard.SocketGuard for WebSocket frames, at most every
SESSION_ACTIVITY_WRITE_SECONDS. Both sides end the session once it is older
than IDLE_TIMEOUT_SECONDS.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext

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


def idle_after(data: Mapping[str, Any], *, also_active_at: float | None = None) -> float:
    """After this time the sign-in is idle, unless there is activity meanwhile (inf: no activity known)."""
    known = [t for t in (last_activity(data), also_active_at) if t is not None]
    return max(known) + settings.IDLE_TIMEOUT_SECONDS if known else math.inf


def too_old_after(data: Mapping[str, Any]) -> float:
    """After this time the sign-in is too old, however active (inf: no sign-in time known)."""
    signed_in_at = data.get(SIGNED_IN_AT_KEY)
    return signed_in_at + settings.SESSION_COOKIE_AGE if isinstance(signed_in_at, int | float) else math.inf


def is_idle(data: Mapping[str, Any], now: float, *, also_active_at: float | None = None) -> bool:
    """Idle: the last activity known (stored, or `also_active_at`) is older than the timeout."""
    return now > idle_after(data, also_active_at=also_active_at)


def is_too_old(data: Mapping[str, Any], now: float) -> bool:
    """Signed in longer ago than SESSION_COOKIE_AGE (activity does not extend a sign-in past that)."""
    return now > too_old_after(data)


def ending(data: Mapping[str, Any], now: float, *, also_active_at: float | None = None) -> str | None:
    """Why this session must end now: "idle", "expired", or None."""
    if is_idle(data, now, also_active_at=also_active_at):
        return "idle"
    if is_too_old(data, now):
        return "expired"
    return None


class IdleTimeoutMiddleware:
    """Automatic logoff (HIPAA 164.312(a)(2)(iii)), and an upper bound on any sign-in (SESSION_COOKIE_AGE).

    The session remembers when its owner was last active (HTTP requests here,
    WebSocket frames through rooms.socket_guard.SocketGuard). Past the timeout
    the request is served signed out and the person is logged out, which
    closes their open room sockets (accounts.signals.signed_out). The timestamp is written
    at most every SESSION_ACTIVITY_WRITE_SECONDS, not on every request.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        if session is None or not has_identity(session):
            return self.get_response(request)
        now = time.time()
        last = session.get(LAST_ACTIVITY_KEY)
        reason = ending(session, now)
        if reason is not None:
            request.circle_signout_reason = reason  # type: ignore[attr-defined]
            logout(request)
            minutes = max(1, round(settings.IDLE_TIMEOUT_SECONDS / 60))
            notice = (
                gettext("You were signed out after %(minutes)s minutes without activity, to keep the group private.")
                % {"minutes": minutes}
                if reason == "idle"
                else gettext("Your sign-in has expired. Please sign in again.")
            )
            messages.info(request, notice, fail_silently=True)
            if request.method == "GET" and request.path != settings.LOGIN_URL:
                return HttpResponseRedirect(f"{settings.LOGIN_URL}?next={quote(request.get_full_path())}")
            return self.get_response(request)
        if not isinstance(last, int | float) or now - last >= settings.SESSION_ACTIVITY_WRITE_SECONDS:
            session[LAST_ACTIVITY_KEY] = now
        return self.get_response(request)
