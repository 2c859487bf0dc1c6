"""The program's pure rules: series dates, what mail is due, weekly attendance. No database; explicit `now`."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_WEEKS = 52
MIN_DURATION, MAX_DURATION = 15, 240


class ScheduleError(ValueError):
    """Bad input to a series: one clear line."""


def parse_weekdays(text: str) -> list[int]:
    """ "mon,tue,thu" -> [0, 1, 3] (Monday 0), each once, in week order."""
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    if not names:
        raise ScheduleError("--days needs at least one day, e.g. mon,wed,fri")
    for name in names:
        if name not in WEEKDAYS:
            raise ScheduleError(f"unknown day {name!r}: use {','.join(WEEKDAYS)}")
    if len(set(names)) != len(names):
        raise ScheduleError("a day is listed twice")
    return sorted(WEEKDAYS.index(name) for name in names)


def weekday_numbers(stored: str) -> list[int]:
    return [int(n) for n in stored.split(",") if n]


def parse_wall_time(text: str) -> time:
    """ "18:00" -> 18:00; anything else (25:00, 6pm, 18:0) is refused."""
    match = re.fullmatch(r"([0-9]{2}):([0-9]{2})", text.strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ScheduleError(f"--time must be HH:MM on a 24-hour clock, not {text!r}")
    return time(int(match[1]), int(match[2]))


def check_series_size(weeks: int, duration: int) -> None:
    if not 1 <= weeks <= MAX_WEEKS:
        raise ScheduleError(f"--weeks must be 1 to {MAX_WEEKS}, not {weeks}")
    if not MIN_DURATION <= duration <= MAX_DURATION:
        raise ScheduleError(f"--duration must be {MIN_DURATION} to {MAX_DURATION} minutes, not {duration}")


def local_start(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The instant `at` o'clock on `day` in `zone`; a time skipped by a daylight-saving change is refused.

    An hour that happens twice (autumn) is the first of the two (fold 0), the one people expect.
    """
    wall = datetime.combine(day, at, tzinfo=zone)
    if wall.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall.replace(tzinfo=None):
        raise ScheduleError(f"{at:%H:%M} does not exist on {day.isoformat()} in {zone.key} (the clocks go forward)")
    return wall


def series_starts(first_date: date, weekdays: Sequence[int], at: time, weeks: int, zone: ZoneInfo) -> list[datetime]:
    """Every start: the given weekdays of `weeks` weeks from `first_date` on, at the same wall-clock time."""
    days = (first_date + timedelta(days=n) for n in range(7 * weeks))
    return [local_start(day, at, zone) for day in days if day.weekday() in weekdays]


# ------------------------------------------------------------------ reminders


class MailKind(StrEnum):
    DAY_BEFORE = "reminder_24h"
    HOUR_BEFORE = "reminder_1h"
    CANCELLED = "cancelled"
    MOVED = "moved"
    INVITATION = "invitation"


# (kind, how long before the start it is sent): a reminder whose moment passed more than its
# own lead ago is no longer useful (a run after a long outage does not send yesterday's).
REMINDER_LEADS = ((MailKind.DAY_BEFORE, timedelta(hours=24)), (MailKind.HOUR_BEFORE, timedelta(hours=1)))


def due_reminders(starts_at: datetime, now: datetime) -> list[MailKind]:
    """The reminders of a session starting at `starts_at` that are due at `now` (the latest only)."""
    if starts_at <= now:
        return []
    due = [kind for kind, lead in REMINDER_LEADS if starts_at - lead <= now]
    # Scheduled 30 minutes ahead: the hour reminder only, not a "tomorrow" one as well.
    return due[-1:]


def reminder_key(kind: MailKind, member_id: int, session_id: int, starts_at: datetime) -> str:
    """The claim's key: per member, session, kind and start (a moved session is reminded again at its new time)."""
    return f"{kind}:{member_id}:{session_id}:{int(starts_at.timestamp())}"


# ------------------------------------------------------------------ weekly attendance


@dataclass(frozen=True)
class Seat:
    """One roster seat for the weekly count: when it was, whether it counts as attended."""

    starts_at: datetime
    attended: bool
    cancelled: bool


@dataclass(frozen=True)
class WeekCount:
    year: int
    week: int
    attended: int
    scheduled: int

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.week:02d}"


def weekly_counts(seats: Iterable[Seat], zone: ZoneInfo) -> list[WeekCount]:
    """Per ISO week (in the clinic's time zone): sessions attended against sessions scheduled.

    A cancelled session was not held: it counts neither way.
    """
    weeks: dict[tuple[int, int], list[int]] = {}
    for seat in seats:
        if seat.cancelled:
            continue
        iso = seat.starts_at.astimezone(zone).isocalendar()
        counts = weeks.setdefault((iso.year, iso.week), [0, 0])
        counts[0] += int(seat.attended)
        counts[1] += 1
    return [WeekCount(year, week, a, s) for (year, week), (a, s) in sorted(weeks.items())]
