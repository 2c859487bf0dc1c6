"""Moving Prompt, RoomClock and AuditEntry down into rooms (rooms/0006, facilitator/0005, moderation/0003)
changes Django's idea of who owns them, not the database: a database migrated before the move keeps every
row, every foreign key, the content types (so permissions and admin history) and the audit trigger."""

from datetime import UTC, datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from facilitator.models import AgendaItem
from rooms.models import AuditEntry, GroupSession, Message, Prompt, RoomClock

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE_THE_MOVE = [
    ("rooms", "0005_message_indexes_serve_no_other"),
    ("facilitator", "0004_agenda_attendance_floor_turns"),
    ("moderation", "0002_audit_append_only_guard"),
]
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def migrate(targets: list[tuple[str, str]] | None = None) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets or executor.loader.graph.leaf_nodes())
    return executor


def test_a_database_migrated_before_the_move_keeps_its_rows_and_its_audit_guard():
    content_types = {
        model: ContentType.objects.get(app_label="rooms", model=model).pk
        for model in ("prompt", "roomclock", "auditentry")
    }
    try:
        old = migrate(BEFORE_THE_MOVE).loader.project_state(BEFORE_THE_MOVE).apps
        assert ContentType.objects.get(pk=content_types["prompt"]).app_label == "facilitator"
        assert ContentType.objects.get(pk=content_types["auditentry"]).app_label == "moderation"
        session = old.get_model("rooms", "GroupSession").objects.create(title="Before", starts_at=NOW)
        alex = old.get_model("rooms", "Participant").objects.create(session=session, role="patient", display_name="A")
        prompt = old.get_model("facilitator", "Prompt").objects.create(category="coping", text="What helped?")
        session.current_prompt = prompt
        session.save()
        old.get_model("facilitator", "RoomClock").objects.create(session=session, version=7)
        old.get_model("facilitator", "AgendaItem").objects.create(session=session, prompt=prompt)
        old.get_model("rooms", "Message").objects.create(
            session=session, participant=alex, seq=1, text="hi", html="hi", sent_at=NOW, prompt=prompt
        )
        entry = old.get_model("moderation", "AuditEntry").objects.create(
            session=session, actor=alex, actor_label="A (patient)", action="prompt.post", created_at=NOW
        )
    finally:
        migrate()

    moved = GroupSession.objects.get(pk=session.pk)
    assert moved.current_prompt == Prompt.objects.get(pk=prompt.pk)
    assert RoomClock.objects.get(session=moved).version == 7
    assert AgendaItem.objects.get(session=moved).prompt_id == prompt.pk
    assert Message.objects.get(session=moved).prompt_id == prompt.pk
    assert AuditEntry.objects.get(pk=entry.pk).action == "prompt.post"
    for model, pk in content_types.items():
        assert ContentType.objects.get(pk=pk).natural_key() == ("rooms", model)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE moderation_auditentry SET action = 'rewritten' WHERE id = %s", [entry.pk])
