from django.db import migrations, models
from django.db.models import Count, Sum
from django.db.models.functions import Length


def count_room_messages(apps, schema_editor):
    """Sessions already under way keep their stats: count what the ticker used to count."""
    Participant = apps.get_model("rooms", "Participant")
    Message = apps.get_model("rooms", "Message")
    db = schema_editor.connection.alias
    totals = (
        Message.objects.using(db)
        .filter(audience="room", removed_at__isnull=True)
        .values("participant_id")
        .annotate(messages=Count("id"), characters=Sum(Length("text")))
        .order_by()
    )
    for row in totals.iterator():
        Participant.objects.using(db).filter(pk=row["participant_id"]).update(
            room_messages=row["messages"], room_characters=row["characters"] or 0
        )


class Migration(migrations.Migration):
    dependencies = [
        ("rooms", "0002_guestpass_consent_text"),
    ]

    operations = [
        migrations.AddField(
            model_name="participant",
            name="room_messages",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="participant",
            name="room_characters",
            field=models.PositiveBigIntegerField(default=0),
        ),
        migrations.RunPython(count_room_messages, migrations.RunPython.noop),
    ]
