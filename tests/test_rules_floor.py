"""facilitator/rules.py as pure functions: floor deadlines, the hand queue, round order.

No database and no Channels: nothing here is marked.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from facilitator.rules import (
    RosterSeat,
    first_in_round,
    floor_deadline,
    next_in_round,
    queue_after_raise,
    queue_without,
    seats_for,
)

NOW = datetime(2025, 3, 4, 18, 0, 0, tzinfo=UTC)
DEFAULT, MAXIMUM = 180, 900


def deadline(seconds):
    return floor_deadline(NOW, seconds, default=DEFAULT, maximum=MAXIMUM)


# ---------------------------------------------------------------- floor_deadline


def test_floor_deadline_defaults_to_180_seconds():
    assert deadline(None) == NOW + timedelta(seconds=180)


@pytest.mark.parametrize("seconds", [1, 30, 60, 179, 180, 181, 600, 899, 900])
def test_floor_deadline_uses_the_requested_seconds_up_to_the_cap(seconds):
    assert deadline(seconds) == NOW + timedelta(seconds=seconds)


@pytest.mark.parametrize("seconds", [901, 1000, 3600, 10**9])
def test_floor_deadline_is_capped_at_900_seconds(seconds):
    assert deadline(seconds) == NOW + timedelta(seconds=900)


@pytest.mark.parametrize("seconds", [0, -1, -600])
def test_floor_deadline_is_never_now_or_in_the_past(seconds):
    ends = deadline(seconds)
    assert NOW < ends <= NOW + timedelta(seconds=MAXIMUM)


def test_floor_deadline_honours_other_defaults_and_caps():
    assert floor_deadline(NOW, None, default=60, maximum=120) == NOW + timedelta(seconds=60)
    assert floor_deadline(NOW, 500, default=60, maximum=120) == NOW + timedelta(seconds=120)


@given(st.one_of(st.none(), st.integers(min_value=-(10**6), max_value=10**6)))
@settings(max_examples=200, deadline=None, database=None)
def test_floor_deadline_always_within_bounds(seconds):
    ends = deadline(seconds)
    assert NOW < ends <= NOW + timedelta(seconds=MAXIMUM)
    if seconds is not None and 1 <= seconds <= MAXIMUM:
        assert ends == NOW + timedelta(seconds=seconds)


# ---------------------------------------------------------------- queue


def test_raise_appends_to_the_end():
    assert queue_after_raise([], 3) == [3]
    assert queue_after_raise([3], 5) == [3, 5]
    assert queue_after_raise([3, 5], 4) == [3, 5, 4]


def test_raising_twice_changes_nothing():
    once = queue_after_raise([3, 5], 4)
    assert queue_after_raise(once, 4) == once == [3, 5, 4]
    assert queue_after_raise([3, 5, 4], 3) == [3, 5, 4], "an earlier raise keeps its place"


def test_queue_functions_do_not_mutate_their_input():
    queue = (3, 5)
    as_list = [3, 5]
    assert queue_after_raise(queue, 4) == [3, 5, 4]
    assert queue_after_raise(as_list, 4) == [3, 5, 4] and as_list == [3, 5]
    assert queue_without(as_list, 3) == [5] and as_list == [3, 5]
    assert queue_after_raise(as_list, 3) is not as_list


def test_lowering_leaves_the_queue_keeping_the_others_order():
    assert queue_without([3, 5, 4], 5) == [3, 4]
    assert queue_without([3, 5, 4], 3) == [5, 4]
    assert queue_without([3, 5, 4], 4) == [3, 5]
    assert queue_without([3, 5, 4], 9) == [3, 5, 4], "lowering when not raised changes nothing"
    assert queue_without([], 9) == []


@given(st.lists(st.integers(min_value=1, max_value=8), max_size=30))
@settings(max_examples=200, deadline=None, database=None)
def test_queue_after_any_raises_and_lowers_is_a_list_of_unique_ids_in_first_raise_order(operations):
    """Every third operation lowers, the others raise; checked against a plain model of the queue."""
    queue: list[int] = []
    model: list[int] = []
    for step, participant_id in enumerate(operations):
        if step % 3 == 2:
            queue = queue_without(queue, participant_id)
            model = [p for p in model if p != participant_id]
        else:
            queue = queue_after_raise(queue, participant_id)
            if participant_id not in model:
                model.append(participant_id)
        assert queue == model
        assert len(queue) == len(set(queue))


# ---------------------------------------------------------------- rounds

# Alex, Sam, Jordan, Riley at roster positions 1..4 (the facilitator is position 0, not a seat).
ALEX, SAM, JORDAN, RILEY = 11, 12, 13, 14


def seats(*offline: int) -> list[RosterSeat]:
    return [
        RosterSeat(participant_id=pid, position=position, online=pid not in offline)
        for position, pid in enumerate((ALEX, SAM, JORDAN, RILEY), start=1)
    ]


def pid(seat: RosterSeat | None) -> int | None:
    return None if seat is None else seat.participant_id


def ids_in_round(roster: list[RosterSeat]) -> list[int]:
    """Walk a whole round the way the server does: first, then next after each holder."""
    walked = []
    seat = first_in_round(roster)
    while seat is not None:
        walked.append(seat.participant_id)
        seat = next_in_round(roster, seat.position)
    return walked


def test_round_starts_with_the_first_online_patient_in_roster_order():
    assert pid(first_in_round(seats())) == ALEX
    assert pid(first_in_round(seats(ALEX))) == SAM
    assert pid(first_in_round(seats(ALEX, SAM, JORDAN))) == RILEY


def test_round_with_nobody_online_has_no_first():
    assert first_in_round(seats(ALEX, SAM, JORDAN, RILEY)) is None
    assert first_in_round([]) is None


def test_next_in_round_follows_roster_order():
    roster = seats()
    assert pid(next_in_round(roster, 1)) == SAM
    assert pid(next_in_round(roster, 2)) == JORDAN
    assert pid(next_in_round(roster, 3)) == RILEY


def test_next_in_round_skips_offline_seats():
    roster = seats(SAM, JORDAN)
    assert pid(next_in_round(roster, 1)) == RILEY
    assert ids_in_round(roster) == [ALEX, RILEY]


def test_round_ends_after_the_last():
    assert next_in_round(seats(), 4) is None
    assert next_in_round(seats(RILEY), 3) is None, "the only one after Jordan is offline"
    assert next_in_round(seats(), 99) is None


def test_next_in_round_after_an_offline_holder_position_still_moves_on():
    """The holder may have gone offline meanwhile: the turn passes to whoever is after them."""
    assert pid(next_in_round(seats(SAM), 2)) == JORDAN


def test_whole_round_visits_every_online_patient_once_in_order():
    assert ids_in_round(seats()) == [ALEX, SAM, JORDAN, RILEY]
    assert ids_in_round(seats(RILEY)) == [ALEX, SAM, JORDAN]
    assert ids_in_round(seats(ALEX, RILEY)) == [SAM, JORDAN]


def test_round_order_is_by_position_not_by_input_order_or_id():
    shuffled = [
        RosterSeat(participant_id=1, position=4, online=True),
        RosterSeat(participant_id=2, position=2, online=True),
        RosterSeat(participant_id=99, position=1, online=True),
        RosterSeat(participant_id=50, position=3, online=True),
    ]
    assert ids_in_round(shuffled) == [99, 2, 50, 1]


def test_position_gaps_do_not_matter():
    gappy = [RosterSeat(7, 10, True), RosterSeat(8, 20, False), RosterSeat(9, 30, True)]
    assert pid(first_in_round(gappy)) == 7
    assert pid(next_in_round(gappy, 10)) == 9
    assert pid(next_in_round(gappy, 15)) == 9
    assert next_in_round(gappy, 30) is None


@given(st.lists(st.booleans(), min_size=0, max_size=10))
@settings(max_examples=200, deadline=None, database=None)
def test_round_walk_is_exactly_the_online_seats_in_order(onlines):
    roster = [RosterSeat(participant_id=100 + i, position=i + 1, online=online) for i, online in enumerate(onlines)]
    expected = [seat.participant_id for seat in roster if seat.online]
    assert ids_in_round(list(reversed(roster))) == expected


class _Person:
    """The attributes seats_for reads, without a database."""

    def __init__(self, pk, role="patient", position=1, online=True, muted=False, removed=False):
        self.pk, self.role, self.roster_position, self.is_online = pk, role, position, online
        self.removed_at = "removed" if removed else None
        self._muted = muted

    def is_muted(self, now):
        return self._muted


def test_seats_for_keeps_rostered_patients_and_seats_only_the_online_unmuted():
    people = [
        _Person(1, role="facilitator", position=0),
        _Person(2, position=1),
        _Person(3, position=2, online=False),
        _Person(4, position=3, muted=True),
        _Person(5, position=4, removed=True),
        _Person(6, role="guest", position=10_000),
    ]
    seats = seats_for(people, NOW)
    assert [(s.participant_id, s.online) for s in seats] == [(2, True), (3, False), (4, False)]
    assert next_in_round(seats, after_position=1) is None, "offline and muted patients are skipped"
