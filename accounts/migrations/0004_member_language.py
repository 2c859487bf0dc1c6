import accounts.language
from django.db import migrations, models


class Migration(migrations.Migration):
    """Each member's language (issue 26): existing members get LANGUAGE_CODE's."""

    dependencies = [
        ("accounts", "0003_member_reminders_calendar"),
    ]

    operations = [
        migrations.AddField(
            model_name="member",
            name="language",
            field=models.CharField(
                choices=[("en", "English"), ("es", "Español")],
                default=accounts.language.default_language,
                max_length=8,
            ),
        ),
    ]
