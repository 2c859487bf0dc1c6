from django.db import migrations, models


class Migration(migrations.Migration):
    """Reminders on or off, and the hash of the calendar feed's token (issue 24)."""

    dependencies = [
        ("accounts", "0002_security_event"),
    ]

    operations = [
        migrations.AddField(
            model_name="member",
            name="reminders",
            field=models.BooleanField(default=True),
        ),
        migrations.AddField(
            model_name="member",
            name="calendar_token_hash",
            field=models.CharField(blank=True, max_length=64, null=True, unique=True),
        ),
    ]
