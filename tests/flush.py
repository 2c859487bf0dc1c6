"""Emptying the database after each transactional test, for a fraction of Django's cost.

Django's TransactionTestCase (pytest-django's `transactional_db`, every consumer
test) empties the database after each test with the `flush` command. On
PostgreSQL that is one TRUNCATE of every table, which cost the server about 150 ms
of CPU per test here (it gives each of the 23 tables new files), against about 5 ms
to DELETE the few rows a test wrote (the audit trail, which refuses DELETE on
PostgreSQL, is still truncated: moderation's migration 0002). flush then sends
post_migrate, which re-creates the content types and permissions it has just
deleted (30-80 ms of the test process's CPU); no test changes those rows, so they
stay, and post_migrate finds them all present.

Every other table ends as `migrate` left it: the rows the data migrations seed (the
prompt library, its categories and translations) are put back after the DELETE, in
the same transaction, from a copy made once before the first test
(`set_aside_seeded_rows`). Django's TRUNCATE lost them, so a test that reads the
library passed or failed by whether a transactional test had run before it in its
process (CI runs the suite in 6 processes in any order). The copy is SQL
(`INSERT ... SELECT` from a table beside it) rather than Django's
`serialized_rollback`, which would serialize and reload every row, content types
and permissions included, after each test.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType

from rooms.models import AuditEntry

KEPT_TABLES = frozenset({ContentType._meta.db_table, Permission._meta.db_table})
APPEND_ONLY_TABLE = AuditEntry._meta.db_table
SEED_COPY_PREFIX = "test_seed_copy__"

# Per database alias: each table that held rows right after `migrate` (but KEPT_TABLES), with its columns.
SEEDED: dict[str, dict[str, list[str]]] = {}


def flushed_tables(connection: Any) -> list[str]:
    return [
        table
        for table in connection.introspection.django_table_names(only_existing=True, include_views=False)
        if table not in KEPT_TABLES
    ]


def set_aside_seeded_rows(connection: Any) -> dict[str, list[str]]:
    """Copy every table the migrations wrote rows into to a table of its own, before any test; returns them."""
    quote = connection.ops.quote_name
    seeded: dict[str, list[str]] = {}
    with connection.cursor() as cursor:
        for table in flushed_tables(connection):
            cursor.execute(f"SELECT 1 FROM {quote(table)} LIMIT 1")  # noqa: S608 (a table's name)
            if cursor.fetchone() is None:
                continue
            if table == APPEND_ONLY_TABLE:  # TRUNCATEd below, where an INSERT would be the wrong fix
                raise AssertionError(f"a migration writes {table}: tests/flush.py does not restore it")
            columns = [column.name for column in connection.introspection.get_table_description(cursor, table)]
            copy = quote(SEED_COPY_PREFIX + table)
            cursor.execute(f"DROP TABLE IF EXISTS {copy}")
            cursor.execute(f"CREATE TABLE {copy} AS SELECT * FROM {quote(table)}")  # noqa: S608 (a table's name)
            seeded[table] = columns
    SEEDED[connection.alias] = seeded
    return seeded


def restore_seeded_rows(style: Any, connection: Any, reset_sequences: bool) -> list[str]:
    """INSERTs putting back what set_aside_seeded_rows copied (and, if the flush restarted the sequences, moving
    them past the restored ids)."""
    quote = connection.ops.quote_name
    seeded = SEEDED.get(connection.alias, {})
    statements = []
    for table, columns in seeded.items():
        names = ", ".join(quote(column) for column in columns)
        statements.append(
            f"INSERT INTO {quote(table)} ({names}) SELECT {names} FROM {quote(SEED_COPY_PREFIX + table)}"  # noqa: S608
        )
    if reset_sequences:
        models = [model for model in apps.get_models() if model._meta.db_table in seeded]
        statements.extend(connection.ops.sequence_reset_sql(style, models))
    return statements


def sql_flush_keeping_content_types(
    style: Any, connection: Any, reset_sequences: bool = False, allow_cascade: bool = False
) -> list[str]:
    """What `flush` runs (django.core.management.sql.sql_flush's signature): every table emptied but KEPT_TABLES,
    then the migrations' seeded rows put back."""
    tables = flushed_tables(connection)
    restore = restore_seeded_rows(style, connection, reset_sequences)
    if connection.vendor == "postgresql" and not reset_sequences:
        # flush runs the statements in one transaction, and Django's foreign keys are
        # DEFERRABLE INITIALLY DEFERRED: checked at the commit, when every row is gone
        # but the seeded ones, which are all back.
        return [
            f"{'TRUNCATE' if table == APPEND_ONLY_TABLE else 'DELETE FROM'} {connection.ops.quote_name(table)}"
            for table in tables
        ] + restore
    emptied = connection.ops.sql_flush(style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
    return emptied + restore
