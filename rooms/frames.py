"""The one table of client frame types, and the handler each one is dispatched to.

`CLIENT_FRAMES` lists the schema of every frame a client may send (the schemas
themselves are in rooms.schemas); its `type` literal is the frame's name on the
wire. `FRAME_TYPES` (frame type -> schema), which picks the schema a frame is
validated with, follows from it. The room core and the apps above it (facilitator,
moderation...) each register the handlers of their frames in their
`AppConfig.ready()`, so the consumer dispatches without knowing who handles what.

Adding a frame: its schema in rooms.schemas, one entry here, one handler registered
by the app it belongs to. A frame type registered twice fails at registration; one
with no handler fails start-up (`check_frame_handlers`, called by config.asgi).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar, get_args

from django.core.exceptions import ImproperlyConfigured
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from pydantic import ValidationError

from rooms.errors import ActionError
from rooms.schemas import (
    AgendaAdd,
    AgendaMove,
    AgendaNext,
    AgendaRemove,
    ChatSend,
    ClientFrame,
    FloorGrant,
    FloorRevoke,
    FloorYield,
    GoalReviewFrame,
    GoalSet,
    GoalStatusSet,
    HandClear,
    HandLower,
    HandRaise,
    InviteCreate,
    InviteDecline,
    InviteRevoke,
    LobbyAdmit,
    LobbyDeny,
    LobbyReturn,
    LobbySay,
    MessageRemove,
    ModeSet,
    ParticipantMute,
    ParticipantRemove,
    ParticipantUnmute,
    Ping,
    PrivateSend,
    PromptPost,
    RoundNext,
    SessionEnd,
    SessionStart,
    SlowmodeSet,
    plain_text_only,
    read_ref,
)

CLIENT_FRAMES: tuple[type[ClientFrame], ...] = (
    # anyone in the room
    ChatSend,
    HandRaise,
    HandLower,
    FloorYield,
    Ping,
    # facilitators (each action checks who may)
    PrivateSend,
    HandClear,
    SessionStart,
    SessionEnd,
    ModeSet,
    FloorGrant,
    FloorRevoke,
    RoundNext,
    PromptPost,
    ParticipantMute,
    ParticipantUnmute,
    ParticipantRemove,
    MessageRemove,
    SlowmodeSet,
    # family guests and the lobby
    LobbyAdmit,
    LobbyDeny,
    LobbyReturn,
    LobbySay,
    InviteCreate,
    InviteRevoke,
    InviteDecline,
    # the agenda
    AgendaAdd,
    AgendaRemove,
    AgendaMove,
    AgendaNext,
    # the clinical record: goals (a patient for their own; facilitators for the roster's)
    GoalSet,
    GoalReviewFrame,
    GoalStatusSet,
)


def frame_type_of(schema: type[ClientFrame]) -> str:
    """The frame's name on the wire: the one value of its `type` literal."""
    (name,) = get_args(schema.model_fields["type"].annotation)
    if not isinstance(name, str):
        raise ImproperlyConfigured(f"{schema.__name__}.type should be a Literal of one string")
    return name


# Frame type -> schema: what a discriminated union of the schemas would do, without a second list of them.
FRAME_TYPES: Mapping[str, type[ClientFrame]] = {frame_type_of(schema): schema for schema in CLIENT_FRAMES}


