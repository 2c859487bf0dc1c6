"""Refuse cross-site WebSocket handshakes (cross-site WebSocket hijacking).

Browsers always send `Origin` on a WebSocket handshake, so a page on another
site that tries to ride a patient's cookie is refused here. The host must equal
an ALLOWED_HOSTS entry exactly (".example.org" allows its subdomains, as Django
does): `http://localhost.evil.example` is not `localhost`. A client that sends
no Origin is not a browser and cannot carry someone else's cookie by accident;
it still needs a valid session cookie, so it is let through.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import validate_host


def origin_allowed(origin: str | None, allowed_hosts: list[str]) -> bool:
    if origin is None:
        return True
    try:
        parts = urlsplit(origin)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return False
    if parts.scheme not in {"http", "https"} or not host:
        return False
    return validate_host(host, allowed_hosts)


class OriginCheck:
    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        origin = None
        for name, value in scope.get("headers", []):
            if name == b"origin":
                origin = value.decode("latin1")
        if origin_allowed(origin, settings.ALLOWED_HOSTS):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)
