"""Sending one mail discreetly, for every app (reminders and notices: program; a guest's invitation: rooms).

Discretion (42 CFR Part 2, and a housemate who reads the screen): a mail Circle sends names no session
title, no clinic program, no other person, and none of FORBIDDEN_WORDS; it holds a time and a link.
The log says which mail went (its kind and ids), never to which address.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import dateformat

log = logging.getLogger("circle.mail")

FORBIDDEN_WORDS = ("recovery", "addiction", "therapy", "treatment", "substance")
FORBIDDEN = re.compile(r"\b(?:" + "|".join(FORBIDDEN_WORDS) + r")\b", re.IGNORECASE)


@dataclass(frozen=True)
class Mail:
    subject: str
    body: str


class IndiscreetMail(ValueError):
    """A composed mail holds a forbidden word (a translation or a template brought one back): not sent."""


def is_discreet(text: str) -> bool:
    return FORBIDDEN.search(text) is None


def checked(mail: Mail) -> Mail:
    if not (is_discreet(mail.subject) and is_discreet(mail.body)):
        raise IndiscreetMail("a mail held a word that would tell what the session is about")
    return mail


def site_link(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def when(starts_at: datetime, zone: ZoneInfo) -> str:
    """Day, date, 24-hour time and the zone's name: unambiguous in any language (the day's name in the
    active one: Django's date format, not strftime's C locale)."""
    return f"{dateformat.format(starts_at.astimezone(zone), 'l Y-m-d H:i')} ({zone.key})"


def mail_enabled() -> bool:
    return bool(settings.MAIL.enabled)


def send(mail: Mail, to: str, *, what: str) -> bool:
    """One message on its own connection (Django's file backend writes one file per connection, so one
    file per message). `what` names the mail in the log; the address never appears there."""
    try:
        EmailMessage(mail.subject, mail.body, settings.DEFAULT_FROM_EMAIL, [to]).send()
    except Exception:  # an SMTP server down or refusing: logged, the next mail is tried
        log.exception("mail not sent: %s", what)
        return False
    log.info("mail sent: %s", what)
    return True
