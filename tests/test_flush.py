"""Between transactional tests the database is emptied (tests/flush.py): every table but the content types'
and the permissions', which stay as they were."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection

from accounts.models import Member
from rooms.models import AuditEntry, GroupSession, Message
from tests.flush import KEPT_TABLES

pytestmark = pytest.mark.django_db(transaction=True)


def row_counts() -> dict[str, int]:
    counts = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.django_table_names(only_existing=True, include_views=False):
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608 (a table's name)
            counts[table] = cursor.fetchone()[0]
    return counts


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

    # As TransactionTestCase flushes after each test.
    call_command("flush", verbosity=0, interactive=False, reset_sequences=False, allow_cascade=False)

    assert {table: count for table, count in row_counts().items() if table not in KEPT_TABLES and count} == {}
    # The same rows, not new ones of the same names: they were never deleted.
    assert set(ContentType.objects.values_list("id", "app_label", "model")) == content_types
    assert set(Permission.objects.values_list("id", "codename")) == permissions
    assert ContentType.objects.get_for_model(Member).model == "member"
