"""HTTP security middleware and log redaction (issue 9; docs/security.md explains each control).

- ContentSecurityPolicyMiddleware: a strict CSP on every response (Django 5.2 has none built in).
- NoStoreMiddleware: no page Django answers may be cached (issue 22).
- SecondFactorMiddleware: with FACILITATOR_2FA on, a facilitator who has not passed the
  TOTP step after the password reaches nothing but the verify page (and sign-out).
- RedactingFormatter, redact_daphne_access_log: keep cookies, join tokens and passwords
  out of every log line.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from urllib.parse import quote, unquote

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.cache import add_never_cache_headers

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


# Paths a facilitator may reach between the password and the second factor.
# The verify page's own needs are open too: the scripts' catalogue (no data, only words) and the
# language switch (issue 26).
SECOND_FACTOR_OPEN_PATHS = (
    "/accounts/verify/", "/accounts/logout/", "/accounts/language/", "/jsi18n/", "/static/", "/healthz"
)


class SecondFactorMiddleware:
    """FACILITATOR_2FA=1: facilitators must pass the TOTP step (accounts.views.verify) after the password."""

    def __init__(self, get_response: Middleware) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.FACILITATOR_2FA and not request.path.startswith(SECOND_FACTOR_OPEN_PATHS):
            user = request.user
            # is_verified is added to request.user by django-otp's OTPMiddleware (untyped), earlier in MIDDLEWARE.
            if user.is_authenticated and getattr(user, "is_facilitator", False) and not user.is_verified():  # type: ignore[attr-defined]
                return HttpResponseRedirect(f"/accounts/verify/?next={quote(request.get_full_path())}")
        return self.get_response(request)


# ---------------------------------------------------------------- logs

# Bearer secrets by their SHAPE, wherever they stand in a line (issue 22). A guest's join
# token (secrets.token_urlsafe(24): 32 characters of A-Z a-z 0-9 - _), a session key
# (32 of a-z 0-9) and a CSRF token (64 of A-Z a-z 0-9) redeem only when the decoded path
# or value holds them whole, so whatever the path's case, slashes or percent-encoding
# (an encoded slash, a leading encoded space, a double encoding), the line holds them as a
# run of that alphabet once percent-decoded. A candidate is a run of that alphabet and of
# %XX escapes; it is a secret when, decoded, it holds a run of 32 such characters, or of
# 16 with a digit among them (a token cut in two). Shorter runs and plain words (module
# and class names in tracebacks) stay readable.
_CANDIDATE_RE = re.compile(r"(?:[A-Za-z0-9_\-]|%[0-9A-Fa-f]{2}){16,}")
_ALPHABET_RUN_RE = re.compile(r"[A-Za-z0-9_\-]{16,}")
SECRET_RUN = 32
PERCENT_DECODING_ROUNDS = 3  # %25 escapes: a double (or triple) encoding still decodes to the token


def percent_decoded(text: str) -> str:
    for _ in range(PERCENT_DECODING_ROUNDS):
        decoded = unquote(text)
        if decoded == text:
            break
        text = decoded
    return text


def looks_like_a_secret(candidate: str) -> bool:
    return any(
        len(run) >= SECRET_RUN or any(char.isdigit() for char in run)
        for run in _ALPHABET_RUN_RE.findall(percent_decoded(candidate))
    )


def _redact_shape(match: re.Match[str]) -> str:
    return "[redacted]" if looks_like_a_secret(match.group()) else match.group()


# Secrets by their name, however they reach a log line (headers, reprs, query strings): cookies,
# CSRF tokens and passwords, whatever their shape.
_NAMED_SECRETS = [
    (
        re.compile(r"(?i)\b(sessionid|csrftoken|csrfmiddlewaretoken)(['\"]?\s*[=:]\s*['\"]?)[^;,\s'\"&]+"),
        r"\1\2[redacted]",
    ),
    (re.compile(r"(?i)\b(cookie)(['\"]?\s*[=:]\s*['\"]?)[^'\"\n]+"), r"\1\2[redacted]"),
    (re.compile(r"(?i)\b(password|passwd|token)(['\"]?\s*[=:]\s*['\"]?)[^;,\s'\"&]+"), r"\1\2[redacted]"),
]


def redact_named(text: str) -> str:
    for pattern, replacement in _NAMED_SECRETS:
        text = pattern.sub(replacement, text)
    return text


def redact(text: str) -> str:
    """The line without bearer secrets (by shape, also percent-encoded) or named credentials."""
    text = redact_named(_CANDIDATE_RE.sub(_redact_shape, text))
    # A name may come percent-encoded too (pass%77ord=...): then the line is logged decoded and
    # redacted, its control characters escaped so that a decoded %0A cannot forge a log line.
    decoded = percent_decoded(text)
    if decoded != text and redact_named(decoded) != decoded:
        return "".join(char if char.isprintable() else repr(char)[1:-1] for char in redact_named(decoded))
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
    AccessLogGenerator.write_entry = write_entry
