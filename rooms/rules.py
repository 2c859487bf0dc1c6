"""Who may do what in a room, as pure functions over plain data.

No database, no Channels: the actions load the data, call these with an
explicit `now`, and raise the returned error code. Tested in tests/test_rules_*.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from config.text import clean_text, has_visible_text
from rooms.errors import ErrorCode
from rooms.models import CLOSED_STATUSES, Kind, Mode, ParticipantRole, Status

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@dataclass(frozen=True, slots=True)
class RoomView:
    status: str  # a Status
    mode: str  # a Mode
    floor_holder_id: int | None
    floor_expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class SpeakerView:
    participant_id: int
    role: str  # a ParticipantRole
    admitted: bool
    muted: bool
    removed: bool


@dataclass(frozen=True, slots=True)
class Refusal:
    code: ErrorCode
    message: StrOrPromise  # lazy: worded in the reader's language (rooms.errors.ActionError)
    retry_after: float | None = None


def current_floor_holder(room: RoomView, now: datetime) -> int | None:
    """The holder, or None once the deadline has passed (even before the sweep clears it)."""
    if room.floor_holder_id is None:
        return None
    if room.floor_expires_at is not None and room.floor_expires_at <= now:
        return None
    return room.floor_holder_id


def text_refusal(text: str, max_chars: int) -> Refusal | None:
    """Judges the text as it would be stored (config.text.clean_text): nothing visible is `invalid`."""
    cleaned = clean_text(text)
    if not has_visible_text(cleaned):
        return Refusal("invalid", _("The message is empty."))
    if len(cleaned) > max_chars:
        too_long = _("Messages can be at most {limit} characters ({sent} sent).")
        return Refusal("too_long", format_lazy(too_long, limit=max_chars, sent=len(cleaned)))
    return None


def presence_refusal(speaker: SpeakerView) -> Refusal | None:
    """Refusals that apply to anything a participant does in the room."""
    if speaker.removed:
        return Refusal("not_allowed", _("You were removed from this session."))
    if speaker.role == ParticipantRole.GUEST and not speaker.admitted:
        return Refusal("not_admitted", _("Please wait until a facilitator lets you in."))
    return None


def chat_refusal(room: RoomView, speaker: SpeakerView, now: datetime, *, private: bool = False) -> Refusal | None:
    """May this participant send a chat message now? (The contract's Rules: status, modes, floor, mute.)

    `private` is the private line to the facilitators: it needs no floor, so a
    patient can always reach the facilitators, but mute and status still apply.
    """
    refused = presence_refusal(speaker)
    if refused:
        return refused
    if room.status in CLOSED_STATUSES:
        return Refusal("not_live", _("This session has ended."))
    if speaker.role == ParticipantRole.FACILITATOR:
        return None
    if room.status != Status.LIVE:
        return Refusal("not_live", _("The session has not started yet."))
    if speaker.muted:
        return Refusal("muted", _("A facilitator has muted you for now."))
    if private:
        return None
    holds_floor = current_floor_holder(room, now) == speaker.participant_id
    if speaker.role == ParticipantRole.GUEST:
        guest_refusal = Refusal("no_floor", _("Guests can write when a facilitator gives them the floor."))
        return None if holds_floor else guest_refusal
    if room.mode == Mode.OPEN or holds_floor:
        return None
    return Refusal("no_floor", _("Raise your hand and the facilitator will give you the floor."))


@dataclass(frozen=True, slots=True)
class SendHistory:
    """What the rate rules need of a participant's accepted sends (refused sends never count).

    Two instants, however many sends there were: chat.send reads them in the same
    row as the sender, so its cost does not grow with the configured limit.
    """

    # The limit-th newest send within the window (None while fewer): the window has
    # room again once this one leaves it.
    window_full_since: datetime | None
    newest: datetime | None  # the latest send (slow mode paces from it)


def send_history(sends: Sequence[datetime], now: datetime, *, limit: int, window_seconds: int) -> SendHistory:
    """The history of a list of sends, oldest first."""
    window_start = now - timedelta(seconds=window_seconds)
    in_window = [sent for sent in sends if sent > window_start]
    return SendHistory(
        window_full_since=in_window[-limit] if len(in_window) >= limit else None,
        newest=sends[-1] if sends else None,
    )


def rate_refusal(
    history: SendHistory,
    now: datetime,
    *,
    limit: int,
    window_seconds: int,
    slowmode_seconds: int = 0,
) -> Refusal | None:
    """At most `limit` sends in any `window_seconds`; with slow mode, one per `slowmode_seconds`."""
    slow_wait = 0.0
    if slowmode_seconds and history.newest is not None:
        slow_wait = (history.newest + timedelta(seconds=slowmode_seconds) - now).total_seconds()
    if history.window_full_since is not None:
        wait = (history.window_full_since + timedelta(seconds=window_seconds) - now).total_seconds()
        if wait > 0:
            return Refusal(
                "rate_limited",
                format_lazy(
                    _("You can send {limit} messages every {seconds} seconds."), limit=limit, seconds=window_seconds
                ),
                retry_after(max(wait, slow_wait)),  # slow mode may ask for longer than the window
            )
    if slow_wait > 0:
        return Refusal(
            "rate_limited",
            format_lazy(_("Slow mode: please wait {seconds} seconds."), seconds=math.ceil(slow_wait)),
            retry_after(slow_wait),
        )
    return None


def retry_after(wait: float) -> float:
    """Seconds to wait, rounded UP to a tenth: retrying after exactly this long succeeds."""
    return max(math.ceil(round(wait * 10, 6)) / 10, 0.1)


def hand_refusal(room: RoomView, speaker: SpeakerView) -> Refusal | None:
    refused = presence_refusal(speaker)
    if refused:
        return refused
    if room.status in CLOSED_STATUSES:
        return Refusal("not_live", _("This session has ended."))
    if speaker.muted:
        return Refusal("muted", _("A facilitator has muted you for now."))
    return None


# A session's length when none is given: an hour for a group; the clinical hour (50 minutes) for an
# individual session, as the programs Circle serves run them.
DEFAULT_MINUTES = {Kind.GROUP: 60, Kind.INDIVIDUAL: 50}


def default_minutes(kind: str) -> int:
    return DEFAULT_MINUTES[Kind(kind)]


# At most this many hand.raise/hand.lower frames per participant in the window (issue 22, class 5): 120
# toggles were 240 events, each a screen-reader announcement, to everyone.
HAND_TOGGLE_LIMIT = 10
HAND_TOGGLE_WINDOW_SECONDS = 10


def hand_toggle_refusal(role: str, toggles: Sequence[datetime], now: datetime) -> Refusal | None:
    """May this participant raise or lower their hand again now? `toggles`: their accepted ones, oldest
    first. Facilitators are exempt."""
    if role == ParticipantRole.FACILITATOR:
        return None
    history = send_history(toggles, now, limit=HAND_TOGGLE_LIMIT, window_seconds=HAND_TOGGLE_WINDOW_SECONDS)
    if history.window_full_since is None:
        return None
    wait = (history.window_full_since + timedelta(seconds=HAND_TOGGLE_WINDOW_SECONDS) - now).total_seconds()
    if wait <= 0:
        return None
    return Refusal(
        "rate_limited",
        format_lazy(
            _("You can raise or lower your hand {limit} times every {seconds} seconds."),
            limit=HAND_TOGGLE_LIMIT,
            seconds=HAND_TOGGLE_WINDOW_SECONDS,
        ),
        retry_after(wait),
    )


def toggles_kept(toggles: Sequence[datetime], now: datetime) -> list[datetime]:
    """The toggles to store after one more at `now`: only the newest the limit needs."""
    return [*toggles, now][-HAND_TOGGLE_LIMIT:]


def default_mode(kind: str) -> Mode:
    return Mode.OPEN if kind == Kind.INDIVIDUAL else Mode.MODERATED
