"""facilitator/rules.py additions for issue 3: agenda order, participation balance, attendance time.

Pure functions with an explicit `now`: no database, no Channels.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from facilitator.rules import (
    AgendaEntry,
    RosterSeat,
    Span,
    Speaker,
    Turn,
    agenda_order_after_move,
    attended_seconds,
    next_agenda_item,
    next_in_round,
    participation_balance,
    turn_seconds,
)

NOW = datetime(2025, 3, 4, 18, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


# ---------------------------------------------------------------- rounds


def test_round_over_four_patients_skips_the_offline_one_in_roster_order():
    seats = [RosterSeat(11, 1, True), RosterSeat(12, 2, True), RosterSeat(13, 3, False), RosterSeat(14, 4, True)]
    visited, position = [], None
    while (seat := next_in_round(seats, position)) is not None:
        visited.append(seat.participant_id)
        position = seat.position
    assert visited == [11, 12, 14]


# ---------------------------------------------------------------- agenda


def test_move_puts_the_item_at_the_position_and_keeps_the_others_in_order():
    assert agenda_order_after_move([1, 2, 3, 4], 4, 0) == [4, 1, 2, 3]
    assert agenda_order_after_move([1, 2, 3, 4], 1, 2) == [2, 3, 1, 4]
    assert agenda_order_after_move([1, 2, 3, 4], 2, 99) == [1, 3, 4, 2], "a position past the end means last"
    assert agenda_order_after_move([1, 2, 3], 9, 0) == [1, 2, 3], "an unknown item changes nothing"


@given(st.lists(st.integers(1, 50), unique=True, min_size=1), st.data())
def test_move_is_a_permutation(order, data):
    item = data.draw(st.sampled_from(order))
    position = data.draw(st.integers(0, len(order) + 3))
    moved = agenda_order_after_move(order, item, position)
    assert sorted(moved) == sorted(order)
    assert moved.index(item) == min(position, len(order) - 1)


def test_next_agenda_item_is_the_first_unposted_in_position_order():
    entries = [AgendaEntry(7, 2, False), AgendaEntry(5, 0, True), AgendaEntry(6, 1, False)]
    assert next_agenda_item(entries) == AgendaEntry(6, 1, False)
    assert next_agenda_item([AgendaEntry(5, 0, True)]) is None
    assert next_agenda_item([]) is None


# ---------------------------------------------------------------- participation balance


def test_turn_seconds_for_ended_running_and_overdue_turns():
    assert turn_seconds(Turn(1, at(0), at(40)), at(100)) == 40
    assert turn_seconds(Turn(1, at(0), None, expires_at=at(180)), at(30)) == 30, "running: counts up to now"
    assert turn_seconds(Turn(1, at(0), None, expires_at=at(20)), at(30)) == 20, "stops counting at its deadline"
    assert turn_seconds(Turn(1, at(50), None), at(30)) == 0, "never negative"


def test_balance_adds_up_turns_and_lists_who_has_not_spoken():
    speakers = [
        Speaker(1, "facilitator", 0, 0),
        Speaker(2, "patient", 3, 120),
        Speaker(3, "patient", 0, 0),
        Speaker(4, "guest", 0, 0),
    ]
    turns = [Turn(2, at(0), at(30)), Turn(3, at(30), at(45)), Turn(2, at(45), None, expires_at=at(200))]
    rows, silent = participation_balance(speakers, turns, at(60))
    by_id = {r.participant_id: r for r in rows}
    assert [r.participant_id for r in rows] == [1, 2, 3, 4]
    assert (by_id[2].messages, by_id[2].characters, by_id[2].floor_seconds) == (3, 120, 45)
    assert by_id[3].floor_seconds == 15 and by_id[1].floor_seconds == 0
    assert silent == [3, 4], "facilitators are never listed as not having spoken"


# ---------------------------------------------------------------- attendance


def test_attended_seconds_counts_overlapping_tabs_once_and_open_spans_until_the_end():
    spans = [Span(at(0), at(60)), Span(at(30), at(90)), Span(at(200), None)]
    assert attended_seconds(spans, at(260)) == 90 + 60
    assert attended_seconds([], at(100)) == 0
    assert attended_seconds([Span(at(0), None)], at(10)) == 10


@given(st.lists(st.tuples(st.integers(0, 1000), st.integers(0, 300)), max_size=8))
def test_attended_seconds_never_exceeds_the_covered_interval(raw):
    spans = [Span(at(start), at(start + length)) for start, length in raw]
    total = attended_seconds(spans, at(5000))
    assert 0 <= total <= sum(length for _, length in raw)
    if spans:
        covered = at(max(start + length for start, length in raw)) - at(min(start for start, _ in raw))
        assert total <= covered.total_seconds()
