"""The program's mail: what a reminder or a notice says, and sending one message.

Discretion (42 CFR Part 2, and a housemate who reads the screen): a body names no session
title, no clinic program, no other person, and none of program.rules.FORBIDDEN_WORDS; it holds
the time in the clinic's time zone and a link. tests/test_program_reminders.py checks every
body of every kind.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.translation import gettext as _

from program.rules import MailKind, is_discreet

log = logging.getLogger("program.mail")


@dataclass(frozen=True)
class Mail:
    subject: str
    body: str


def site_link(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def when(starts_at: datetime, zone: ZoneInfo) -> str:
    local = starts_at.astimezone(zone)
    # Day, date, 24-hour time and the zone's name: unambiguous in any language.
    return f"{local:%A %Y-%m-%d %H:%M} ({zone.key})"


def compose(
    kind: MailKind, starts_at: datetime, zone: ZoneInfo, path: str, *, previous: datetime | None = None
) -> Mail:
    """The subject and body of a reminder or notice (no title, no names: see the module's docstring)."""
    link = site_link(path)
    at = when(starts_at, zone)
    if kind == MailKind.DAY_BEFORE:
        mail = Mail(_("Reminder: your session tomorrow"), _("Your session starts %(at)s.\n\nJoin here: %(link)s\n"))
    elif kind == MailKind.HOUR_BEFORE:
        mail = Mail(_("Reminder: your session in an hour"), _("Your session starts %(at)s.\n\nJoin here: %(link)s\n"))
    elif kind == MailKind.CANCELLED:
        mail = Mail(
            _("Your session is cancelled"),
            _("Your session of %(at)s will not take place.\n\nYour sessions: %(link)s\n"),
        )
    else:
        mail = Mail(
            _("Your session has moved"),
            _("Your session of %(before)s now starts %(at)s.\n\nJoin here: %(link)s\n"),
        )
    values = {"at": at, "link": link, "before": when(previous or starts_at, zone)}
    composed = Mail(mail.subject, mail.body % values)
    # A translation must not bring back what discretion keeps out.
    assert is_discreet(composed.subject) and is_discreet(composed.body)  # noqa: S101 - a bug, not input
    return composed


def send(mail: Mail, to: str, *, what: str) -> bool:
    """One message on its own connection (the file backend writes one file per message).

    `what` names the mail in the log (kind and ids); the address never appears there.
    """
    try:
        EmailMessage(mail.subject, mail.body, settings.DEFAULT_FROM_EMAIL, [to]).send()
    except Exception:  # an SMTP server down or refusing: logged, the next mail is tried
        log.exception("mail not sent: %s", what)
        return False
    log.info("mail sent: %s", what)
    return True

