"""HTTP security middleware and log redaction (issue 9; docs/security.md explains each control).

- ContentSecurityPolicyMiddleware: a strict CSP on every response (Django 5.2 has none built in).
- NoStoreMiddleware: no page Django answers may be cached (issue 22).
- IdleTimeoutMiddleware: a signed-in session idle for IDLE_TIMEOUT_SECONDS is signed out.
- SecondFactorMiddleware: with FACILITATOR_2FA on, a facilitator who has not passed the
  TOTP step after the password reaches nothing but the verify page (and sign-out).
- RedactingFormatter, redact_daphne_access_log: keep cookies, join tokens and passwords
  out of every log line.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.cache import add_never_cache_headers

from accounts.idle import LAST_ACTIVITY_KEY, ending, has_identity

Middleware = Callable[[HttpRequest], HttpResponse]


def content_security_policy(request: HttpRequest) -> str:
    """default-src 'self' and no inline script: sanitized chat HTML can never run code.

    connect-src names the WebSocket origin explicitly as well: CSP 3 lets
    'self' cover ws/wss of the same host, older engines do not.
    """
    host = request.get_host()  # validated against ALLOWED_HOSTS by now
    sockets = f"wss://{host}" if request.is_secure() else f"ws://{host} wss://{host}"
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            f"connect-src 'self' {sockets}",
            "object-src 'none'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'self'",
        ]
    )


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Middleware) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = content_security_policy(request)
        return response


class NoStoreMiddleware:
    """`Cache-Control: no-store` (with private, no-cache, max-age=0) on every page Django answers.

    Nearly every page shows session content or a name (the dashboard, the room, the agenda,
    the join page, invitations, attendance, transcripts, the audit log...), and a shared or
    back-button cache must keep none of them. One place for all of them, so a new page
    cannot forget it; only the static files (served by WhiteNoise, which answers before
    this middleware runs) stay cacheable.
    """

    def __init__(self, get_response: Middleware) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        add_never_cache_headers(response)
        return response


class IdleTimeoutMiddleware:
    """Automatic logoff (HIPAA 164.312(a)(2)(iii)), and an upper bound on any sign-in (SESSION_COOKIE_AGE).

    The session remembers when its owner was last active (HTTP requests here,
    WebSocket frames through rooms.socket_guard.SocketGuard). Past the timeout
    the request is served signed out and the person is logged out, which
    closes their open room sockets (accounts.signals.signed_out). The timestamp is written
    at most every SESSION_ACTIVITY_WRITE_SECONDS, not on every request.
    """

    def __init__(self, get_response: Middleware) -> None:
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
                f"You were signed out after {minutes} minutes without activity, to keep the group private."
                if reason == "idle"
                else "Your sign-in has expired. Please sign in again."
            )
            messages.info(request, notice, fail_silently=True)
            if request.method == "GET" and request.path != settings.LOGIN_URL:
                return HttpResponseRedirect(f"{settings.LOGIN_URL}?next={quote(request.get_full_path())}")
            return self.get_response(request)
        if not isinstance(last, int | float) or now - last >= settings.SESSION_ACTIVITY_WRITE_SECONDS:
            session[LAST_ACTIVITY_KEY] = now
        return self.get_response(request)


# Paths a facilitator may reach between the password and the second factor.
SECOND_FACTOR_OPEN_PATHS = ("/accounts/verify/", "/accounts/logout/", "/static/", "/healthz")


class SecondFactorMiddleware:
    """FACILITATOR_2FA=1: facilitators must pass the TOTP step (accounts.views.verify) after the password."""

    def __init__(self, get_response: Middleware) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.FACILITATOR_2FA and not request.path.startswith(SECOND_FACTOR_OPEN_PATHS):
            user = request.user
            if user.is_authenticated and getattr(user, "is_facilitator", False) and not user.is_verified():
                return HttpResponseRedirect(f"/accounts/verify/?next={quote(request.get_full_path())}")
        return self.get_response(request)


# ---------------------------------------------------------------- logs

_REDACTIONS = [
    # A guest's join link is a bearer credential until it is redeemed.
    (re.compile(r"/join/[^/\s\"'?]+"), "/join/[redacted]"),
    # Cookies and CSRF tokens, however they reach a log line (headers, reprs, query strings).
    (
        re.compile(r"(?i)\b(sessionid|csrftoken|csrfmiddlewaretoken)(['\"]?\s*[=:]\s*['\"]?)[^;,\s'\"&]+"),
        r"\1\2[redacted]",
    ),
    (re.compile(r"(?i)\b(cookie)(['\"]?\s*[=:]\s*['\"]?)[^'\"\n]+"), r"\1\2[redacted]"),
    (re.compile(r"(?i)\b(password|passwd|token)(['\"]?\s*[=:]\s*['\"]?)[^;,\s'\"&]+"), r"\1\2[redacted]"),
]


def redact(text: str) -> str:
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFormatter(logging.Formatter):
    """The formatter of Circle's log handlers: every finished line (traceback included) is redacted.

    Message text never reaches a logger in the first place (nothing logs it);
    this catches what libraries log on their own (request paths of 4xx
    responses, headers or cookies in debug output).
    """

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def redact_daphne_access_log() -> None:
    """Daphne writes its access log (on by default) straight to stdout, past `logging`: redact it too."""
    try:
        from daphne.access import AccessLogGenerator
    except ImportError:  # pragma: no cover - daphne is a dependency
        return
    if getattr(AccessLogGenerator.write_entry, "circle_redacted", False):
        return
    original = AccessLogGenerator.write_entry

    def write_entry(
        self: AccessLogGenerator, host: str, date: object, request: str, *args: object, **kwargs: object
    ) -> None:
        original(self, host, date, redact(request), *args, **kwargs)

    write_entry.circle_redacted = True  # type: ignore[attr-defined]
    AccessLogGenerator.write_entry = write_entry  # type: ignore[method-assign]
