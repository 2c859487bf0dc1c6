"""Emptying the database after each transactional test, for a fraction of Django's cost.

Django's TransactionTestCase (pytest-django's `transactional_db`, every consumer
test) empties the database after each test with the `flush` command. On
PostgreSQL that is one TRUNCATE of every table, which cost the server about 150 ms
of CPU per test here (it gives each of the 23 tables new files), against about 5 ms
to DELETE the few rows a test wrote (the audit trail, which refuses DELETE on
PostgreSQL, is still truncated: moderation's migration 0002). flush then sends
post_migrate, which re-creates the content types and permissions it has just
deleted (30-80 ms of the test process's CPU); no test changes those rows, so they
stay, and post_migrate finds them all present. Every other table ends as empty as
before.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType

from rooms.models import AuditEntry

KEPT_TABLES = frozenset({ContentType._meta.db_table, Permission._meta.db_table})
APPEND_ONLY_TABLE = AuditEntry._meta.db_table


def sql_flush_keeping_content_types(
    style: Any, connection: Any, reset_sequences: bool = False, allow_cascade: bool = False
) -> list[str]:
    """What `flush` runs (django.core.management.sql.sql_flush's signature): every table emptied but KEPT_TABLES."""
    tables = [
        table
        for table in connection.introspection.django_table_names(only_existing=True, include_views=False)
        if table not in KEPT_TABLES
    ]
    if connection.vendor == "postgresql" and not reset_sequences:
        # flush runs the statements in one transaction, and Django's foreign keys are
        # DEFERRABLE INITIALLY DEFERRED: checked at the commit, when every row is gone.
        return [
            f"{'TRUNCATE' if table == APPEND_ONLY_TABLE else 'DELETE FROM'} {connection.ops.quote_name(table)}"
            for table in tables
        ]
    return connection.ops.sql_flush(style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
