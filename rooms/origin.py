"""Refuse cross-site WebSocket handshakes (cross-site WebSocket hijacking).

Browsers always send `Origin` on a WebSocket handshake, so a page on another
site that tries to ride a patient's cookie is refused here. The host must equal
an ALLOWED_HOSTS entry exactly (".example.org" allows its subdomains, as Django
does): `http://localhost.evil.example` is not `localhost`. A client that sends
no Origin is not a browser and cannot carry someone else's cookie by accident;
it still needs a valid session cookie, so it is let through.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import validate_host

# What a browser sends: scheme://host[:port], nothing else (no userinfo, path, query,
# backslash); anything else is refused before parsing, so parser quirks cannot help.
ORIGIN_SHAPE = re.compile(r"https?://(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")


def origin_allowed(origin: str | None, allowed_hosts: list[str]) -> bool:
    if origin is None:
        return True
    if not ORIGIN_SHAPE.fullmatch(origin):
        return False
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
        origins = [value.decode("latin1") for name, value in scope.get("headers", []) if name.lower() == b"origin"]
        # Two Origin headers are never a browser's: refuse rather than pick one.
        if len(origins) <= 1 and origin_allowed(origins[0] if origins else None, settings.ALLOWED_HOSTS):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)
