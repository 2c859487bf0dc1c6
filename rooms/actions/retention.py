"""The retention policy (purge_expired): message text and guest details do not outlive RETENTION_DAYS."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction

from moderation.models import AuditEntry
from rooms.models import GuestPass, Message, Participant


@dataclass(frozen=True)
class PurgeReport:
    messages: int
    audit_texts: int
    guests: int


@transaction.atomic
def do_purge_expired(now: datetime, retention_days: int) -> PurgeReport:
    cutoff = now - timedelta(days=retention_days)
    messages = Message.objects.filter(sent_at__lt=cutoff, text_purged_at__isnull=True).update(
        text="", html="", text_purged_at=now
    )
    # Audit entries stay; the removed text they quote goes with the retention period.
    audit_texts = AuditEntry.objects.filter(created_at__lt=cutoff).exclude(removed_text="").update(removed_text="")
    expired_guests = Participant.objects.filter(role="guest", session__ended_at__lt=cutoff).exclude(
        display_name="(guest)"
    )
    guests = expired_guests.update(display_name="(guest)", relationship="")
    GuestPass.objects.filter(session__ended_at__lt=cutoff).exclude(name="").update(name="")
    return PurgeReport(messages, audit_texts, guests)
