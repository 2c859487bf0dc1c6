from django.db import migrations, models


class Migration(migrations.Migration):
    """A session may be cancelled before it starts (issue 24): a new choice, no change in the table."""

    dependencies = [
        ("rooms", "0006_core_models_from_facilitator_and_moderation"),
    ]

    operations = [
        migrations.AlterField(
            model_name="groupsession",
            name="status",
            field=models.CharField(
                choices=[("scheduled", "Scheduled"), ("live", "Live"), ("ended", "Ended"), ("cancelled", "Cancelled")],
                default="scheduled",
                max_length=16,
            ),
        ),
    ]
