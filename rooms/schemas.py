"""Every WebSocket frame, in and out, has exactly one schema here.

Inbound frames are validated at the edge (the consumer) by rooms.frames, whose table
lists which of the schemas below a client may send; outbound events are built as
these models and serialized once per room. The words of the protocol that are also
stored (roles, statuses, modes, categories, audiences) are the models' enums.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from rooms.errors import ErrorCode
from rooms.models import Audience, GoalStatus, Kind, Mode, ParticipantRole, PromptCategory, Status

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# ---------------------------------------------------------------- inbound


class ClientFrame(BaseModel):
    # strict: "5" is not a participant id; unknown extra fields are ignored so
    # newer clients keep working against older servers.
    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)
    type: str  # the frame's name on the wire: each schema narrows it to its one literal
    ref: Annotated[str, Field(max_length=64)] | None = None


ParticipantId = Annotated[int, Field(ge=1)]
Reason = Annotated[str, Field(max_length=500)] | None
# An enum's value, as sent on the wire ("moderated"): strict validation would want the enum member itself.
ModeName = Annotated[Mode, Field(strict=False)]
CategoryName = Annotated[PromptCategory, Field(strict=False)]


class ChatSend(ClientFrame):
    type: Literal["chat.send"]
    text: str
    to: Literal["facilitators"] | None = None
    # The client's own id for this message: a resend with it gets the first one's ack (rooms.actions.chat).
    txn_id: Annotated[str, Field(min_length=1, max_length=64)] | None = None


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


class Ping(ClientFrame):
    """Anyone: "I am still here" (sent by the page on user input); keeps the sign-in from idling out."""

    type: Literal["ping"]


class FloorYield(ClientFrame):
    type: Literal["floor.yield"]


class SessionStart(ClientFrame):
    type: Literal["session.start"]


class SessionEnd(ClientFrame):
    type: Literal["session.end"]


class ModeSet(ClientFrame):
    type: Literal["mode.set"]
    mode: ModeName
    seconds: Annotated[int, Field(ge=10, le=900)] | None = None


class FloorGrant(ClientFrame):
    type: Literal["floor.grant"]
    participant_id: ParticipantId
    seconds: Annotated[int, Field(ge=1, le=900)] | None = None


class FloorRevoke(ClientFrame):
    type: Literal["floor.revoke"]


class RoundNext(ClientFrame):
    type: Literal["round.next"]


class PromptPost(ClientFrame):
    type: Literal["prompt.post"]
    prompt_id: Annotated[int, Field(ge=1)] | None = None
    category: CategoryName | None = None
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


class SlowmodeSet(ClientFrame):
    """Facilitators: each patient and guest waits `seconds` between messages; 0 turns it off."""

    type: Literal["slowmode.set"]
    seconds: Annotated[int, Field(ge=0, le=600)]


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
    # Mail the join link to the guest at once (checked as an address by the action).
    email: Annotated[str, Field(max_length=254)] = ""


# Family guests (docs/protocol.md, Guests and the lobby).


class InviteRevoke(ClientFrame):
    """Facilitators: withdraw a pass; a guest who already used it is closed with 4403."""

    type: Literal["invite.revoke"]
    invite_id: Annotated[int, Field(ge=1)]


class InviteDecline(ClientFrame):
    """The patient an invitation is for: decline it (revokes the pass, tells the facilitators)."""

    type: Literal["invite.decline"]
    invite_id: Annotated[int, Field(ge=1)]


class LobbyReturn(ClientFrame):
    """Facilitators: send an admitted guest back to the lobby."""

    type: Literal["lobby.return"]
    participant_id: ParticipantId


class LobbySay(ClientFrame):
    """Facilitators: a short note to everyone waiting in the lobby (nobody inside sees it)."""

    type: Literal["lobby.say"]
    text: Annotated[str, Field(max_length=2000)]


# Agenda (facilitators): plan an ordered list of prompts, then post them one by one.


class AgendaAdd(ClientFrame):
    """{prompt_id} from the library, or {category, text} for a custom prompt; `position` 0-based, default last."""

    type: Literal["agenda.add"]
    prompt_id: Annotated[int, Field(ge=1)] | None = None
    category: CategoryName | None = None
    text: Annotated[str, Field(max_length=500)] | None = None
    position: Annotated[int, Field(ge=0)] | None = None


class AgendaRemove(ClientFrame):
    type: Literal["agenda.remove"]
    item_id: Annotated[int, Field(ge=1)]


class AgendaMove(ClientFrame):
    type: Literal["agenda.move"]
    item_id: Annotated[int, Field(ge=1)]
    position: Annotated[int, Field(ge=0)]


class AgendaNext(ClientFrame):
    type: Literal["agenda.next"]


# The clinical record (the record app handles these): a patient's goals and their reviews.
Scale = Annotated[int, Field(ge=0, le=10)]  # progress, importance, confidence: strict integers 0 to 10
GoalId = Annotated[int, Field(ge=1)]


class GoalSet(ClientFrame):
    """A facilitator, for a patient on the roster; a patient, for themselves."""

    type: Literal["goal.set"]
    participant_id: ParticipantId
    text: Annotated[str, Field(max_length=300)]
    why: Annotated[str, Field(max_length=500)] | None = None


class GoalReviewFrame(ClientFrame):
    """A facilitator, or the patient for their own goal; importance and confidence are the readiness ruler."""

    type: Literal["goal.review"]
    goal_id: GoalId
    progress: Scale
    note: Annotated[str, Field(max_length=2000)] | None = None
    importance: Scale | None = None
    confidence: Scale | None = None


class GoalStatusSet(ClientFrame):
    """Facilitators only."""

    type: Literal["goal.status"]
    goal_id: GoalId
    status: Annotated[GoalStatus, Field(strict=False)]


def read_ref(data: object) -> str | None:
    """The frame's `ref` when it is usable, so even a refused frame gets its reply."""
    if isinstance(data, dict):
        ref = data.get("ref")
        if isinstance(ref, str) and len(ref) <= 64 and plain_text_only(ref):
            return ref
    return None


