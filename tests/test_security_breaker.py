"""The database breaker lets calls through as soon as a probe finds the database back (issue 22, class 12).

It used to refuse for about another second after the first healthy probe: a call let
through before the outage (waiting for the pool's timeout, or on a pooled connection
that died with the old server) failed after the probe's success and opened it again.
Now a connection failure opens it only when nothing answered since that call began.
The clock is injected and the calls are futures the test settles: nothing sleeps.

Inputs: 6 kinds of connection failure arriving late, each after a healthy probe
and after a healthy ordinary call; a late failure during a probe; a fresh failure after
the recovery; 4 outcomes that are answers (not outages).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from django.db import IntegrityError, InterfaceError, OperationalError

from rooms.errors import ActionError
from rooms.faults import DatabaseBreaker, DatabaseUnavailable


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def caused(error: OperationalError | InterfaceError, cause: BaseException) -> BaseException:
    """Django's error wrapping psycopg's, as the backend raises it."""
    error.__cause__ = cause
    return error


def pool_timeout() -> BaseException:
    from psycopg_pool import PoolTimeout

    return caused(OperationalError("couldn't get a connection"), PoolTimeout("couldn't get a connection after 3 s"))


def sqlstate_error(name: str) -> Callable[[], BaseException]:
    def make() -> BaseException:
        from psycopg import errors

        return caused(OperationalError(name), getattr(errors, name)(name))

    return make


def closed_connection() -> BaseException:
    import psycopg

    return caused(OperationalError("server closed the connection unexpectedly"), psycopg.OperationalError("closed"))


CONNECTION_FAILURES: dict[str, Callable[[], BaseException]] = {
    "pool timeout": pool_timeout,
    "closed by the server": closed_connection,
    "admin shutdown (57P01)": sqlstate_error("AdminShutdown"),
    "crash shutdown (57P02)": sqlstate_error("CrashShutdown"),
    "connection failure (08006)": sqlstate_error("ConnectionFailure"),
    "interface error": lambda: InterfaceError("connection already closed"),
}


class Calls:
    """Guarded calls whose outcome the test decides, one future each."""

    def __init__(self, breaker: DatabaseBreaker) -> None:
        self.breaker = breaker
        self.futures: dict[str, asyncio.Future[Any]] = {}

    def start(self, name: str) -> asyncio.Task[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.futures[name] = future

        async def action() -> Any:
            return await future

        return asyncio.create_task(self.breaker.wrap(action)())

    async def settle(self, task: asyncio.Task[Any], name: str, outcome: BaseException | None) -> None:
        if outcome is None:
            self.futures[name].set_result(name)
        else:
            self.futures[name].set_exception(outcome)
        await asyncio.wait([task])

    async def goes_through(self, name: str) -> bool:
        task = self.start(name)
        await asyncio.sleep(0)
        if task.done():  # refused at once
            return not isinstance(task.exception(), DatabaseUnavailable)
        await self.settle(task, name, None)
        return True


async def outage(calls: Calls, clock: Clock, failure: Callable[[], BaseException], stragglers: int) -> list[Any]:
    """Calls let through before the outage, still waiting; the first fails and opens the breaker."""
    waiting = [(calls.start(f"straggler {n}"), f"straggler {n}") for n in range(stragglers + 1)]
    await asyncio.sleep(0)
    first, name = waiting.pop(0)
    await calls.settle(first, name, failure())
    assert calls.breaker.is_open
    assert not await calls.goes_through("refused while open")
    clock.now += DatabaseBreaker.OPEN_SECONDS  # the open second has passed: the next call probes
    return waiting


@pytest.mark.parametrize("failure", CONNECTION_FAILURES.values(), ids=CONNECTION_FAILURES.keys())
@pytest.mark.parametrize("healthy", ["probe", "the probe, then an ordinary call"])
async def test_once_a_probe_succeeds_calls_go_through_at_once(failure, healthy):
    clock = Clock()
    breaker = DatabaseBreaker(clock=clock)
    calls = Calls(breaker)
    stragglers = await outage(calls, clock, failure, stragglers=3)

    assert await calls.goes_through("probe")
    assert not breaker.is_open
    if healthy != "probe":
        assert await calls.goes_through("ordinary")
    # The calls let through before the outage fail only now: they say nothing about the database now.
    for task, name in stragglers:
        await calls.settle(task, name, failure())
        assert not breaker.is_open, name
        assert await calls.goes_through(f"right after {name}"), "refused although the database is back"


async def test_a_late_failure_during_the_probe_neither_ends_the_probe_nor_lets_a_second_one_in():
    clock = Clock()
    breaker = DatabaseBreaker(clock=clock)
    calls = Calls(breaker)
    (straggler, name), *_ = await outage(calls, clock, pool_timeout, stragglers=1)
    probe = calls.start("probe")
    await asyncio.sleep(0)
    await calls.settle(straggler, name, pool_timeout())
    clock.now += DatabaseBreaker.OPEN_SECONDS
    assert not await calls.goes_through("a second probe"), "only one probe at a time"
    await calls.settle(probe, "probe", None)
    assert await calls.goes_through("after the probe")


async def test_a_failure_after_the_recovery_still_opens_it():
    clock = Clock()
    breaker = DatabaseBreaker(clock=clock)
    calls = Calls(breaker)
    await outage(calls, clock, closed_connection, stragglers=0)
    assert await calls.goes_through("probe")
    task = calls.start("fails again")
    await asyncio.sleep(0)
    await calls.settle(task, "fails again", pool_timeout())
    assert breaker.is_open
    assert not await calls.goes_through("refused again")


@pytest.mark.parametrize(
    "answer",
    [ActionError("not_allowed", "no"), IntegrityError("duplicate key"), OperationalError("deadlock detected"), None],
    ids=["refusal", "constraint", "deadlock", "success"],
)
async def test_an_answer_from_the_database_closes_it(answer):
    clock = Clock()
    breaker = DatabaseBreaker(clock=clock)
    calls = Calls(breaker)
    await outage(calls, clock, pool_timeout, stragglers=0)
    probe = calls.start("probe")
    await asyncio.sleep(0)
    await calls.settle(probe, "probe", answer)
    assert not breaker.is_open
    assert await calls.goes_through("next")
