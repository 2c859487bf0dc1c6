"""Floor, queue and round rules as pure functions (no database, explicit `now`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


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
