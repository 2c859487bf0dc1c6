"""Start-up check: with DEBUG off and no EMAIL_URL, nobody gets reminders, and the operator should know."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Warning


def mail_configured(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    if settings.MAIL.enabled:
        return []
    return [
        Warning(
            "No mail is sent: EMAIL_URL is not set, so reminders, notices and family invitations by email are off.",
            hint="Set EMAIL_URL to smtp://user:password@host:port (smtp+tls:// for STARTTLS), console: or file:///dir.",
            id="program.W001",
        )
    ]
