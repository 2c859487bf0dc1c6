from django.db import migrations, models


class Migration(migrations.Migration):
    """chat.send's `txn_id` (issue 22): the client's own id of a message, unique per sender where given.

    Nullable, and the constraint covers only the rows that carry one, so adding it rewrites
    no row and indexes none of the messages stored before.
    """

    dependencies = [
        ("rooms", "0008_prompt_category_withdrawal_motivation"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="txn_id",
            field=models.CharField(blank=True, max_length=64, null=True),
        ),
        migrations.AddConstraint(
            model_name="message",
            constraint=models.UniqueConstraint(
                condition=models.Q(("txn_id__isnull", False)),
                fields=("session", "participant", "txn_id"),
                name="unique_txn_per_sender",
            ),
        ),
    ]
