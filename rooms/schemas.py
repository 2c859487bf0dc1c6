"""Every WebSocket frame, in and out, has exactly one schema here.

Inbound frames are validated at the edge (the consumer) with `parse_client_frame`;
outbound events are built as these models and serialized once per room.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from rooms.errors import ActionError

# ---------------------------------------------------------------- inbound


class ClientFrame(BaseModel):
    # strict: "5" is not a participant id; unknown extra fields are ignored so
    # newer clients keep working against older servers.
    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)
    ref: Annotated[str, Field(max_length=64)] | None = None


ParticipantId = Annotated[int, Field(ge=1)]
Reason = Annotated[str, Field(max_length=500)] | None


class ChatSend(ClientFrame):
    type: Literal["chat.send"]
    text: str
    to: Literal["facilitators"] | None = None


class PrivateSend(ClientFrame):
    type: Literal["private.send"]
    participant_id: ParticipantId
    text: str


class HandRaise(ClientFrame):
    type: Literal["hand.raise"]


class HandLower(ClientFrame):
    type: Literal["hand.lower"]


class HandClear(ClientFrame):
    type: Literal["hand.clear"]


class FloorYield(ClientFrame):
    type: Literal["floor.yield"]


class SessionStart(ClientFrame):
    type: Literal["session.start"]


class SessionEnd(ClientFrame):
    type: Literal["session.end"]


class ModeSet(ClientFrame):
    type: Literal["mode.set"]
    mode: Literal["open", "moderated", "round"]
    seconds: Annotated[int, Field(ge=10, le=900)] | None = None


class FloorGrant(ClientFrame):
    type: Literal["floor.grant"]
    participant_id: ParticipantId
    seconds: Annotated[int, Field(ge=1, le=900)] | None = None


class FloorRevoke(ClientFrame):
    type: Literal["floor.revoke"]


class RoundNext(ClientFrame):
    type: Literal["round.next"]


PromptCategoryName = Literal["stress", "triggers", "medication", "mental_health", "coping", "family", "goals"]


class PromptPost(ClientFrame):
    type: Literal["prompt.post"]
    prompt_id: Annotated[int, Field(ge=1)] | None = None
    category: PromptCategoryName | None = None
    text: Annotated[str, Field(max_length=500)] | None = None


class ParticipantMute(ClientFrame):
    type: Literal["participant.mute"]
    participant_id: ParticipantId
    minutes: Annotated[int, Field(ge=1, le=240)] | None = None


class ParticipantUnmute(ClientFrame):
    type: Literal["participant.unmute"]
    participant_id: ParticipantId


class ParticipantRemove(ClientFrame):
    type: Literal["participant.remove"]
    participant_id: ParticipantId
    reason: Reason = None


class MessageRemove(ClientFrame):
    type: Literal["message.remove"]
    message_id: Annotated[int, Field(ge=1)]
    reason: Reason = None


class LobbyAdmit(ClientFrame):
    type: Literal["lobby.admit"]
    participant_id: ParticipantId


class LobbyDeny(ClientFrame):
    type: Literal["lobby.deny"]
    participant_id: ParticipantId


class InviteCreate(ClientFrame):
    type: Literal["invite.create"]
    for_participant_id: ParticipantId
    name: Annotated[str, Field(min_length=1, max_length=60)]


InboundFrame = Annotated[
    ChatSend
    | PrivateSend
    | HandRaise
    | HandLower
    | HandClear
    | FloorYield
    | SessionStart
    | SessionEnd
    | ModeSet
    | FloorGrant
    | FloorRevoke
    | RoundNext
    | PromptPost
    | ParticipantMute
    | ParticipantUnmute
    | ParticipantRemove
    | MessageRemove
    | LobbyAdmit
    | LobbyDeny
    | InviteCreate,
    Field(discriminator="type"),
]
_inbound = TypeAdapter(InboundFrame)
CLIENT_FRAME_TYPES = frozenset(
    model.model_fields["type"].annotation.__args__[0]  # type: ignore[union-attr]
    for model in ClientFrame.__subclasses__()
)


def read_ref(data: object) -> str | None:
    """The frame's `ref` when it is usable, so even a refused frame gets its reply."""
    if isinstance(data, dict):
        ref = data.get("ref")
        if isinstance(ref, str) and len(ref) <= 64:
            return ref
    return None


