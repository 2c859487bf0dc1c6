"""The chat store on PostgreSQL: what chat.send and a batch send to the server, round trip by round trip.

The wire protocol is read from libpq's own trace of the action's connection
(psycopg.pq.PGconn.trace): every Sync the client sends ends a round trip (it waits
for the server's ReadyForQuery before it sends on). The hot path's promise
(rooms.chat_store): the claim's statements leave together, and the writes leave
with the COMMIT. psycopg sends the transaction's BEGIN with a Sync of its own
(psycopg's Connection._start_query, in pipeline mode), so that is a round trip too.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from rooms.actions.chat import ChatRequest, do_send_chat, do_send_chats
from rooms.actions.lifecycle import do_schedule_session
from rooms.models import GroupSession, Message
from tests.conftest import participant

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("round trips and pipelines are PostgreSQL's (DATABASE_URL=postgres://...)")


def round_trips(action: Callable[[], Any]) -> list[list[str]]:
    """The client's messages of each round trip while `action` runs: "Execute", or "Execute COMMIT" and the
    like for a statement parsed in it by text (BEGIN, COMMIT; the prepared ones are bound by name)."""
    pgconn = connection.connection.pgconn
    with tempfile.TemporaryFile("w+") as trace:
        pgconn.trace(trace.fileno())
        try:
            action()
        finally:
            pgconn.untrace()
        trace.seek(0)
        lines = trace.read().splitlines()
    trips: list[list[str]] = [[]]
    parsed = ""
    for line in lines:
        _time, direction, _length, message, *rest = line.split("\t")
        if direction != "F":
            continue
        if message == "Parse":
            words = rest[0].split('"')
            parsed = words[3] if len(words) > 3 and words[1] == "" else ""
        elif message == "Execute":
            trips[-1].append(f"Execute {parsed}".strip())
            parsed = ""
        elif message == "Sync":
            trips.append([])
    return [trip for trip in trips if trip]


def test_one_message_the_claim_together_and_the_insert_with_the_commit(live_group, dana):
    lead = participant(live_group, dana).pk
    do_send_chat(live_group.pk, lead, "Welcome", timezone.now())  # the statements are prepared

    trips = round_trips(lambda: do_send_chat(live_group.pk, lead, "Let's begin", timezone.now()))

    assert trips == [
        ["Execute BEGIN"],
        ["Execute", "Execute"],  # the room's UPDATE, the sender's SELECT (drawing the message's id)
        ["Execute", "Execute COMMIT"],  # the INSERT (and its count), the COMMIT
    ]
    assert Message.objects.filter(session=live_group, text="Let's begin").exists()


def test_a_batch_of_two_rooms_in_as_many_round_trips_as_one_message(live_group, alex, sam, jordan):
    other = do_schedule_session(
        title="Evening group", facilitator="dana", patients=["jordan"], starts_at=timezone.now()
    )
    GroupSession.objects.filter(pk__in=[live_group.pk, other.pk]).update(status="live", mode="open")
    senders = [(live_group, alex), (live_group, sam), (other, jordan)]

    def batch(label: str) -> None:
        now = timezone.now()
        requests = [
            ChatRequest(room.pk, participant(room, member).pk, f"{label} hello", now) for room, member in senders
        ]
        assert all(isinstance(result, Message) for result in do_send_chats(requests))

    batch("warm")  # the statements are prepared
    trips = round_trips(lambda: batch("traced"))

    assert trips == [
        ["Execute BEGIN"],
        ["Execute", "Execute"],  # the rooms locked, the senders read (each drawing an id)
        ["Execute"] * 5 + ["Execute COMMIT"],  # three INSERTs, two rooms' last seq, the COMMIT
    ]
    assert Message.objects.filter(text="traced hello").count() == 3
