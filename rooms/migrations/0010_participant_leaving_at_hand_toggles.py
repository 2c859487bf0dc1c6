"""Debounced presence and the hand rate limit (issue 22, class 5): Participant.leaving_at (when a
departure is announced unless the person returns first) and Participant.hand_toggles."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("rooms", "0009_message_txn_id"),
    ]

    operations = [
        migrations.AddField(
            model_name="participant",
            name="leaving_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="participant",
            name="hand_toggles",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddIndex(
            model_name="participant",
            index=models.Index(
                condition=models.Q(("leaving_at__isnull", False)), fields=["leaving_at"], name="participant_leaving_at"
            ),
        ),
    ]
