from __future__ import annotations

from typing import Any, ClassVar

from django.db import models

# What the retention purge writes over a guest's name in an audit entry's labels.
REDACTED_GUEST_LABEL = "(guest)"


class AppendOnlyError(Exception):
    """The audit log is append-only: rows are never changed or deleted by the application."""


def is_permitted_redaction(field: str, value: object) -> bool:
    """The only changes a stored audit entry may undergo (mirrored by the database trigger):

    * the retention purge blanks `removed_text` and writes REDACTED_GUEST_LABEL over an
      expired guest's name in `actor_label` / `target_label`;
    * deleting a session or participant elsewhere sets the foreign keys to NULL (the
      labels keep who it was).
    """
    if field == "removed_text":
        return value == ""
    if field in {"actor_label", "target_label"}:
        return value == REDACTED_GUEST_LABEL
    if field in {"session", "session_id", "actor", "actor_id", "target", "target_id"}:
        return value is None
    return False


class AuditEntryQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        refused = [field for field, value in kwargs.items() if not is_permitted_redaction(field, value)]
        if refused:
            raise AppendOnlyError(f"Audit entries cannot be changed ({', '.join(sorted(refused))}).")
        return super().update(**kwargs)

    update.alters_data = True  # type: ignore[attr-defined]

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit entries cannot be deleted.")

    delete.alters_data = True  # type: ignore[attr-defined]
    delete.queryset_only = True  # type: ignore[attr-defined]


class AuditEntry(models.Model):
    """Append-only record of a facilitation or moderation action.

    Rows are created by the actions (moderation.audit.record) and never changed by
    the application; the one exception is purge_expired, which blanks
    `removed_text` (and an expired guest's name in the labels) once the retention
    period has passed. Enforced three times: here (save/delete), in the queryset
    (update/delete), and by a database trigger (migration 0002) that refuses any
    other UPDATE, and on PostgreSQL any DELETE, whoever sends it.
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

    objects: ClassVar[AuditEntryQuerySet] = AuditEntryQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action} {self.target_label}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Audit entries cannot be changed once written.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit entries cannot be deleted.")
