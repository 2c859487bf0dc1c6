"""The periodic duties' due check on a clinic with a long history, on tables that were never analysed.

Every worker asks the due conditions four times a second (rooms.actions.all_due). The
bench's clinic day (bench/day.py, issue 25) leaves behind what a clinic's year does:
ended sessions and their participants, which no deadline concerns any more. The check
must find the few rooms and people with a deadline through an index, not read every
session and participant ever held at every tick; with autovacuum off PostgreSQL has no
statistics to tell it the deadlines are rare. No timing is asserted: the plan's shape is.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from facilitator.actions.floor_queue import EXPIRED_FLOOR
from moderation.actions import LAPSED_MUTE
from rooms.actions import DueCondition
from rooms.actions.presence import LEAVING
from rooms.models import GroupSession, Participant

pytestmark = [pytest.mark.services, pytest.mark.django_db]

HISTORY = 20_000  # ended sessions (and a participant each): a few years of a busy clinic


@pytest.fixture(autouse=True)
def postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the planner's guesses without statistics are PostgreSQL's (DATABASE_URL=postgres://...)")


def copy_rows(model: type[GroupSession] | type[Participant], source_id: int, changes: dict[str, str]) -> None:
    """HISTORY copies of one row, with `changes` as SQL expressions of n (1..HISTORY)."""
    columns = [connection.ops.quote_name(f.column) for f in model._meta.concrete_fields if f.column != "id"]
    values = ", ".join(changes.get(column.strip('"'), column) for column in columns)
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 - the models' own names
            f"SELECT {values} FROM {table}, generate_series(1, %s) n WHERE id = %s",
            [HISTORY, source_id],
        )


@pytest.fixture
def long_history(group: GroupSession) -> GroupSession:
    """HISTORY ended sessions of one participant each, then the tables' statistics forgotten (autovacuum off)."""
    first = GroupSession.objects.order_by("pk").last()
    assert first is not None
    copy_rows(GroupSession, group.pk, {"status": "'ended'", "title": "'History ' || n"})
    history = GroupSession.objects.filter(pk__gt=first.pk).order_by("pk")
    source = Participant.objects.filter(session=group).first()
    assert source is not None
    copy_rows(Participant, source.pk, {"session_id": f"{history.first().pk} + n - 1"})  # type: ignore[union-attr]
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if not cursor.fetchone()[0]:
            pytest.fail("forgetting a table's statistics takes a PostgreSQL superuser")
        for model in (GroupSession, Participant):
            table = model._meta.db_table
            cursor.execute("DELETE FROM pg_statistic WHERE starelid = %s::regclass", [table])
            cursor.execute("UPDATE pg_class SET reltuples = -1, relpages = 0 WHERE oid = %s::regclass", [table])
    return group


def due_plan(condition: DueCondition[Any]) -> str:
    """The plan of the hub's check (rooms.actions.all_due) for this condition."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN SELECT {condition.exists_sql()}", condition._params(timezone.now()))
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize(
    ("condition", "table"),
    [(EXPIRED_FLOOR, "rooms_groupsession"), (LEAVING, "rooms_participant"), (LAPSED_MUTE, "rooms_participant")],
    ids=["floor expiry", "departures", "lapsed mutes"],
)
def test_a_due_check_reads_an_index_not_the_history(long_history, condition, table):
    plan = due_plan(condition)

    assert f"Seq Scan on {table}" not in plan, plan
    assert "Index" in plan, plan  # the deadline's index, which holds only the rows that have one
