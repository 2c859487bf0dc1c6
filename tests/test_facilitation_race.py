"""Races on PostgreSQL, at the action level: grants, yields and hand raises arriving at the same moment.

Two threads (two database connections, as two daphne workers would have) fire one action each
at the same instant, 24 times over. Every action locks the room row first, so they apply one
after the other; every floor.changed / queue.updated carries the version of its transaction,
so clients that hear the events in any order still end up agreeing with the database.
The same race through two real daphne workers is in tests/test_facilitation_e2e.py.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable

import pytest
from django.db import connection
from django.utils import timezone

from facilitator.actions import floor_queue
from rooms import broadcast
from rooms.actions.floor import queue_ids
from rooms.errors import ActionError
from rooms.models import GroupSession
from tests.conftest import participant

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

PAIRS = 24


def run_together(first: Callable[[], None], second: Callable[[], None]) -> list[BaseException]:
    """Start both at the same instant, each on its own thread and database connection."""
    barrier = threading.Barrier(2)
    failures: list[BaseException] = []

    def worker(action: Callable[[], None]) -> None:
        try:
            barrier.wait()
            action()
        except ActionError as refused:
            if refused.code != "no_floor":  # a yield that lost the race to a grant
                failures.append(refused)
        except BaseException as error:
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(action,)) for action in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return failures


def final_view(events: list[dict], start_version: int = 0) -> tuple[int | None, list[int]]:
    """What a client shows after hearing `events` in this order, keeping only the newest version."""
    holder, queue = None, []
    floor_version = queue_version = start_version
    for event in events:
        if event["type"] == "floor.changed" and event["version"] >= floor_version:
            holder, floor_version = event["holder"], event["version"]
        elif event["type"] == "queue.updated" and event["version"] >= queue_version:
            queue, queue_version = event["queue"], event["version"]
    return holder, queue


def test_concurrent_grants_yields_and_raises_leave_one_holder_and_one_queue(
    live_group, dana, alex, sam, jordan, riley, monkeypatch
):
    if connection.vendor != "postgresql":
        pytest.skip("the race test runs on PostgreSQL (DATABASE_URL=postgres://...)")
    import json

    published: list[dict] = []
    lock = threading.Lock()

    def capture(envelope: broadcast.Envelope) -> None:
        with lock:
            published.append(json.loads(envelope["text"]))

    monkeypatch.setattr(broadcast, "publish", capture)
    room = live_group.pk
    lead = participant(live_group, dana).pk
    patients = [participant(live_group, m).pk for m in (alex, sam, jordan, riley)]

    def grant(target: int) -> Callable[[], None]:
        return lambda: floor_queue.do_grant_floor(room, lead, target, 120, timezone.now())

    def raise_hand(who: int) -> Callable[[], None]:
        return lambda: floor_queue.do_raise_hand(room, who, timezone.now())

    def yield_floor(who: int) -> Callable[[], None]:
        return lambda: floor_queue.do_yield_floor(room, who, timezone.now())

    rng = random.Random(3)
    for n in range(PAIRS):
        holder = GroupSession.objects.get(pk=room).floor_holder_id
        a, b = rng.sample(patients, 2)
        kind = n % 4
        if kind == 0:
            pair = (grant(a), raise_hand(a))  # granted while raising: in the queue or not, never both
        elif kind == 1:
            pair = (grant(a), yield_floor(holder or b))  # a grant against the holder's yield
        elif kind == 2:
            pair = (grant(a), grant(b))  # two grants: one holder
        else:
            pair = (raise_hand(a), yield_floor(holder or a))
        failures = run_together(*pair)
        assert failures == [], failures

        session = GroupSession.objects.get(pk=room)
        queue = queue_ids(session)
        assert len(queue) == len(set(queue))
        if kind == 2:
            assert session.floor_holder_id in (a, b)
        assert final_view(published) == (session.floor_holder_id, queue), f"pair {n} ({kind})"

    # Every client, whatever order the two workers' events reached it in, shows the database's state.
    session = GroupSession.objects.get(pk=room)
    truth = (session.floor_holder_id, queue_ids(session))
    orders = [published, list(reversed(published))]
    for seed in range(20):
        shuffled = list(published)
        random.Random(seed).shuffle(shuffled)
        orders.append(shuffled)
    for order in orders:
        assert final_view(order) == truth

    # One version per transaction, never reused across transactions.
    floor_versions = [e["version"] for e in published if e["type"] == "floor.changed"]
    assert len(floor_versions) == len(set(floor_versions))
    assert len(floor_versions) >= PAIRS * 3 // 4, "every pair with a grant changed the floor"
