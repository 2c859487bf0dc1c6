"""Refuse cross-site WebSocket handshakes (cross-site WebSocket hijacking).

Browsers always send `Origin` on a WebSocket handshake, so a page on another
site that tries to ride a patient's cookie is refused here. An origin is its
scheme, host AND port (RFC 6454): another service on the same host but another
port or scheme is another site, and its pages must not open a socket with the
user's cookie (issue 22).

- By default the allowed origins are each ALLOWED_HOSTS host (exactly; a leading
  dot allows that domain's subdomains, as Django does) on the scheme and port that
  served the handshake: the page and its socket come from the same server.
- Behind a proxy that server is not what the browser saw: ALLOWED_ORIGINS (full
  origins, config.env.env_origins) then replaces the default.

A client that sends no Origin is not a browser and cannot carry someone else's
cookie by accident; it still needs a valid session cookie, so it is let through.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import validate_host

from config.env import DEFAULT_PORTS, Origin, parse_origin

if TYPE_CHECKING:  # the stubs' name for a consumer's scope (types-channels); no such name at run time
    from channels.consumer import _ChannelScope

# The page's scheme for each socket scheme (ASGI's default scheme is ws).
PAGE_SCHEMES = {"ws": "http", "wss": "https"}


def served_origin_parts(scope: dict[str, Any]) -> tuple[str, int]:
    """The scheme of the pages and the port that served this handshake."""
    scheme = PAGE_SCHEMES.get(scope.get("scheme") or "ws", "http")
    server = scope.get("server")
    port = server[1] if server and len(server) > 1 and isinstance(server[1], int) else None
    return scheme, DEFAULT_PORTS[scheme] if port is None else port


def origin_allowed(
    origin: str | None,
    allowed_hosts: list[str],
    *,
    scheme: str,
    port: int,
    allowed_origins: Iterable[Origin] = (),
) -> bool:
    """May a page of `origin` open a socket served on `scheme` (http|https) and `port`?"""
    if origin is None:
        return True
    parsed = parse_origin(origin)
    if parsed is None:
        return False
    allowed_origins = list(allowed_origins)
    if allowed_origins:
        return parsed in allowed_origins
    return parsed.scheme == scheme and parsed.port == port and validate_host(parsed.host, allowed_hosts)


class OriginCheck:
    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        origins = [value.decode("latin1") for name, value in scope.get("headers", []) if name.lower() == b"origin"]
        scheme, port = served_origin_parts(scope)
        # Two Origin headers are never a browser's: refuse rather than pick one.
        if len(origins) <= 1 and origin_allowed(
            origins[0] if origins else None,
            settings.ALLOWED_HOSTS,
            scheme=scheme,
            port=port,
            allowed_origins=settings.ALLOWED_ORIGINS,
        ):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(cast("_ChannelScope", scope), receive, send)
