from django.db import models


class AuditEntry(models.Model):
    """Append-only record of a facilitation or moderation action.

    Rows are created by the actions and never changed by the application; the
    one exception is purge_expired, which blanks `removed_text` once the
    retention period has passed.
    """

    session = models.ForeignKey("rooms.GroupSession", null=True, blank=True, on_delete=models.SET_NULL)
    actor = models.ForeignKey(
        "rooms.Participant", null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_actions"
    )
    actor_label = models.CharField(max_length=120)
    action = models.CharField(max_length=40)
    target = models.ForeignKey(
        "rooms.Participant", null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_targets"
    )
    target_label = models.CharField(max_length=120, blank=True)
    message_seq = models.PositiveBigIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    removed_text = models.TextField(blank=True)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action} {self.target_label}"
