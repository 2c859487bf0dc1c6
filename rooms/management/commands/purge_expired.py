from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from rooms.actions.retention import do_purge_expired


class Command(BaseCommand):
    help = "Apply the retention policy: message text older than RETENTION_DAYS, then each app's own."

    def handle(self, *args: Any, **options: Any) -> None:
        report = do_purge_expired(timezone.now(), settings.RETENTION_DAYS)
        self.stdout.write(
            f"purged text of {report.messages} messages, {report.audit_texts} audit quotes, "
            f"{report.guests} guest details (older than {settings.RETENTION_DAYS} days)"
        )
        for what, count in report.extensions.items():
            self.stdout.write(f"deleted {count} {what} (past their own retention period)")
