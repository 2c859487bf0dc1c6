"""Prompt, RoomClock and AuditEntry move down from facilitator and moderation into the core.

Only Django's idea of the models moves (SeparateDatabaseAndState): the tables keep their
names (`db_table`), rows, constraints and the audit trigger of moderation/0002, so nothing
is written to the schema. facilitator/0005 and moderation/0003 then forget the old models;
the content types are relabelled so that permissions and admin history stay attached.
"""

import django.db.models.deletion
from django.db import migrations, models

MOVED = (("facilitator", "prompt"), ("facilitator", "roomclock"), ("moderation", "auditentry"))


def relabel_content_types(apps, schema_editor, *, to_core=True):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for app_label, model in MOVED:
        old, new = (app_label, "rooms") if to_core else ("rooms", app_label)
        # On a fresh install no content type exists yet (post_migrate creates them later).
        if not ContentType.objects.using(db).filter(app_label=new, model=model).exists():
            ContentType.objects.using(db).filter(app_label=old, model=model).update(app_label=new)


def relabel_content_types_back(apps, schema_editor):
    relabel_content_types(apps, schema_editor, to_core=False)


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("facilitator", "0004_agenda_attendance_floor_turns"),
        ("moderation", "0002_audit_append_only_guard"),
        ("rooms", "0005_message_indexes_serve_no_other"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Prompt",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "category",
                            models.CharField(
                                choices=[
                                    ("stress", "Stress"),
                                    ("triggers", "Triggers"),
                                    ("medication", "Medication"),
                                    ("mental_health", "Mental health"),
                                    ("coping", "Coping"),
                                    ("family", "Family and relationships"),
                                    ("goals", "Goals"),
                                ],
                                max_length=20,
                            ),
                        ),
                        ("text", models.CharField(max_length=500)),
                        (
                            "active",
                            models.BooleanField(default=True, help_text="Inactive prompts are hidden from the picker."),
                        ),
                        ("position", models.PositiveIntegerField(default=0)),
                        (
                            "session",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="custom_prompts",
                                to="rooms.groupsession",
                            ),
                        ),
                    ],
                    options={"db_table": "facilitator_prompt", "ordering": ["category", "position", "id"]},
                ),
                migrations.CreateModel(
                    name="RoomClock",
                    fields=[
                        (
                            "session",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                primary_key=True,
                                related_name="clock",
                                serialize=False,
                                to="rooms.groupsession",
                            ),
                        ),
                        ("version", models.PositiveBigIntegerField(default=0)),
                    ],
                    options={"db_table": "facilitator_roomclock"},
                ),
                migrations.CreateModel(
                    name="AuditEntry",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("actor_label", models.CharField(max_length=120)),
                        ("action", models.CharField(max_length=40)),
                        ("target_label", models.CharField(blank=True, max_length=120)),
                        ("message_seq", models.PositiveBigIntegerField(blank=True, null=True)),
                        ("reason", models.CharField(blank=True, max_length=500)),
                        ("removed_text", models.TextField(blank=True)),
                        ("detail", models.JSONField(blank=True, default=dict)),
                        ("created_at", models.DateTimeField(db_index=True)),
                        (
                            "actor",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="audit_actions",
                                to="rooms.participant",
                            ),
                        ),
                        (
                            "session",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                to="rooms.groupsession",
                            ),
                        ),
                        (
                            "target",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="audit_targets",
                                to="rooms.participant",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "moderation_auditentry",
                        "verbose_name_plural": "audit entries",
                        "ordering": ["created_at", "id"],
                    },
                ),
                # The foreign keys already point at facilitator_prompt, the table rooms.Prompt keeps.
                migrations.AlterField(
                    model_name="groupsession",
                    name="current_prompt",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="rooms.prompt",
                    ),
                ),
                migrations.AlterField(
                    model_name="message",
                    name="prompt",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        to="rooms.prompt",
                    ),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(relabel_content_types, relabel_content_types_back),
    ]
