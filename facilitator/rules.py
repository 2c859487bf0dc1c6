"""Floor, queue and round rules as pure functions (no database, explicit `now`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rooms.models import ParticipantRole


@dataclass(frozen=True, slots=True)
class RosterSeat:
    participant_id: int
    position: int
    online: bool


def floor_deadline(now: datetime, seconds: int | None, *, default: int, maximum: int) -> datetime:
    """When a grant of `seconds` (the default when None) ends; never past `maximum`."""
    chosen = default if seconds is None else seconds
    return now + timedelta(seconds=min(max(chosen, 1), maximum))


def queue_after_raise(queue: Sequence[int], participant_id: int) -> list[int]:
    """Raising appends; raising twice changes nothing."""
    return list(queue) if participant_id in queue else [*queue, participant_id]


def queue_without(queue: Sequence[int], participant_id: int) -> list[int]:
    return [pid for pid in queue if pid != participant_id]


def first_in_round(seats: Sequence[RosterSeat]) -> RosterSeat | None:
    """The round starts with the first online patient in roster order."""
    return next_in_round(seats, after_position=None)


def next_in_round(seats: Sequence[RosterSeat], after_position: int | None) -> RosterSeat | None:
    """The next online seat after `after_position` in roster order; None after the last.

    Offline people are skipped when the turn reaches them.
    """
    for seat in sorted(seats, key=lambda s: (s.position, s.participant_id)):
        if seat.online and (after_position is None or seat.position > after_position):
            return seat
    return None


# ------------------------------------------------------------------ agenda


def agenda_order_after_move(order: Sequence[int], item_id: int, position: int) -> list[int]:
    """Move `item_id` to the 0-based `position` (clamped) in `order`; the others keep their order."""
    rest = [item for item in order if item != item_id]
    if len(rest) == len(order):
        return list(order)
    at = min(max(position, 0), len(rest))
    return [*rest[:at], item_id, *rest[at:]]


@dataclass(frozen=True, slots=True)
class AgendaEntry:
    item_id: int
    position: int
    posted: bool


def next_agenda_item(entries: Sequence[AgendaEntry]) -> AgendaEntry | None:
    """The first planned prompt not posted yet, in agenda order; None when the agenda is done."""
    for entry in sorted(entries, key=lambda e: (e.position, e.item_id)):
        if not entry.posted:
            return entry
    return None


# ------------------------------------------------------------------ participation balance


@dataclass(frozen=True, slots=True)
class Turn:
    """A spell on the floor: `ended_at` None while it runs; `expires_at` caps a running one."""

    participant_id: int
    started_at: datetime
    ended_at: datetime | None
    expires_at: datetime | None = None


def turn_seconds(turn: Turn, now: datetime) -> float:
    """Seconds this turn held the floor up to `now` (a running turn stops counting at its deadline)."""
    end = turn.ended_at or now
    end = min(end, now)
    if turn.ended_at is None and turn.expires_at is not None:
        end = min(end, turn.expires_at)
    return max((end - turn.started_at).total_seconds(), 0.0)


@dataclass(frozen=True, slots=True)
class Speaker:
    participant_id: int
    role: str
    messages: int
    characters: int


@dataclass(frozen=True, slots=True)
class Balance:
    participant_id: int
    messages: int
    characters: int
    floor_seconds: int


def participation_balance(
    speakers: Sequence[Speaker], turns: Sequence[Turn], now: datetime
) -> tuple[list[Balance], list[int]]:
    """Per participant: messages, characters and whole seconds on the floor; and who has not spoken.

    "Not spoken" lists the patients and guests (never facilitators) with no message yet, in the
    order given (the roster's).
    """
    held: dict[int, float] = {}
    for turn in turns:
        held[turn.participant_id] = held.get(turn.participant_id, 0.0) + turn_seconds(turn, now)
    rows = [
        Balance(s.participant_id, s.messages, s.characters, int(held.get(s.participant_id, 0.0)))
        for s in speakers
    ]
    silent = [s.participant_id for s in speakers if s.role != ParticipantRole.FACILITATOR and s.messages == 0]
    return rows, silent


# ------------------------------------------------------------------ attendance


@dataclass(frozen=True, slots=True)
class Span:
    joined_at: datetime
    left_at: datetime | None


def attended_seconds(spans: Sequence[Span], until: datetime) -> int:
    """Whole seconds present, overlapping spans (two tabs) counted once; open spans run to `until`."""
    total = 0.0
    covered_to: datetime | None = None
    for span in sorted(spans, key=lambda s: s.joined_at):
        start, end = span.joined_at, min(span.left_at or until, until)
        if covered_to is not None:
            start = max(start, covered_to)
        if end > start:
            total += (end - start).total_seconds()
        covered_to = end if covered_to is None else max(covered_to, end)
    return int(total)


def seats_for(participants: Iterable[Any], now: datetime) -> list[RosterSeat]:
    """The round's seats: rostered patients; only those online and not muted can take a turn."""
    return [
        RosterSeat(p.pk, p.roster_position, bool(p.is_online) and not p.is_muted(now))
        for p in participants
        if p.role == ParticipantRole.PATIENT and p.removed_at is None
    ]
