"""The deadline duties (floor expiry, mute lapse) ask first, then act exactly when a deadline passed.

Four times a second on every worker the hub asks each duty's due check (one trip to
the database thread for all of them); only a due duty runs. A due check and its
duty's claim select on one condition (`EXPIRED_FLOOR`, `LAPSED_MUTE`), so it cannot
skip a deadline or run the duty for nothing. The hub is ticked here with times of the
test's choosing (RoomHub.run_duties): nothing sleeps.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from facilitator.actions.floor_queue import EXPIRED_FLOOR, FLOOR_EXPIRY, do_grant_floor
from moderation.actions import LAPSED_MUTE, MUTE_LAPSE, do_mute
from rooms.hub import RoomHub
from rooms.models import GroupSession, Participant
from tests.conftest import participant, pid

pytestmark = pytest.mark.django_db(transaction=True)

DEADLINE_DUTIES = [FLOOR_EXPIRY, MUTE_LAPSE]


def due(now):
    """Each duty's due check, and that it agrees with the rows its duty would claim at that time."""
    checks = (EXPIRED_FLOOR, LAPSED_MUTE)
    assert [check.is_due(now) for check in checks] == [check.rows(now).exists() for check in checks]
    return tuple(check.is_due(now) for check in checks)


def test_nothing_due_in_a_quiet_room(live_group, dana, alex):
    do_mute(live_group.pk, participant(live_group, dana).pk, participant(live_group, alex).pk, None, timezone.now())
    assert due(timezone.now() + timedelta(days=1)) == (False, False)  # muted until unmuted: never due


async def test_a_floor_deadline_is_due_from_its_second_on_and_the_hub_releases_it(live_group, dana, alex):
    hub = RoomHub()
    now = timezone.now()
    alex_id = await pid(live_group, alex)
    await database_sync_to_async(do_grant_floor)(live_group.pk, await pid(live_group, dana), alex_id, 60, now)
    assert await database_sync_to_async(due)(now + timedelta(seconds=59)) == (False, False)
    await hub.run_duties(DEADLINE_DUTIES, now + timedelta(seconds=59))
    assert (await GroupSession.objects.aget(pk=live_group.pk)).floor_holder_id == alex_id

    assert await database_sync_to_async(due)(now + timedelta(seconds=60)) == (True, False)
    await hub.run_duties(DEADLINE_DUTIES, now + timedelta(seconds=60))
    assert (await GroupSession.objects.aget(pk=live_group.pk)).floor_holder_id is None
    assert await database_sync_to_async(due)(now + timedelta(seconds=61)) == (False, False)


async def test_a_timed_mute_is_due_when_it_lapses_and_the_hub_lifts_it(live_group, dana, alex, sam):
    hub = RoomHub()
    now = timezone.now()
    dana_id = await pid(live_group, dana)
    await database_sync_to_async(do_mute)(live_group.pk, dana_id, await pid(live_group, alex), 5, now)
    await database_sync_to_async(do_mute)(live_group.pk, dana_id, await pid(live_group, sam), None, now)
    assert await database_sync_to_async(due)(now + timedelta(minutes=4, seconds=59)) == (False, False)

    assert await database_sync_to_async(due)(now + timedelta(minutes=5)) == (False, True)
    await hub.run_duties(DEADLINE_DUTIES, now + timedelta(minutes=5))
    muted = Participant.objects.filter(session=live_group, muted=True).values_list("member__username", flat=True)
    assert {name async for name in muted} == {"sam"}
    assert await database_sync_to_async(due)(now + timedelta(days=1)) == (False, False)


def test_a_tick_asks_every_deadline_duty_in_one_query(live_group, dana, alex):
    """However many deadline duties the apps registered, an idle worker's tick is one statement (issue 25)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from rooms.actions.presence import DEPARTURES
    from rooms.hub import due_duties

    now = timezone.now()
    do_grant_floor(live_group.pk, participant(live_group, dana).pk, participant(live_group, alex).pk, 60, now)
    duties = [*DEADLINE_DUTIES, DEPARTURES]
    with CaptureQueriesContext(connection) as quiet:
        assert due_duties(duties, now) == set()
    with CaptureQueriesContext(connection) as later:
        assert due_duties(duties, now + timedelta(hours=1)) == {FLOOR_EXPIRY.name}
    assert len(quiet.captured_queries) == len(later.captured_queries) == 1
