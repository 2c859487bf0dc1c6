"""The retention policy (purge_expired): message text and guest details do not outlive RETENTION_DAYS.

* Message text (and its html) is blanked once the message is older than the
  period; the row stays (seq, sender, time) and `text_purged_at` is set, so it
  never appears in session.state or ?since= again and the transcript marks it.
* Audit entries are kept; the removed text they quote goes when the quoted
  message is older than the period (or the entry itself is, whichever is first).
* Guests' names and relationships go once their session ended more than the
  period ago (or, for a session never ended, once the guest joined that long
  ago); so does the name on their pass, and their name in audit labels.

`retention_days` 0 means no chat is kept: the text of every ended (or cancelled) session goes at the
next purge, whatever its age, while a session under way keeps its text until it ends.

The apps above the core apply their own policies in the same transaction (rooms.extensions
retention_hooks): the clinical record (record.retention) is not chat and has its own period.

Run daily (`python manage.py purge_expired`); running it twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from rooms.extensions import retention_hooks
from rooms.models import (
    CLOSED_STATUSES,
    REDACTED_GUEST_LABEL,
    AuditEntry,
    GuestPass,
    Message,
    Participant,
    ParticipantRole,
)

GUEST_PLACEHOLDER = "(guest)"


@dataclass(frozen=True)
class PurgeReport:
    messages: int
    audit_texts: int
    guests: int
    # What the apps' own policies deleted, by what (e.g. {"goals": 2}).
    extensions: dict[str, int] = field(default_factory=dict)


@transaction.atomic
def do_purge_expired(now: datetime, retention_days: int) -> PurgeReport:
    cutoff = now - timedelta(days=retention_days)
    # A period of 0 keeps no chat: everything of a session that is over goes, whatever its age, and
    # nothing of one under way (its people are still reading it).
    over = Q(session__status__in=CLOSED_STATUSES)
    expired = Q(sent_at__lt=cutoff) if retention_days else over
    messages = Message.objects.filter(expired, text_purged_at__isnull=True).update(
        text="", html="", text_purged_at=now
    )
    # Audit entries stay; the removed text they quote goes with the retention period of the message.
    quoted_expired = Message.objects.filter(expired, session_id=OuterRef("session_id"), seq=OuterRef("message_seq"))
    audit_texts = (
        AuditEntry.objects.exclude(removed_text="")
        .filter((Q(created_at__lt=cutoff) if retention_days else over) | Q(Exists(quoted_expired)))
        .update(removed_text="")
    )
    guest_expired = (
        Q(session__ended_at__lt=cutoff) | Q(session__ended_at__isnull=True, created_at__lt=cutoff)
        if retention_days
        else over
    )
    expired_guest_rows = Participant.objects.filter(guest_expired, role=ParticipantRole.GUEST)
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
    GuestPass.objects.filter(guest_expired).exclude(name="").update(name="")
    extensions: dict[str, int] = {}
    for hook in retention_hooks:
        for what, count in hook(now).items():
            extensions[what] = extensions.get(what, 0) + count
    return PurgeReport(messages, audit_texts, guests, extensions)
