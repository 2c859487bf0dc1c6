"""send_reminders: the reminders (24 h and 1 h ahead) and notices (cancelled, moved) that are due.

Each mail is claimed before it is sent: a Delivery row with a unique key, inserted in its own
transaction. Two runs at once (two workers' hubs, or cron beside them) both try the INSERT and
the unique index lets exactly one through; a later run finds the row and sends nothing. A mail
whose sending fails stays claimed (marked failed): at most once, never twice.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import translation

from accounts.models import Member
from config.mail import Mail, mail_enabled, send
from program.mail import compose
from program.models import ChangeKind, Delivery, SessionChange
from program.rules import MailKind, due_reminders, reminder_key
from rooms.extensions import PeriodicDuty, in_database_thread
from rooms.models import GroupSession, Participant, ParticipantRole, Status

log = logging.getLogger("program.reminders")

# A notice older than this is not sent any more (a run after a long outage).
NOTICE_WINDOW = timedelta(days=2)
REMINDER_PERIOD_SECONDS = 60.0


@dataclass(frozen=True)
class Due:
    key: str
    kind: MailKind
    member: Member
    session: GroupSession
    mail: Mail


def recipients(session: GroupSession) -> list[Member]:
    """The members on a session's roster (facilitators and patients, not removed) who want mail and have an address."""
    seats = Participant.objects.filter(
        session=session,
        role__in=[ParticipantRole.FACILITATOR, ParticipantRole.PATIENT],
        removed_at__isnull=True,
        member__reminders=True,
    ).exclude(member__email="").select_related("member")
    return [seat.member for seat in seats if seat.member is not None]


def room_path(session: GroupSession) -> str:
    return f"/sessions/{session.pk}/"


def due_mail(now: datetime) -> Iterator[Due]:
    zone = ZoneInfo(settings.TIME_ZONE)
    coming = GroupSession.objects.filter(
        status=Status.SCHEDULED, starts_at__gt=now, starts_at__lte=now + timedelta(hours=24)
    )
    for session in coming:
        kinds = due_reminders(session.starts_at, now)
        for kind in kinds:
            for member in recipients(session):
                key = reminder_key(kind, member.pk, session.pk, session.starts_at)
                with translation.override(member.language):
                    mail = compose(kind, session.starts_at, zone, room_path(session))
                yield Due(key, kind, member, session, mail)
    changes = SessionChange.objects.filter(changed_at__gt=now - NOTICE_WINDOW).select_related("session")
    for change in changes:
        kind = MailKind.CANCELLED if change.kind == ChangeKind.CANCELLED else MailKind.MOVED
        path = "/" if kind == MailKind.CANCELLED else room_path(change.session)
        for member in recipients(change.session):
            with translation.override(member.language):
                mail = compose(kind, change.starts_at, zone, path, previous=change.previous_starts_at)
            yield Due(f"{kind}:{member.pk}:{change.pk}", kind, member, change.session, mail)


def claim(due: Due, now: datetime) -> Delivery | None:
    """Insert the claim; None when another run already holds it."""
    if Delivery.objects.filter(key=due.key).exists():
        return None
    try:
        with transaction.atomic():
            return Delivery.objects.create(
                key=due.key, member=due.member, session=due.session, kind=due.kind, claimed_at=now
            )
    except IntegrityError:  # the other run inserted it between our look and our INSERT
        return None


def send_due(now: datetime) -> int:
    """Send what is due at `now`; returns how many mails this run sent."""
    if not mail_enabled():
        return 0
    sent = 0
    for due in list(due_mail(now)):
        delivery = claim(due, now)
        if delivery is None:
            continue
        what = f"{due.kind} member={due.member.pk} session={due.session.pk}"
        if send(due.mail, due.member.email, what=what):
            delivery.sent_at = now
            sent += 1
        else:
            delivery.failed = True
        delivery.save(update_fields=["sent_at", "failed"])
    return sent


REMINDER_DUTY = PeriodicDuty(
    name="program.reminders",
    every_seconds=lambda: REMINDER_PERIOD_SECONDS,
    run=in_database_thread(send_due),
    due=lambda now: mail_enabled(),
)