def parse_client_frame(text: str) -> ClientFrame:
    """Decode and validate one client text frame; ActionError('invalid') on anything malformed."""
    try:
        data = json.loads(text)
    except ValueError:
        raise ActionError("invalid", "The frame is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ActionError("invalid", "A frame must be a JSON object.")
    frame_type = data.get("type")
    if not isinstance(frame_type, str):
        raise ActionError("invalid", "A frame needs a string field `type`.", ref=read_ref(data))
    if frame_type not in CLIENT_FRAME_TYPES:
        raise ActionError("invalid", f"Unknown frame type {frame_type[:40]!r}.", ref=read_ref(data))
    try:
        return _inbound.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"][1:]) or "frame"
        raise ActionError("invalid", f"{where}: {first['msg']}", ref=read_ref(data)) from None


# ---------------------------------------------------------------- outbound


class Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class ParticipantOut(Out):
    participant_id: int
    display_name: str
    role: Literal["facilitator", "patient", "guest"]
    online: bool
    muted: bool
    hand_raised: bool
    admitted: bool
    guest_of: int | None
    # Extensions: the inviting patient's display name and the guest's relationship.
    guest_of_name: str | None = None
    relationship: str | None = None


class MessageOut(Out):
    message_id: int
    seq: int
    participant_id: int
    display_name: str
    role: Literal["facilitator", "patient", "guest"]
    text: str
    html: str
    sent_at: datetime
    prompt_id: int | None
    # Extension: "room", or "facilitators" / "private" for the private line.
    audience: Literal["room", "facilitators", "private"] = "room"
    recipient_id: int | None = None


class PromptOut(Out):
    prompt_id: int
    category: str
    text: str


class SessionOut(Out):
    id: int
    title: str
    kind: Literal["group", "individual"]
    status: Literal["scheduled", "live", "ended"]
    mode: Literal["open", "moderated", "round"]
    starts_at: datetime
    ends_at: datetime
    allow_guests: bool
    round_seconds: int | None = None
    slowmode_seconds: int = 0


class FloorOut(Out):
    holder: int | None
    expires_at: datetime | None


class RoundOut(Out):
    """Extension: where a check-in round stands, so a page can say whose turn is next."""

    holder: int | None
    next: int | None
    seconds: int | None


class SessionState(Out):
    type: Literal["session.state"] = "session.state"
    session: SessionOut
    me: ParticipantOut
    participants: list[ParticipantOut]
    floor: FloorOut
    queue: list[int]
    prompt: PromptOut | None
    messages: list[MessageOut]
    round: RoundOut | None = None
    crisis_resources: str | None = None


class ChatMessageEvent(MessageOut):
    type: Literal["chat.message"] = "chat.message"


class MessageRemoved(Out):
    type: Literal["message.removed"] = "message.removed"
    message_id: int


class ParticipantJoined(Out):
    type: Literal["participant.joined"] = "participant.joined"
    participant: ParticipantOut


class ParticipantLeft(Out):
    type: Literal["participant.left"] = "participant.left"
    participant_id: int


class ParticipantUpdated(Out):
    type: Literal["participant.updated"] = "participant.updated"
    participant: ParticipantOut


class ParticipantRemoved(Out):
    type: Literal["participant.removed"] = "participant.removed"
    participant_id: int


class QueueUpdated(Out):
    type: Literal["queue.updated"] = "queue.updated"
    queue: list[int]


class FloorChanged(Out):
    type: Literal["floor.changed"] = "floor.changed"
    holder: int | None
    expires_at: datetime | None
    # Extension: why it changed (granted, yielded, revoked, expired, muted, removed, left, round).
    reason: str | None = None


class ModeChanged(Out):
    type: Literal["mode.changed"] = "mode.changed"
    mode: Literal["open", "moderated", "round"]
    round_seconds: int | None = None


class RoundTurn(Out):
    """Extension: a round moved on (turn, pass or skip)."""

    type: Literal["round.turn"] = "round.turn"
    holder: int | None
    next: int | None
    expires_at: datetime | None
    passed: int | None = None
    how: Literal["start", "yield", "next", "expired", "left", "end"]


class PromptPosted(Out):
    type: Literal["prompt.posted"] = "prompt.posted"
    prompt: PromptOut


class SessionStatusEvent(Out):
    type: Literal["session.status"] = "session.status"
    status: Literal["scheduled", "live", "ended"]


class LobbyWaiting(Out):
    type: Literal["lobby.waiting"] = "lobby.waiting"
    participant: ParticipantOut


class AlertEvent(Out):
    type: Literal["alert"] = "alert"
    message_id: int
    participant_id: int
    kind: str
    excerpt: str
    resources: str


class Ack(Out):
    model_config = ConfigDict(frozen=True, extra="allow")
    type: Literal["ack"] = "ack"
    ref: str


class ErrorFrame(Out):
    type: Literal["error"] = "error"
    code: Literal[
        "invalid", "not_allowed", "not_live", "no_floor", "muted", "rate_limited", "too_long", "not_found",
        "not_admitted", "unavailable",
    ]
    message: str
    ref: str | None = None
    retry_after: float | None = None


def error_frame(code: str, message: str, ref: str | None, **extra: Any) -> str:
    return ErrorFrame(code=code, message=message, ref=ref, **extra).model_dump_json()  # type: ignore[arg-type]
