"""The hub's due-timer sweep (rooms.hub.expire_due_timers) asks first, then acts exactly when a deadline passed.

Four times a second on every worker, one statement (`due_timers`) says whether a
floor has run out or a timed mute has lapsed; only then do the sweeps run. Its
conditions must be the sweeps' own, or a deadline would be skipped (too narrow) or
the sweeps would run for nothing (too wide).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from facilitator.actions import do_grant_floor
from moderation.actions import do_mute
from rooms.hub import due_timers, expire_due_timers
from rooms.models import GroupSession, Participant
from tests.conftest import participant

pytestmark = pytest.mark.django_db(transaction=True)


def test_nothing_due_in_a_quiet_room(live_group, dana, alex):
    do_mute(live_group.pk, participant(live_group, dana).pk, participant(live_group, alex).pk, None, timezone.now())
    assert due_timers(timezone.now() + timedelta(days=1)) == (False, False)  # muted until unmuted: never due


def test_a_floor_deadline_is_due_from_its_second_on_and_the_sweep_releases_it(live_group, dana, alex):
    now = timezone.now()
    do_grant_floor(live_group.pk, participant(live_group, dana).pk, participant(live_group, alex).pk, 60, now)
    assert due_timers(now + timedelta(seconds=59)) == (False, False)
    expire_due_timers(now + timedelta(seconds=59))
    assert GroupSession.objects.get(pk=live_group.pk).floor_holder_id == participant(live_group, alex).pk

    assert due_timers(now + timedelta(seconds=60)) == (True, False)
    expire_due_timers(now + timedelta(seconds=60))
    assert GroupSession.objects.get(pk=live_group.pk).floor_holder_id is None
    assert due_timers(now + timedelta(seconds=61)) == (False, False)


def test_a_timed_mute_is_due_when_it_lapses_and_the_sweep_lifts_it(live_group, dana, alex, sam):
    now = timezone.now()
    dana_id = participant(live_group, dana).pk
    do_mute(live_group.pk, dana_id, participant(live_group, alex).pk, 5, now)
    do_mute(live_group.pk, dana_id, participant(live_group, sam).pk, None, now)
    assert due_timers(now + timedelta(minutes=4, seconds=59)) == (False, False)

    assert due_timers(now + timedelta(minutes=5)) == (False, True)
    expire_due_timers(now + timedelta(minutes=5))
    muted = set(Participant.objects.filter(session=live_group, muted=True).values_list("member__username", flat=True))
    assert muted == {"sam"}
    assert due_timers(now + timedelta(days=1)) == (False, False)
