"""Between transactional tests the database is emptied (tests/flush.py): every table but the content types'
and the permissions', which stay as they were; the rows the migrations seeded (the prompt library) are put
back as `migrate` wrote them, whatever a test did to them."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection

from accounts.models import Member
from rooms.models import AuditEntry, GroupSession, Message, Prompt
from tests.flush import KEPT_TABLES, SEED_COPY_PREFIX, SEEDED

pytestmark = pytest.mark.django_db(transaction=True)


def row_counts() -> dict[str, int]:
    counts = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.django_table_names(only_existing=True, include_views=False):
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608 (a table's name)
            counts[table] = cursor.fetchone()[0]
    return counts


def all_rows(table: str) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)} ORDER BY 1")  # noqa: S608 (a table's name)
        return cursor.fetchall()


def test_flush_empties_every_table_and_keeps_content_types_and_permissions(live_group: GroupSession) -> None:
    alex = Member.objects.get(username="alex")
    sender = live_group.participants.get(member=alex)
    assert live_group.started_at is not None
    Message.objects.create(
        session=live_group, participant=sender, seq=1, text="hello", html="hello", sent_at=live_group.started_at
    )
    Permission.objects.get(codename="view_member").user_set.add(alex)
    AuditEntry.objects.create(session=live_group, action="session.start", created_at=live_group.started_at)
    written = {table for table, count in row_counts().items() if count and table not in KEPT_TABLES}
    assert {
        Member._meta.db_table,
        GroupSession._meta.db_table,
        Message._meta.db_table,
        AuditEntry._meta.db_table,
    } <= written
    content_types = set(ContentType.objects.values_list("id", "app_label", "model"))
    permissions = set(Permission.objects.values_list("id", "codename"))
    seeded = SEEDED[connection.alias]
    assert Prompt._meta.db_table in seeded  # the library (facilitator/0003, 0007; rooms/0008)
    as_migrated = {table: all_rows(SEED_COPY_PREFIX + table) for table in seeded}  # copied before the first test
    assert {table: all_rows(table) for table in seeded} == as_migrated
    # A test may change, delete or add to the seeded rows.
    library = Prompt.objects.filter(session__isnull=True)
    library.filter(pk=library.earliest("pk").pk).delete()
    library.update(active=False, text="changed")
    Prompt.objects.create(category="stress", text="Added by a test")
    assert {table: all_rows(table) for table in seeded} != as_migrated

    # As TransactionTestCase flushes after each test.
    call_command("flush", verbosity=0, interactive=False, reset_sequences=False, allow_cascade=False)

    assert {table: count for table, count in row_counts().items() if table not in KEPT_TABLES and count} == {
        table: len(rows) for table, rows in as_migrated.items()
    }
    # The seeded rows are back as migrate wrote them, ids included; a new row takes a fresh id.
    assert {table: all_rows(table) for table in seeded} == as_migrated
    last_seeded = max(row[0] for row in as_migrated[Prompt._meta.db_table])
    assert Prompt.objects.create(category="stress", text="After the flush").pk > last_seeded
    # The same rows, not new ones of the same names: they were never deleted.
    assert set(ContentType.objects.values_list("id", "app_label", "model")) == content_types
    assert set(Permission.objects.values_list("id", "codename")) == permissions
    assert ContentType.objects.get_for_model(Member).model == "member"
