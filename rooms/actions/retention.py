"""The retention policy (purge_expired): message text and guest details do not outlive RETENTION_DAYS.

* Message text (and its html) is blanked once the message is older than the
  period; the row stays (seq, sender, time) and `text_purged_at` is set, so it
  never appears in session.state or ?since= again and the transcript marks it.
* Audit entries are kept; the removed text they quote goes when the quoted
  message is older than the period (or the entry itself is, whichever is first).
* Guests' names and relationships go once their session ended more than the
  period ago (or, for a session never ended, once the guest joined that long
  ago); so does the name on their pass, and their name in audit labels.

Run daily (`python manage.py purge_expired`); running it twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from rooms.models import REDACTED_GUEST_LABEL, AuditEntry, GuestPass, Message, Participant, ParticipantRole

GUEST_PLACEHOLDER = "(guest)"


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
    # Audit entries stay; the removed text they quote goes with the retention period of the message.
    quoted_expired = Message.objects.filter(
        session_id=OuterRef("session_id"), seq=OuterRef("message_seq"), sent_at__lt=cutoff
    )
    audit_texts = (
        AuditEntry.objects.exclude(removed_text="")
        .filter(Q(created_at__lt=cutoff) | Q(Exists(quoted_expired)))
        .update(removed_text="")
    )
    expired_guest_rows = Participant.objects.filter(role=ParticipantRole.GUEST).filter(
        Q(session__ended_at__lt=cutoff) | Q(session__ended_at__isnull=True, created_at__lt=cutoff)
    )
    guests = expired_guest_rows.exclude(display_name=GUEST_PLACEHOLDER, relationship="").update(
        display_name=GUEST_PLACEHOLDER, relationship=""
    )
    expired_guests = expired_guest_rows.values("pk")
    AuditEntry.objects.filter(actor__in=expired_guests).exclude(actor_label=REDACTED_GUEST_LABEL).update(
        actor_label=REDACTED_GUEST_LABEL
    )
    AuditEntry.objects.filter(target__in=expired_guests).exclude(target_label=REDACTED_GUEST_LABEL).update(
        target_label=REDACTED_GUEST_LABEL
    )
    GuestPass.objects.filter(
        Q(session__ended_at__lt=cutoff) | Q(session__ended_at__isnull=True, created_at__lt=cutoff)
    ).exclude(name="").update(name="")
    return PurgeReport(messages, audit_texts, guests)
