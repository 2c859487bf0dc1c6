"""The plans of the connect's and the catch-up's message reads on a PostgreSQL table that was never analysed.

Deployments run with autovacuum off too (the bench machines do, issue 25): rooms_message
may hold hundreds of thousands of rows with no statistics. PostgreSQL then guesses
that each IS NULL filter keeps 1 row in 200, reads a room's whole history and sorts
it at every connect (144 ms for a room of 10,000 messages). The partial indexes
message_shown and message_removed (rooms.models.Message) hold those filters, so the
plan walks an index in seq order and stops at the limit, whatever the statistics
say. No timing is asserted: the plan's shape is.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import QuerySet

from accounts.models import Member
from rooms.models import GroupSession, Message
from rooms.visibility import readable_messages, visible_messages
from tests.conftest import participant

pytestmark = [pytest.mark.services, pytest.mark.django_db]

HISTORY = 20_000  # a long room: the whole of it is what a bad plan reads


@pytest.fixture(autouse=True)
def postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the planner's guesses without statistics are PostgreSQL's (DATABASE_URL=postgres://...)")


@pytest.fixture
def long_room(live_group: GroupSession, alex: Member) -> GroupSession:
    """A room of HISTORY messages (a few removed) on a rooms_message without statistics.

    The statistics are forgotten inside the test's transaction (rolled back after it), as on a
    table that autovacuum never analysed: that takes a superuser, as the bench's and CI's are.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if not cursor.fetchone()[0]:
            pytest.fail("forgetting a table's statistics takes a PostgreSQL superuser")
        cursor.execute(
            f"""INSERT INTO {Message._meta.db_table} (session_id, participant_id, seq, text, html, sent_at, audience,
                removed_at)
            SELECT %s, %s, n, 'hello', 'hello', now() - interval '1 day' + n * interval '1 s', 'room',
                CASE WHEN n %% 1000 = 0 THEN now() END
            FROM generate_series(1, %s) n""",  # noqa: S608 - the model's own table name
            [live_group.pk, participant(live_group, alex).pk, HISTORY],
        )
        cursor.execute("DELETE FROM pg_statistic WHERE starelid = %s::regclass", [Message._meta.db_table])
        cursor.execute(
            "UPDATE pg_class SET reltuples = -1, relpages = 0 WHERE oid = %s::regclass", [Message._meta.db_table]
        )
    GroupSession.objects.filter(pk=live_group.pk).update(last_seq=HISTORY)
    return live_group


def plan(queryset: QuerySet[Message]) -> str:
    return queryset.explain()


def test_the_connects_newest_messages_walk_an_index_backwards(long_room, alex):
    viewer = participant(long_room, alex)

    shown = plan(visible_messages(viewer).order_by("-seq")[:100])  # rooms.visibility.recent_visible

    assert "Index Scan Backward" in shown, shown
    assert "Sort" not in shown, shown  # no read and sort of the whole room


def test_a_catch_up_walks_an_index_from_its_seq(long_room, alex):
    viewer = participant(long_room, alex)

    caught_up = plan(visible_messages(viewer).filter(seq__gt=HISTORY - 5).order_by("seq")[:500])

    assert "Index Scan" in caught_up, caught_up
    assert "Sort" not in caught_up, caught_up


def test_the_removed_messages_before_a_catch_up_come_from_their_own_index(long_room, alex):
    viewer = participant(long_room, alex)

    # rooms.state.removed_before: one row in a thousand; a plan on the room's index reads all of them.
    removed = plan(
        readable_messages(viewer).filter(seq__lte=HISTORY - 5, removed_at__isnull=False).order_by("-seq")[:500]
    )

    assert "message_removed" in removed, removed
