"""What a reminder or a notice says (config.mail sends it, and says what discretion means).

tests/test_program_reminders.py checks every body of every kind.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from config.mail import Mail, checked, site_link, when
from program.rules import MailKind


def compose(
    kind: MailKind, starts_at: datetime, zone: ZoneInfo, path: str, *, previous: datetime | None = None
) -> Mail:
    """The subject and body of a reminder or notice, in the active language: the time and a link, nothing more."""
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
    values = {"at": when(starts_at, zone), "link": site_link(path), "before": when(previous or starts_at, zone)}
    return checked(Mail(mail.subject, mail.body % values))
