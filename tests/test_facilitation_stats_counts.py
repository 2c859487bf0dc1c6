"""Participation counts: kept on each participant's row by the actions, equal to a recount of their messages.

The stats ticker reads `Participant.room_messages` / `room_characters` instead of
counting every message of the session on every tick (facilitator.stats). These tests
hold the counts to the definition they replace: messages to the room, not removed.
"""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.apps import apps as installed_apps
from django.db import connection
from django.db.models import Count, Q, Sum
from django.db.models.functions import Length
from django.utils import timezone

from facilitator.stats import load_stats
from moderation.actions import do_remove_message
from rooms.actions.chat import do_send_chat, do_send_private
from rooms.errors import ActionError
from rooms.models import Audience, Message, Participant
from tests.conftest import participant

pytestmark = pytest.mark.django_db(transaction=True)


def recount(session_id: int) -> dict[int, tuple[int, int]]:
    """What the stats counted before the counters existed: an aggregate over every message."""
    room = Q(messages__audience=Audience.ROOM, messages__removed_at__isnull=True)
    rows = Participant.objects.filter(session_id=session_id).annotate(
        sent=Count("messages", filter=room), chars=Sum(Length("messages__text"), filter=room)
    )
    return {p.pk: (p.sent, p.chars or 0) for p in rows}


def kept(session_id: int) -> dict[int, tuple[int, int]]:
    rows = Participant.objects.filter(session_id=session_id).values_list("pk", "room_messages", "room_characters")
    return {pk: (messages, characters) for pk, messages, characters in rows}


def test_counts_follow_sends_private_lines_and_removals(live_group, dana, alex, sam):
    live_group.mode = "open"
    live_group.save(update_fields=["mode"])
    dana_id, alex_id, sam_id = (participant(live_group, m).pk for m in (dana, alex, sam))
    now = timezone.now()
    later = iter(now + timedelta(seconds=20 * i) for i in range(1, 100))  # clear of the rate limit

    kept_message = do_send_chat(live_group.pk, alex_id, "  I slept badly  ", next(later))
    taken_back = do_send_chat(live_group.pk, alex_id, "my neighbour's full name", next(later))
    do_send_chat(live_group.pk, sam_id, "Same here: é, 😀", next(later))
    private_line = do_send_chat(live_group.pk, sam_id, "can we talk after?", next(later), to="facilitators")
    do_send_private(live_group.pk, dana_id, sam_id, "of course", next(later))
    do_send_chat(live_group.pk, dana_id, "Welcome back", next(later))
    for message in (taken_back, taken_back, private_line):  # twice: the second changes nothing
        do_remove_message(live_group.pk, dana_id, message.pk, "privacy", next(later))

    counts = kept(live_group.pk)
    assert counts == recount(live_group.pk)
    assert counts[alex_id] == (1, len(kept_message.text)) == (1, len("I slept badly"))  # stored stripped
    assert counts[sam_id] == (1, len("Same here: é, 😀"))  # characters, not bytes; the private line not counted
    assert counts[dana_id] == (1, len("Welcome back"))  # the private.send not counted
    stats = load_stats(live_group, next(later)).participants
    assert {row.participant_id: (row.messages, row.characters) for row in stats} == {
        pid: counts[pid] for pid in (row.participant_id for row in stats)
    }


def test_a_refused_send_counts_nothing(live_group, alex):
    alex_id = participant(live_group, alex).pk  # the room is moderated: Alex does not have the floor
    with pytest.raises(ActionError) as refused:
        do_send_chat(live_group.pk, alex_id, "out of turn", timezone.now())
    assert refused.value.code == "no_floor"
    assert kept(live_group.pk)[alex_id] == (0, 0) == recount(live_group.pk)[alex_id]


def test_the_migration_counts_what_sessions_under_way_already_said(live_group, alex, sam):
    alex_id, sam_id = (participant(live_group, m).pk for m in (alex, sam))
    now = timezone.now()
    for seq, (who, text, audience, removed) in enumerate(
        [
            (alex_id, "first", Audience.ROOM, None),
            (alex_id, "second one", Audience.ROOM, None),
            (alex_id, "removed", Audience.ROOM, now),
            (sam_id, "to the facilitators", Audience.FACILITATORS, None),
        ],
        start=1,
    ):
        Message.objects.create(
            session=live_group, participant_id=who, seq=seq, text=text, html=text, sent_at=now,
            audience=audience, removed_at=removed,
        )  # fmt: skip
    Participant.objects.filter(session=live_group).update(room_messages=0, room_characters=0)  # as before 0003

    migration = importlib.import_module("rooms.migrations.0003_participant_room_counts")
    with connection.schema_editor() as editor:
        migration.count_room_messages(installed_apps, editor)

    assert kept(live_group.pk)[alex_id] == (2, len("first") + len("second one"))
    assert kept(live_group.pk)[sam_id] == (0, 0)
    assert kept(live_group.pk) == recount(live_group.pk)
