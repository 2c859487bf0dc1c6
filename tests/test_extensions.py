"""The extension points (rooms.extensions) and the hub's periodic duties, ticked by the test with its own clock.

Pure: nothing here touches the database or sleeps; the hub is given the duties and
the time, as its ticker does every period with `hub.clock()`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rooms.extensions import (
    DuplicateExtension,
    DutyTick,
    PeriodicDuty,
    Registry,
    absence_hooks,
    arrival_hooks,
    departure_hooks,
    floor_released_hooks,
    message_stored_hooks,
    periodic_duties,
    session_ended_hooks,
    state_contributors,
)
from rooms.hub import RoomHub, duties_by_period

NOON = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_a_registry_refuses_a_second_entry_of_the_same_name():
    hooks: Registry[str] = Registry("test hooks")
    hooks.register("attendance", "first")
    with pytest.raises(DuplicateExtension, match="two test hooks are named 'attendance'"):
        hooks.register("attendance", "second")
    assert list(hooks) == ["first"]


def test_a_registry_keeps_the_order_of_registration():
    hooks: Registry[int] = Registry("test hooks")
    for number, name in enumerate(["b", "a", "c"]):
        hooks.register(name, number)
    assert list(hooks) == [0, 1, 2] and hooks.names() == ["b", "a", "c"]


def test_the_apps_plug_in_at_start_up():
    """What facilitator and moderation register in their AppConfig.ready()."""
    assert set(periodic_duties.names()) >= {"facilitator.floor_expiry", "facilitator.stats", "moderation.mute_lapse"}
    assert "facilitator.attendance" in arrival_hooks.names()
    assert "facilitator.attendance" in departure_hooks.names()
    assert "facilitator.release_hand_and_floor" in absence_hooks.names()
    assert "facilitator.close_records" in session_ended_hooks.names()
    assert floor_released_hooks.names() == ["facilitator.pass_floor_on"]  # one app decides what follows a release
    assert "moderation.crisis_scan" in message_stored_hooks.names()
    assert len(state_contributors) >= 1


class Recorder:
    """A duty's due check and run, recording what the hub gave them."""

    def __init__(self, name: str, *, due: bool | None) -> None:
        self.ticks: list[DutyTick] = []
        self.asked: list[datetime] = []
        self.is_due = due
        self.duty = PeriodicDuty(
            name=name,
            every_seconds=lambda: 0.25,
            run=self.run,
            due=None if due is None else self.due,
        )

    def due(self, now: datetime) -> bool:
        self.asked.append(now)
        return bool(self.is_due)

    async def run(self, tick: DutyTick) -> None:
        self.ticks.append(tick)


async def test_each_duty_runs_once_per_tick_with_the_time_and_its_own_count():
    hub = RoomHub()
    every_tick, other = Recorder("every", due=None), Recorder("other", due=True)
    for seconds in range(3):
        await hub.run_duties([every_tick.duty, other.duty], NOON + timedelta(seconds=seconds))
    for recorder in (every_tick, other):
        assert [t.now for t in recorder.ticks] == [NOON, NOON + timedelta(seconds=1), NOON + timedelta(seconds=2)]
        assert [t.number for t in recorder.ticks] == [0, 1, 2]
        assert all(t.rooms is hub for t in recorder.ticks)
    assert other.asked == [t.now for t in other.ticks]


async def test_a_duty_that_is_not_due_is_skipped_and_asked_again_next_tick():
    hub = RoomHub()
    idle = Recorder("idle", due=False)
    await hub.run_duties([idle.duty], NOON)
    await hub.run_duties([idle.duty], NOON + timedelta(seconds=1))
    assert idle.ticks == [] and idle.asked == [NOON, NOON + timedelta(seconds=1)]

    idle.is_due = True
    await hub.run_duties([idle.duty], NOON + timedelta(seconds=2))
    assert [(t.now, t.number) for t in idle.ticks] == [(NOON + timedelta(seconds=2), 0)]  # its first run


def test_duties_of_one_period_tick_together():
    fast, also_fast = Recorder("fast", due=True).duty, Recorder("also fast", due=False).duty
    slow = PeriodicDuty(name="slow", every_seconds=lambda: 1.0, run=Recorder("x", due=None).run)
    late = PeriodicDuty(
        name="late", every_seconds=lambda: 1.0, first_after_seconds=lambda: 4.0, run=Recorder("y", due=None).run
    )
    assert duties_by_period([fast, slow, also_fast, late]) == {
        (0.25, 0.0): [fast, also_fast],
        (1.0, 0.0): [slow],
        (1.0, 4.0): [late],
    }
