"""The room socket's middleware stack: Channels' AuthMiddlewareStack without a wrapper around every frame sent.

Channels' SessionMiddleware hands the application a `send` that, for every
message, asks the session whether it was modified and is empty, to save it and
set its cookie on `http.response.start`: a message a WebSocket never sends. On a
room socket every delivery of every event went through that check, about a third
of the Python work of one delivery (docs/performance-journal.md, eighth round). A room
socket never changes its scope's session (sign-in and the guest's pass are HTTP
views; rooms.socket_guard writes activity through a store of its own), so here the
session is resolved into the scope exactly as Channels does it and frames go
straight to the server's `send`.

The user is looked up on the shared database threads (`thread_sensitive=False`),
not on Channels' one thread-sensitive thread: there every handshake of the
process queued behind every other one's two reads (the session, the member), a
bound on how many sockets a worker opens per second (issue 25, C1).
"""

from __future__ import annotations

from typing import Any, cast

from channels.auth import AuthMiddleware, get_user
from channels.db import database_sync_to_async
from channels.sessions import CookieMiddleware, InstanceSessionWrapper, SessionMiddleware


class SocketSessionMiddleware(SessionMiddleware):
    """`scope["session"]` as Channels resolves it; `send` left as it came (WebSocket scopes only)."""

    # Any: types-channels types the scope as a TypedDict of its own and the inner application as a
    # union that includes ASGI 2's single-argument apps, which never reach this stack.
    inner: Any

    async def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        if scope["type"] != "websocket":
            return await super().__call__(scope, receive, send)
        session = InstanceSessionWrapper(scope, send)
        await session.resolve_session()
        return await self.inner(session.scope, receive, send)


# Channels' get_user itself (the function its decorator wraps: the stubs type only the wrapper), run on the
# shared pool of database threads.
get_user_on_any_thread = database_sync_to_async(cast(Any, get_user).func, thread_sensitive=False)


class SocketAuthMiddleware(AuthMiddleware):
    """`scope["user"]` as Channels resolves it, read on any database thread."""

    async def resolve_scope(self, scope: Any) -> None:
        scope["user"]._wrapped = await get_user_on_any_thread(scope)


def SocketAuthMiddlewareStack(inner: Any) -> CookieMiddleware:
    """Channels' AuthMiddlewareStack (cookies, session, user) with the session's send wrapper left out."""
    return CookieMiddleware(SocketSessionMiddleware(SocketAuthMiddleware(inner)))
