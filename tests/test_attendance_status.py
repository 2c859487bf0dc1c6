"""facilitator.attendance.seat_status: a roster seat's status from its presence spans (pure, explicit times)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from facilitator.attendance import AttendanceThresholds, seat_status
from facilitator.models import SeatStatus
from facilitator.rules import Span

START = datetime(2026, 12, 7, 18, 0, tzinfo=UTC)
END = START + timedelta(minutes=60)
DEFAULT = AttendanceThresholds(late_minutes=10, present_percent=75)


def minute(n: float) -> datetime:
    return START + timedelta(minutes=n)


@pytest.mark.parametrize(
    ("spans", "expected"),
    [
        ([], SeatStatus.ABSENT),
        ([(0, 60)], SeatStatus.PRESENT),
        ([(-5, None)], SeatStatus.PRESENT),  # in the lobby before the start, never left
        ([(10, 60)], SeatStatus.PRESENT),  # exactly LATE_MINUTES late is not late
        ([(15, 60)], SeatStatus.LATE),  # the example: 15 minutes late
        ([(10.5, 60)], SeatStatus.LATE),
        ([(40, 60)], SeatStatus.LATE),  # late wins over the short attendance
        ([(0, 45)], SeatStatus.PRESENT),  # exactly 75 %
        ([(0, 44)], SeatStatus.LEFT_EARLY),
        ([(0, 20), (30, 50)], SeatStatus.LEFT_EARLY),  # 40 of 60 minutes
        ([(0, 30), (20, 40)], SeatStatus.LEFT_EARLY),  # two tabs overlapping count once: 40 minutes
        ([(0, 30), (35, 60)], SeatStatus.PRESENT),  # a dropped connection, back: 55 minutes
        ([(-30, -1)], SeatStatus.ABSENT),  # only before the start
        ([(60, 70)], SeatStatus.ABSENT),  # only after the end
        ([(-30, 0)], SeatStatus.ABSENT),  # left exactly at the start
    ],
)
def test_seat_status_table(spans: list[tuple[float, float | None]], expected: SeatStatus) -> None:
    given_spans = [Span(minute(a), minute(b) if b is not None else None) for a, b in spans]
    assert seat_status(given_spans, START, END, DEFAULT) == expected


def test_thresholds_are_the_ones_given() -> None:
    spans = [Span(minute(5), minute(60))]

    def status(late: int, percent: int) -> SeatStatus:
        return seat_status(spans, START, END, AttendanceThresholds(late_minutes=late, present_percent=percent))

    assert status(4, 75) == SeatStatus.LATE
    assert status(5, 95) == SeatStatus.LEFT_EARLY
    assert status(5, 90) == SeatStatus.PRESENT


def test_configured_thresholds_come_from_settings(settings) -> None:
    settings.LATE_MINUTES = 3
    settings.PRESENT_PERCENT = 50
    assert AttendanceThresholds.configured() == AttendanceThresholds(late_minutes=3, present_percent=50)


def test_the_actual_length_counts_not_the_planned_one() -> None:
    # The session ran 30 minutes (started late, ended early): 25 minutes there is present.
    started, ended = minute(15), minute(45)
    assert seat_status([Span(minute(15), minute(40))], started, ended, DEFAULT) == SeatStatus.PRESENT


minutes = st.floats(min_value=-30, max_value=90, allow_nan=False)


@given(st.lists(st.tuples(minutes, minutes), max_size=5))
def test_never_excused_and_absent_only_without_time_inside(raw: list[tuple[float, float]]) -> None:
    spans = [Span(minute(min(a, b)), minute(max(a, b))) for a, b in raw]
    status = seat_status(spans, START, END, DEFAULT)
    assert status != SeatStatus.EXCUSED
    overlaps = any(s.joined_at < END and s.left_at is not None and s.left_at > START for s in spans)
    assert (status == SeatStatus.ABSENT) == (not overlaps)


@given(st.lists(st.tuples(minutes, minutes), min_size=1, max_size=5), minutes)
def test_an_extra_span_never_turns_present_into_absent(raw: list[tuple[float, float]], extra: float) -> None:
    spans = [Span(minute(min(a, b)), minute(max(a, b))) for a, b in raw]
    before = seat_status(spans, START, END, DEFAULT)
    after = seat_status([*spans, Span(minute(extra), minute(extra + 5))], START, END, DEFAULT)
    if before != SeatStatus.ABSENT:
        assert after != SeatStatus.ABSENT
