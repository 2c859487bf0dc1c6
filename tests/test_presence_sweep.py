"""The sweep of a dead worker's connections, and what absent people held (rooms.actions.presence).

In layers: the sweep as an action on the real database at times the test chooses
(the departure and absence hooks the facilitator registered run inside it), then the
hub's sweep duty with the test's clock. Nothing sleeps: the worker "dies" because the
clock moves past its last heartbeat.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import timezone

from facilitator.actions.floor_queue import do_grant_floor, do_raise_hand
from facilitator.models import Attendance
from rooms.actions.presence import Identity, do_open_connection, do_sweep_stale_connections
from rooms.hub import RoomHub
from rooms.models import Connection, GroupSession, Participant
from tests.conftest import participant

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def alex_on_a_dead_worker(live_group, dana, alex):
    """Alex, connected through worker-1, has a hand up and the floor; worker-1 was last heard from at t0."""
    t0 = timezone.now()
    alex_id = participant(live_group, alex).pk
    do_open_connection(live_group.pk, Identity(member_id=alex.pk), "a1", "worker-1", t0)
    do_raise_hand(live_group.pk, alex_id, t0)
    do_grant_floor(live_group.pk, participant(live_group, dana).pk, participant(live_group, alex).pk, 600, t0)
    do_raise_hand(live_group.pk, alex_id, t0)
    return t0, alex_id


def test_a_fresh_row_is_kept(live_group, alex_on_a_dead_worker):
    t0, alex_id = alex_on_a_dead_worker
    assert do_sweep_stale_connections(t0 + timedelta(seconds=settings.CIRCLE["STALE_SECONDS"] - 1)) == 0
    assert Connection.objects.filter(pk="a1").exists()
    assert Attendance.objects.get(participant_id=alex_id).left_at is None


def test_a_dead_workers_people_leave_and_lose_hand_and_floor(live_group, alex_on_a_dead_worker):
    t0, alex_id = alex_on_a_dead_worker
    now = t0 + timedelta(seconds=settings.CIRCLE["STALE_SECONDS"] + 1)
    assert do_sweep_stale_connections(now) == 1

    alex = Participant.objects.get(pk=alex_id)
    absent_since = now - timedelta(seconds=settings.CIRCLE["ABSENCE_GRACE_SECONDS"])
    assert alex.offline_since == absent_since and alex.hand_raised_at is None
    # The departure hook closed the attendance span; the absence hook released the floor.
    assert Attendance.objects.get(participant_id=alex_id).left_at == absent_since
    assert GroupSession.objects.get(pk=live_group.pk).floor_holder_id is None
    assert do_sweep_stale_connections(now) == 0  # once


async def test_the_hubs_sweep_runs_on_its_clock(live_group, alex_on_a_dead_worker):
    t0, alex_id = alex_on_a_dead_worker
    hub = RoomHub()
    hub.database_ok_since = -1e9  # the database has answered for long: stale rows are dead workers'
    hub.clock = lambda: t0 + timedelta(seconds=settings.CIRCLE["STALE_SECONDS"] - 1)
    await hub._sweep()
    assert await Connection.objects.filter(pk="a1").aexists()

    hub.clock = lambda: t0 + timedelta(seconds=settings.CIRCLE["STALE_SECONDS"] + 1)
    await hub._sweep()
    assert not await Connection.objects.filter(pk="a1").aexists()
    assert (await GroupSession.objects.aget(pk=live_group.pk)).floor_holder_id is None
    assert await database_sync_to_async(lambda: Participant.objects.get(pk=alex_id).hand_raised_at)() is None
