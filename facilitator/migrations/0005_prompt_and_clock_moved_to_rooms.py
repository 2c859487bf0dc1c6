"""Prompt and RoomClock now belong to rooms (rooms/0006): forget them here, keep the tables."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("facilitator", "0004_agenda_attendance_floor_turns"),
        ("rooms", "0006_core_models_from_facilitator_and_moderation"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                # The column already references facilitator_prompt, the table rooms.Prompt keeps.
                migrations.AlterField(
                    model_name="agendaitem",
                    name="prompt",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="agenda_items", to="rooms.prompt"
                    ),
                ),
                migrations.DeleteModel(name="Prompt"),
                migrations.DeleteModel(name="RoomClock"),
            ],
            database_operations=[],
        ),
    ]
