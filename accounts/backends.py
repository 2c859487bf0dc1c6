"""Password sign-in, throttled: while a username or an address is locked out, no password is checked."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest
from django.utils import timezone

from accounts.actions import login_lock


def client_address(request: HttpRequest | None) -> str | None:
    """The peer's address. Behind a proxy, run daphne with --proxy-headers so this is the client's."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


class ThrottledModelBackend(ModelBackend):
    """Every password sign-in (the login page and the admin's) passes through here."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> Any:
        if request is not None and username is not None:
            lock = login_lock(username, client_address(request), timezone.now())
            if lock is not None:
                # Remembered for the signal handler (audit) and the form (message).
                request.circle_login_lock = lock  # type: ignore[attr-defined]
                return None
        return super().authenticate(request, username=username, password=password, **kwargs)
