from django.db import migrations, models


class Migration(migrations.Migration):
    """Issue 26: a library prompt's text in the other languages (facilitator/0007 seeds the Spanish),
    and the language of the agreement a guest accepted."""

    dependencies = [
        ("rooms", "0010_participant_leaving_at_hand_toggles"),
    ]

    operations = [
        migrations.AddField(
            model_name="prompt",
            name="translations",
            field=models.JSONField(blank=True, db_default={}, default=dict),
        ),
        migrations.AddField(
            model_name="guestpass",
            name="consent_language",
            field=models.CharField(blank=True, max_length=8),
        ),
    ]