def ref_of_refused(text: str) -> str | None:
    """The `ref` of a frame refused before parsing (too long), so its error still carries it."""
    try:
        return read_ref(json.loads(text))
    except (ValueError, RecursionError):
        return None


def plain_text_only(data: object) -> bool:
    """No string (key or value) holds NUL or an unpaired surrogate ("\\ud800"), which cannot be stored or sent on."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            if "\x00" in item:
                return False
            try:
                item.encode()
            except UnicodeEncodeError:
                return False
    return True


# ---------------------------------------------------------------- outbound


class Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class ParticipantOut(Out):
    participant_id: int
    display_name: str
    role: ParticipantRole
    online: bool
    muted: bool
    hand_raised: bool
    admitted: bool
    guest_of: int | None
    # Extensions: the inviting patient's display name and the guest's relationship.
    guest_of_name: str | None = None
    relationship: str | None = None
    # Extension: how to show the person: "Maria (family of Alex)" for a guest, else display_name.
    label: str | None = None


class MessageOut(Out):
    message_id: int
    seq: int
    participant_id: int
    display_name: str
    role: ParticipantRole
    text: str
    html: str
    sent_at: datetime
    prompt_id: int | None
    # Extension: "room", or "facilitators" / "private" for the private line.
    audience: Audience = Audience.ROOM
    recipient_id: int | None = None
    # Extension: the sender as shown ("Maria (family of Alex)" for a guest).
    label: str | None = None


class PromptOut(Out):
    prompt_id: int
    category: PromptCategory
    text: str  # as posted: a library prompt's English text, a custom one as typed
    # A library prompt's text per language ({"en": ..., "es": ...}): each client shows its person's
    # (issue 26); empty for a custom prompt, which stays as typed.
    texts: dict[str, str] = Field(default_factory=dict)


class SessionOut(Out):
    id: int
    title: str
    kind: Kind
    status: Status
    mode: Mode
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


class AgendaItemOut(Out):
    """Extension (facilitators only): one planned prompt; `posted_at` is set once agenda.next posted it."""

    item_id: int
    position: int
    prompt: PromptOut
    posted_at: datetime | None


class ParticipantStatsOut(Out):
    participant_id: int
    messages: int
    characters: int
    floor_seconds: int


class StatsOut(Out):
    """Extension (facilitators only): participation balance in this session so far."""

    participants: list[ParticipantStatsOut]
    not_spoken: list[int]
    at: datetime


InviteStateName = Literal["sent", "redeemed", "in_lobby", "admitted", "revoked", "lapsed"]


class InviteOut(Out):
    """Extension: one family invitation (guest pass), as facilitators and the invited-for patient see it.

    state: sent (not used yet) | redeemed (used; the guest is not waiting now) | in_lobby (waiting,
    connected) | admitted | revoked (by a facilitator, a lobby.deny, a removal, or declined by the
    patient: then `declined` is true) | lapsed (never used and the session ended).
    """

    invite_id: int
    name: str
    for_participant_id: int
    for_display_name: str
    state: InviteStateName
    declined: bool
    created_at: datetime
    redeemed_at: datetime | None
    revoked_at: datetime | None
    guest_id: int | None
    guest_display_name: str | None
    relationship: str | None


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
    # Extensions: the floor/queue version (see floor.changed), and for facilitators only
    # the agenda and the participation stats (None for everyone else).
    version: int = 0
    agenda: list[AgendaItemOut] | None = None
    stats: StatsOut | None = None
    # Extension: family invitations; every one of the session's for facilitators, a patient's
    # own for a patient, None for guests.
    invites: list[InviteOut] | None = None
    # Extension: with ?since=, messages up to that seq removed meanwhile (a page drops them).
    removed_message_ids: list[int] | None = None
    # The clinical record: a patient's own goals that are not dropped, every roster patient's for a
    # facilitator (each with its last review), None for a guest.
    goals: list[GoalOut] | None = None


class ChatMessageEvent(MessageOut):
    type: Literal["chat.message"] = "chat.message"


class MessageRemoved(Out):
    type: Literal["message.removed"] = "message.removed"
    message_id: int


class SlowmodeChanged(Out):
    """Extension: slow mode was set (seconds between a participant's messages; 0 = off)."""

    type: Literal["slowmode.changed"] = "slowmode.changed"
    seconds: int


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
    # Extension: the room's floor/queue version; a client ignores one lower than the last it applied.
    version: int | None = None


class FloorChanged(Out):
    type: Literal["floor.changed"] = "floor.changed"
    holder: int | None
    expires_at: datetime | None
    # Extension: why it changed (granted, yield, revoked, expired, muted, removed, left, round).
    reason: str | None = None
    # Extension: the room's floor/queue version; a client ignores one lower than the last it applied.
    version: int | None = None


class ModeChanged(Out):
    type: Literal["mode.changed"] = "mode.changed"
    mode: Mode
    round_seconds: int | None = None


class RoundTurn(Out):
    """Extension: a round moved on (turn, pass or skip)."""

    type: Literal["round.turn"] = "round.turn"
    holder: int | None
    next: int | None
    expires_at: datetime | None
    passed: int | None = None
    how: Literal["start", "yield", "next", "expired", "left", "end", "muted", "removed", "revoked", "granted"]


class PromptPosted(Out):
    type: Literal["prompt.posted"] = "prompt.posted"
    prompt: PromptOut


class AgendaUpdated(Out):
    """Extension (facilitators only): the whole agenda after any change."""

    type: Literal["agenda.updated"] = "agenda.updated"
    agenda: list[AgendaItemOut]


class StatsEvent(StatsOut):
    """Extension (facilitators only): participation balance, at most every 5 seconds."""

    type: Literal["stats"] = "stats"


class SessionStatusEvent(Out):
    type: Literal["session.status"] = "session.status"
    status: Status


class LobbyWaiting(Out):
    type: Literal["lobby.waiting"] = "lobby.waiting"
    participant: ParticipantOut


class LobbyMessage(Out):
    """Extension: a facilitator's note to the lobby (lobby.say); guests waiting and facilitators get it."""

    type: Literal["lobby.message"] = "lobby.message"
    text: str
    participant_id: int
    display_name: str
    sent_at: datetime


class InviteUpdated(Out):
    """Extension: an invitation was created or changed state; facilitators and the patient it is for."""

    type: Literal["invite.updated"] = "invite.updated"
    invite: InviteOut


class AlertEvent(Out):
    type: Literal["alert"] = "alert"
    message_id: int
    participant_id: int
    kind: str
    excerpt: str
    resources: str
    # The same resources in each of settings.LANGUAGES (issue 26): each facilitator reads their own.
    resources_by_language: dict[str, str] = Field(default_factory=dict)


class SignedOut(Out):
    """Sent to each of a person's room sockets just before they are closed with 4401."""

    type: Literal["auth.signed_out"] = "auth.signed_out"
    reason: Literal["logout", "idle", "expired"]


class GoalReviewOut(Out):
    review_id: int
    session_id: int
    progress: int
    note: str
    importance: int | None
    confidence: int | None
    by: str
    at: datetime


class GoalOut(Out):
    """A patient's goal; `participant_id` is the patient's seat in the session it is sent in."""

    goal_id: int
    participant_id: int
    text: str
    why: str
    status: GoalStatus
    set_by: str
    set_at: datetime
    reviews: list[GoalReviewOut]


class GoalUpdated(Out):
    """To the session's facilitators and that patient (all their connections), nobody else."""

    type: Literal["goal.updated"] = "goal.updated"
    goal: GoalOut


class Ack(Out):
    model_config = ConfigDict(frozen=True, extra="allow")
    type: Literal["ack"] = "ack"
    ref: str


class ErrorFrame(Out):
    type: Literal["error"] = "error"
    code: ErrorCode
    message: str
    ref: str | None = None
    retry_after: float | None = None


def error_frame(code: ErrorCode, message: StrOrPromise, ref: str | None, **extra: Any) -> str:
    """`message` is worded in the active language (the consumer activates its person's: issue 26);
    `code` and every other field stay the protocol's English."""
    return ErrorFrame(code=code, message=str(message), ref=ref, **extra).model_dump_json()
