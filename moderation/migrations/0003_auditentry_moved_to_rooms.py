"""AuditEntry now belongs to rooms (rooms/0006): forget it here, keep the table and its trigger."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0002_audit_append_only_guard"),
        ("rooms", "0006_core_models_from_facilitator_and_moderation"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="AuditEntry")],
            database_operations=[],
        ),
    ]
