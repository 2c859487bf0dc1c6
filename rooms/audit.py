"""The audit log's single writer: every facilitation and moderation action calls `record`."""

from __future__ import annotations

from datetime import datetime

from config.text import clean_line
from rooms.models import AuditEntry, GroupSession, Participant


def record(
    session: GroupSession,
    actor: Participant | None,
    action: str,
    now: datetime,
    *,
    target: Participant | None = None,
    message_seq: int | None = None,
    reason: str = "",
    removed_text: str = "",
    actor_label: str | None = None,
    **detail: object,
) -> AuditEntry:
    return AuditEntry.objects.create(
        session=session,
        actor=actor,
        actor_label=actor_label or (f"{actor.display_name} ({actor.role})" if actor else "system"),
        action=action,
        target=target,
        target_label=f"{target.display_name} ({target.role})" if target else "",
        message_seq=message_seq,
        reason=clean_line(reason or ""),  # typed by a facilitator: one line (config.text)
        removed_text=removed_text,
        detail=detail,
        created_at=now,
    )
