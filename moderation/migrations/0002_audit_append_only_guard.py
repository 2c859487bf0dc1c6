"""A database-level guard: the audit log is append-only whoever writes to the database.

Permitted changes (the same as rooms.models.is_permitted_redaction; AuditEntry moved there, keeping this table):
`removed_text` blanked and a label replaced by '(guest)' (the retention purge),
and the foreign keys set to NULL (a session or participant deleted elsewhere).
Anything else is refused. PostgreSQL also refuses DELETE (TRUNCATE, which test
flushes use, is not affected); SQLite's flush deletes rows one statement at a
time, so on SQLite deletion is refused by the model and queryset only.

SQLite drops a table's triggers when a later migration rebuilds the table:
tests/test_audit.py fails if that happens, and the migration must re-create it.
"""

from django.db import migrations

TABLE = "moderation_auditentry"
REDACTED = "'(guest)'"

SQLITE_CREATE = f"""
CREATE TRIGGER {TABLE}_append_only
BEFORE UPDATE ON {TABLE}
FOR EACH ROW WHEN
    NEW.id IS NOT OLD.id
    OR NEW.action IS NOT OLD.action
    OR NEW.message_seq IS NOT OLD.message_seq
    OR NEW.reason IS NOT OLD.reason
    OR NEW.detail IS NOT OLD.detail
    OR NEW.created_at IS NOT OLD.created_at
    OR (NEW.removed_text IS NOT OLD.removed_text AND NEW.removed_text IS NOT '')
    OR (NEW.actor_label IS NOT OLD.actor_label AND NEW.actor_label IS NOT {REDACTED})
    OR (NEW.target_label IS NOT OLD.target_label AND NEW.target_label IS NOT {REDACTED})
    OR (NEW.session_id IS NOT OLD.session_id AND NEW.session_id IS NOT NULL)
    OR (NEW.actor_id IS NOT OLD.actor_id AND NEW.actor_id IS NOT NULL)
    OR (NEW.target_id IS NOT OLD.target_id AND NEW.target_id IS NOT NULL)
BEGIN
    SELECT RAISE(ABORT, 'audit entries are append-only');
END;
"""
SQLITE_DROP = f"DROP TRIGGER IF EXISTS {TABLE}_append_only;"

# On PostgreSQL the row is compared as JSON minus the columns that may change,
# so a column added later is guarded without touching this function.
POSTGRES_CREATE = f"""
CREATE OR REPLACE FUNCTION {TABLE}_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit entries are append-only: they cannot be deleted';
    END IF;
    IF (to_jsonb(NEW) - 'removed_text' - 'actor_label' - 'target_label' - 'session_id' - 'actor_id' - 'target_id')
           IS DISTINCT FROM
       (to_jsonb(OLD) - 'removed_text' - 'actor_label' - 'target_label' - 'session_id' - 'actor_id' - 'target_id')
       OR (NEW.removed_text IS DISTINCT FROM OLD.removed_text AND NEW.removed_text <> '')
       OR (NEW.actor_label IS DISTINCT FROM OLD.actor_label AND NEW.actor_label <> {REDACTED})
       OR (NEW.target_label IS DISTINCT FROM OLD.target_label AND NEW.target_label <> {REDACTED})
       OR (NEW.session_id IS DISTINCT FROM OLD.session_id AND NEW.session_id IS NOT NULL)
       OR (NEW.actor_id IS DISTINCT FROM OLD.actor_id AND NEW.actor_id IS NOT NULL)
       OR (NEW.target_id IS DISTINCT FROM OLD.target_id AND NEW.target_id IS NOT NULL)
    THEN
        RAISE EXCEPTION 'audit entries are append-only: only the retention purge may redact them';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE};
CREATE TRIGGER {TABLE}_append_only
    BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION {TABLE}_append_only();
"""
POSTGRES_DROP = f"""
DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE};
DROP FUNCTION IF EXISTS {TABLE}_append_only();
"""


def create_guard(apps, schema_editor):  # noqa: ANN001, ANN201
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE_CREATE)
    elif vendor == "postgresql":
        schema_editor.execute(POSTGRES_CREATE)


def drop_guard(apps, schema_editor):  # noqa: ANN001, ANN201
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE_DROP)
    elif vendor == "postgresql":
        schema_editor.execute(POSTGRES_DROP)


class Migration(migrations.Migration):
    dependencies = [("moderation", "0001_initial")]

    operations = [migrations.RunPython(create_guard, drop_guard, elidable=False)]
