"""The room's WebSocket: a thin adapter that parses a frame, calls an action, replies.

Rules live in rules modules, writes in actions, fan-out in rooms.broadcast and
rooms.hub. This class only translates between frames and those calls: rooms.frames
validates a frame and hands it to the handler its app registered.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import deque
from typing import Any

from asgiref.typing import WebSocketConnectEvent, WebSocketReceiveEvent
from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from accounts.language import language_of_scope
from rooms.actions.presence import do_close_connection, do_open_connection
from rooms.broadcast import Envelope, Viewer, effect_for, is_recipient
from rooms.errors import NOT_SIGNED_IN, ActionError, RoomClosed
from rooms.faults import DATABASE_ERRORS, TRY_AGAIN_LATER, db
from rooms.frames import Sender, dispatch, parse_client_frame
from rooms.hub import get_hub
from rooms.schemas import Ack, error_frame, ref_of_refused
from rooms.socket_guard import SocketGuard
from rooms.state import load_catchup
from rooms.ws_auth import identify, parse_since

logger = logging.getLogger(__name__)

# A client sending this many malformed frames within the window is closed (1008).
INVALID_FRAME_BURST = 20
INVALID_FRAME_WINDOW = 10.0


class RoomConsumer(AsyncWebsocketConsumer):
    session_id: int
    participant_id: int | None = None
    viewer: Viewer | None = None
    guard: SocketGuard | None = None  # sign-in, idle and role re-checks (rooms.socket_guard)
    # No channel-layer channel of its own: room events reach a connection through its
    # worker's hub (rooms.hub), and nothing addresses a connection through the layer.
    # Channels would otherwise keep a layer receive (a task and a queue) per socket.
    # The stubs want a str; None names no layer, so get_channel_layer() answers None
    # (tests/test_dependency_contract.py holds Channels to it).
    channel_layer_alias = None  # type: ignore[assignment]

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels' dispatch without its `aclose_old_connections()` before each handler.

        That call hops to Channels' one thread-sensitive thread for every frame of every
        socket (docs/performance-journal.md). This consumer never touches the ORM on the event
        loop: every query runs through `db()` (database_sync_to_async), which closes stale
        connections itself, on the thread that runs the query.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    # ------------------------------------------------------------ lifecycle

    async def connect(self) -> None:
        """Open the room socket, leaving nothing behind if any step fails (issue 22, class 1).

        Everything read from the request is parsed before the first write; a failure
        after the connection row was made undoes the row, the hub attachment and the
        guard (`undo_open`), so no ghost stays online or counted.
        """
        self.session_id = self.scope["url_route"]["kwargs"]["session_id"]  # the path's int converter: [0-9]+
        since = parse_since(self.scope.get("query_string", b""))
        # The human `message` of this socket's error frames is worded in its person's language.
        self.language = language_of_scope(self.scope)
        self.connection_id = uuid.uuid4().hex
        self.hub = get_hub()
        self.ready = False
        self.pending: list[Envelope] = []
        self.invalid_frames: deque[float] = deque()
        await self.accept()
        identity = identify(self.scope)
        if identity is None:
            await self.close(NOT_SIGNED_IN)
            return
        self.guard = SocketGuard(self)
        refused = await self.guard.admit()
        if refused is not None:
            await self.close(refused)
            return
        try:
            participant = await db(do_open_connection)(
                self.session_id, identity, self.connection_id, self.hub.worker_id, timezone.now()
            )
        except RoomClosed as closed:
            await self.close(closed.code)
            return
        self.participant_id = participant.pk
        try:
            await self.hub.attach(self)
            self.guard.start()
            await self.send_catchup(since=since)
        except BaseException:  # a cancelled connect (the client went away) too
            await self.undo_open()
            raise

    async def undo_open(self) -> None:
        """connect() failed after its connection row was made: take back each of its steps."""
        self.ready = False
        if self.guard is not None:
            self.guard.stop()
        await self.hub.detach(self)
        self.participant_id = None  # disconnect() has nothing left to do
        try:
            await db(do_close_connection)(self.connection_id, timezone.now())
        except DATABASE_ERRORS:
            # The hub's heartbeat finds the row without a socket and closes it (RoomHub._reconcile).
            logger.warning("could not undo a failed connect's presence; the hub's reconciliation will")

    async def disconnect(self, code: int) -> None:
        if self.guard is not None:
            self.guard.stop()
        if self.participant_id is None:
            return
        await self.hub.detach(self)
        if self.hub.shutting_down:
            return  # the draining hub closes its rows once clients had time to reconnect elsewhere
        try:
            await db(do_close_connection)(self.connection_id, timezone.now())
        except DATABASE_ERRORS:
            # The hub's heartbeat finds the row without a socket and closes it (RoomHub._reconcile).
            logger.warning("could not record a disconnect; the hub's reconciliation will")

    async def websocket_connect(self, message: WebSocketConnectEvent) -> None:
        """The database is unreachable while someone connects: 1013 (try again later), not a crash."""
        try:
            await super().websocket_connect(message)
        except DATABASE_ERRORS as error:
            logger.warning("database unavailable while a WebSocket connected (%s): closed with 1013", error)
            await self.close(TRY_AGAIN_LATER)

    async def shed(self, code: int) -> None:
        """The hub sends this client away to reconnect and resume with ?since= (a restart, the layer back).

        A reply being computed is sent first (websocket_receive closes after it);
        anything sent after the close is dropped (rooms.outbound).
        """
        self.ready = False
        if self.replying:
            self.close_after_reply = code
        else:
            await self.close(code)

    async def send_catchup(self, *, since: int | None) -> None:
        """Send session.state, then whatever arrived meanwhile and is not already in it."""
        self.ready = False
        try:
            catchup = await db(load_catchup)(self.session_id, self.participant_id, since=since, now=timezone.now())
        except RoomClosed as closed:
            await self.close(closed.code)
            return
        self.viewer = catchup.viewer
        self.caught_up_seq = catchup.last_seq  # `deliver` sends no message the state holds
        await self.send(text_data=catchup.state_text)
        self.ready = True
        pending, self.pending = self.pending, []
        for envelope in pending:
            await self.deliver(envelope)

    # ------------------------------------------------------------ fan-out (called by the hub)

    async def deliver(self, envelope: Envelope) -> None:
        if not self.ready:
            self.pending.append(envelope)
            return
        if envelope["seq"] is not None and envelope["seq"] <= self.caught_up_seq:
            # In the session.state already. Not only while it was being built: a message committed before the
            # state was read can reach this worker's hub after it was sent, when the layer is behind (the
            # reconnect storm's resumed sockets saw it, bench/storm.py), and must not be shown twice.
            return
        if self.viewer is None or not is_recipient(self.viewer, envelope):
            return
        await self.send(text_data=envelope["text"])
        effect = effect_for(self.viewer, envelope)
        if effect == "refresh":
            await self.send_catchup(since=None)
        elif effect and effect.startswith("close:"):
            self.ready = False
            await self.hub.detach(self)
            if self.replying:
                # A frame of this socket is being handled (the facilitator's own
                # session.end): it gets its ack or error first, then the close.
                self.close_after_reply = int(effect.removeprefix("close:"))
            else:
                await self.close(int(effect.removeprefix("close:")))

    # ------------------------------------------------------------ frames

    replying = False
    close_after_reply: int | None = None

    async def websocket_receive(self, message: WebSocketReceiveEvent) -> None:
        """Frames are handled one at a time; a close caused meanwhile waits for the frame's reply."""
        self.replying = True
        try:
            with translation.override(self.language):
                await super().websocket_receive(message)
        finally:
            self.replying = False
            code, self.close_after_reply = self.close_after_reply, None
            if code is not None:
                await self.close(code)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.participant_id is None:
            return
        if self.guard is not None:
            self.guard.touch()  # any frame the client sends is activity (automatic logoff)
        if text_data is None:
            await self.refuse_frame(ActionError("invalid", _("Send JSON text frames.")), None)
            return
        if len(text_data.encode()) > settings.CIRCLE["MAX_FRAME_BYTES"]:
            # The size is bounded by the server's message limit (daphne: 1 MiB), so reading the ref is cheap.
            too_long = ActionError("too_long", _("Frames can be at most 16 KiB."))
            await self.refuse_frame(too_long, ref_of_refused(text_data))
            return
        try:
            frame = parse_client_frame(text_data)
        except ActionError as error:
            ref = error.extra.get("ref")
            await self.refuse_frame(error, ref if isinstance(ref, str) else None)
            return
        sender = Sender(self.session_id, self.participant_id, timezone.now())
        try:
            extra = await dispatch(sender, frame) or {}
        except ActionError as error:
            await self.send(text_data=error_frame(error.code, error.message, frame.ref, **error.extra))
            return
        except DATABASE_ERRORS:  # psycopg_pool's PoolTimeout included: never an ack for what was not stored
            logger.warning("database unavailable during %s", frame.type)
            not_saved = _("Not saved: please try again in a moment.")
            await self.send(text_data=error_frame("unavailable", not_saved, frame.ref))
            return
        if frame.ref is not None:
            await self.send(text_data=Ack(ref=frame.ref, **extra).model_dump_json())

    async def refuse_frame(self, error: ActionError, ref: str | None) -> None:
        await self.send(text_data=error_frame(error.code, error.message, ref))
        now = time.monotonic()
        self.invalid_frames.append(now)
        while self.invalid_frames and self.invalid_frames[0] < now - INVALID_FRAME_WINDOW:
            self.invalid_frames.popleft()
        if len(self.invalid_frames) > INVALID_FRAME_BURST:
            await self.close(1008)
