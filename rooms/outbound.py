"""What one WebSocket may leave unread, and nothing sent after a close.

Daphne hands every outgoing frame to Twisted, which buffers it without limit
until the client's TCP window lets it through: a client that stops reading
(a frozen tab, a dead phone behind a NAT that still ACKs) would make its
worker hold every later room event for it. This ASGI middleware, the
outermost layer of the WebSocket stack, receives daphne's own `send` (which
carries the connection's protocol, hence its TCP transport) and, before each
frame, looks at how many bytes are still unsent on that transport. Over the
bound, the connection is aborted (TCP reset; no close frame could get
through the full buffer anyway): the consumer gets its disconnect as for any
dropped socket, the person goes offline as usual, and a client that comes
back resumes with ?since=.

The bound is `OUTBOUND_BUFFER_KIB` plus the largest frame this connection
has been sent so far, so a big `session.state` (?since= catch-up of up to
1,000 messages) on a slow link is not mistaken for a stalled reader. A
reading client never comes near it: Twisted writes whatever the socket takes
on the next turn of the loop. The check is a few attribute reads per frame
and costs no task and no buffer of its own per connection.

Third duty: when the database is unreachable before the socket was even
accepted (the sign-in is read by Channels' AuthMiddleware), the client gets
1013 (try again later) instead of a crashed handshake.

Second duty: once a close has been sent, later frames are dropped here.
Autobahn raises on a send after close, and several paths (a restart, the
layer coming back, session end) may close a socket while it is still
finishing a reply or a catch-up.
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Any

from django.conf import settings

from rooms.faults import DATABASE_ERRORS, TRY_AGAIN_LATER

if TYPE_CHECKING:
    from twisted.internet.abstract import FileDescriptor

try:
    from autobahn.exception import Disconnected
except ImportError:  # daphne always brings autobahn; this keeps the module importable without it

    class Disconnected(Exception):  # type: ignore[no-redef]
        pass


logger = logging.getLogger(__name__)


def protocol_of(send: Any) -> Any:
    """Daphne's WebSocket protocol behind its send (a partial of Server.handle_reply bound to it), or None."""
    if isinstance(send, functools.partial) and send.args and hasattr(send.args[0], "sendCloseFrame"):
        return send.args[0]
    return None


def unsent_bytes(transport: FileDescriptor) -> int:
    """Bytes Twisted holds for this connection (FileDescriptor's two buffers; tests/test_dependency_contract.py)."""
    return len(transport.dataBuffer) - transport.offset + transport._tempDataLen


class OutboundLimit:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] != "websocket":
            return await self.app(scope, receive, send)
        protocol = protocol_of(send)  # None under the test communicator
        transport = getattr(protocol, "transport", None)
        if not hasattr(transport, "_tempDataLen"):
            transport = None  # not a plain TCP transport (a TLS endpoint): no byte bound
        limit = int(settings.CIRCLE["OUTBOUND_BUFFER_KIB"]) * 1024
        largest = 0
        answered = closed = False

        async def bounded_send(message: dict[str, Any]) -> None:
            nonlocal largest, answered, closed
            if closed:
                return
            kind = message["type"]
            answered = True
            if kind == "websocket.close":
                closed = True
                code = message.get("code")
                if protocol is not None and code is not None and 1001 <= code <= 2999:
                    # Autobahn's public sendClose accepts only 1000 and 3000-4999, yet 1012
                    # (service restart) and 1013 (try again later) are registered codes a
                    # server sends to say "reconnect": write the close frame through its
                    # lower-level call, which daphne itself uses for 1011.
                    protocol.sendCloseFrame(code=code, isReply=False)
                    return
            elif kind == "websocket.send" and transport is not None:
                unsent = unsent_bytes(transport)
                if unsent > limit + largest:
                    closed = True
                    logger.warning(
                        "dropped a WebSocket that stopped reading (%d KiB unsent); it may reconnect with ?since=",
                        unsent // 1024,
                    )
                    transport.abortConnection()
                    return
                size = len(message.get("text") or message.get("bytes") or b"")
                if size > largest:
                    largest = size
            try:
                await send(message)
            except Disconnected:
                # The client closed first and autobahn is finishing the close handshake:
                # the frame could not reach it anyway (it resumes with ?since=).
                closed = True

        try:
            return await self.app(scope, receive, bounded_send)
        except DATABASE_ERRORS as error:
            if answered:
                raise
            # The sign-in is read from the database before the consumer even starts
            # (Channels' AuthMiddleware): during an outage, say "try again later".
            logger.warning("database unavailable while a WebSocket connected (%s): closed with 1013", error)
            await bounded_send({"type": "websocket.accept"})
            await bounded_send({"type": "websocket.close", "code": TRY_AGAIN_LATER})
            return None
