"""The room socket's middleware stack: the same session and user as Channels' AuthMiddlewareStack,
and the server's own `send` for every frame (no session check per delivery; rooms.socket_session)."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async

from accounts.models import Member
from rooms.socket_session import SocketAuthMiddlewareStack
from tests.conftest import cookie_for

pytestmark = pytest.mark.django_db(transaction=True)


class Inner:
    """An application that records what the middleware gave it."""

    def __init__(self) -> None:
        self.scope: dict[str, Any] = {}
        self.send: Any = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.scope, self.send = scope, send


async def server_send(message: dict[str, Any]) -> None:
    """The server's send, as daphne hands it to the application."""


async def receive() -> dict[str, Any]:
    raise AssertionError("the middleware must not read frames")


def scope_with(kind: str, cookie: str) -> dict[str, Any]:
    return {"type": kind, "path": "/ws/sessions/1/", "headers": [(b"cookie", cookie.encode())]}


async def call_stack(inner: Inner, scope: dict[str, Any]) -> None:
    """The stack, called as the server calls it (types-channels types full ASGI scopes; these are the parts read)."""
    stack: Any = SocketAuthMiddlewareStack(inner)
    await stack(scope, receive, server_send)


async def test_a_socket_gets_its_session_and_user_and_the_servers_own_send(alex: Member) -> None:
    cookie = await sync_to_async(cookie_for)(alex)
    inner = Inner()
    await call_stack(inner, scope_with("websocket", cookie))
    assert inner.send is server_send  # Channels' stack hands the application its session wrapper's send
    assert inner.scope["session"].session_key == cookie.removeprefix("sessionid=")
    assert inner.scope["user"].pk == alex.pk


async def test_a_socket_without_a_cookie_is_anonymous(db: None) -> None:
    inner = Inner()
    await call_stack(inner, {"type": "websocket", "path": "/ws/sessions/1/", "headers": []})
    assert inner.send is server_send
    assert inner.scope["session"].session_key is None
    assert not inner.scope["user"].is_authenticated


async def test_http_keeps_channels_session_saving_send(alex: Member) -> None:
    """Only a WebSocket can do without it: an HTTP response must still save the session and set its cookie."""
    cookie = await sync_to_async(cookie_for)(alex)
    inner = Inner()
    await call_stack(inner, scope_with("http", cookie))
    assert inner.send is not server_send
    assert inner.send.__func__.__qualname__ == "InstanceSessionWrapper.send"