def parse_client_frame(text: str) -> ClientFrame:
    """Decode and validate one client text frame; ActionError('invalid') on anything malformed."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser allows
        raise ActionError("invalid", _("The frame is not valid JSON.")) from None
    if not isinstance(data, dict):
        raise ActionError("invalid", _("A frame must be a JSON object."))
    ref = data.get("ref")
    if isinstance(ref, str) and not plain_text_only(ref):  # the reply could not carry it back
        raise ActionError("invalid", _("A ref may not contain NUL or unpaired surrogates."))
    frame_type = data.get("type")
    if not isinstance(frame_type, str):
        raise ActionError("invalid", _("A frame needs a string field `type`."), ref=read_ref(data))
    if frame_type not in FRAME_TYPES:
        unknown = format_lazy(_("Unknown frame type {type}."), type=repr(frame_type[:40]))
        raise ActionError("invalid", unknown, ref=read_ref(data))
    try:
        kept = storable(data)
    except (OverflowError, RecursionError):
        raise ActionError("invalid", _("Numbers may be at most 2**63 - 1."), ref=read_ref(data)) from None
    try:
        return FRAME_TYPES[frame_type].model_validate(kept)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "frame"
        wrong = format_lazy(_("Wrong or missing field {field}: {problem}"), field=where, problem=first["msg"])
        raise ActionError("invalid", wrong, ref=read_ref(data)) from None


# The widest integer a database column holds (BIGINT): a larger id or count is refused at the edge.
MAX_FRAME_INT = 2**63 - 1
# NUL and unpaired surrogates: they can be neither stored (PostgreSQL refuses NUL) nor encoded again.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(value: Any) -> Any:
    """The frame's values as they may be kept: NUL and unpaired surrogates removed from every string,
    like every other control character that config.text.clean_text removes from the texts later (a
    text with nothing visible left is then `invalid`); an integer beyond 64 bits raises OverflowError."""
    if isinstance(value, str):
        return _UNSTORABLE.sub("", value)
    if isinstance(value, dict):
        return {key: storable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [storable(item) for item in value]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_FRAME_INT:
        raise OverflowError(value)
    return value


# ---------------------------------------------------------------- handlers


@dataclass(frozen=True, slots=True)
class Sender:
    """Who sent a frame, to which room, and when it arrived (the `now` of the action it asks for)."""

    session_id: int
    participant_id: int
    at: datetime


# What a handler adds to the frame's ack (`{"type": "ack", "ref": ..., **fields}`); None: nothing.
AckFields = dict[str, int | str | None]

F = TypeVar("F", bound=ClientFrame)
FrameHandler = Callable[[Sender, F], Awaitable[AckFields | None]]

# The registered handlers, by schema (each app's FrameHandlers.register adds its own).
_handlers: dict[type[ClientFrame], FrameHandler[Any]] = {}


def two_handlers(schema: type[ClientFrame], *handlers: FrameHandler[Any]) -> ImproperlyConfigured:
    names = " and ".join(f"{handler.__module__}.{handler.__qualname__}" for handler in handlers)
    return ImproperlyConfigured(f"{frame_type_of(schema)} has two handlers: {names}")


class FrameHandlers:
    """One app's frame handlers, gathered with `@handlers.of(Schema)`; its `ready()` registers them.

    The decorator ties the handler's frame parameter to the schema, so a type checker
    sees each handler's own frame type.
    """

    def __init__(self) -> None:
        self.by_schema: dict[type[ClientFrame], FrameHandler[Any]] = {}

    def of(self, schema: type[F]) -> Callable[[FrameHandler[F]], FrameHandler[F]]:
        if schema not in CLIENT_FRAMES:
            raise ImproperlyConfigured(f"{schema.__name__} is not in rooms.frames.CLIENT_FRAMES")

        def gather(handler: FrameHandler[F]) -> FrameHandler[F]:
            if schema in self.by_schema:
                raise two_handlers(schema, self.by_schema[schema], handler)
            self.by_schema[schema] = handler
            return handler

        return gather

    def register(self) -> None:
        """Make these the handlers of their frames; a frame another app already handles is refused."""
        for schema, handler in self.by_schema.items():
            if schema in _handlers:
                raise two_handlers(schema, _handlers[schema], handler)
        _handlers.update(self.by_schema)


def unhandled_frame_types() -> list[str]:
    return [frame_type_of(schema) for schema in CLIENT_FRAMES if schema not in _handlers]


def check_frame_handlers() -> None:
    """Every frame type of the table has its handler: called at start-up (config.asgi), once the apps are ready."""
    missing = unhandled_frame_types()
    if missing:
        raise ImproperlyConfigured(f"client frame types without a handler: {', '.join(missing)}")


async def dispatch(sender: Sender, frame: ClientFrame) -> AckFields | None:
    """Run the frame's handler; what it returns goes into the ack."""
    return await _handlers[type(frame)](sender, frame)
