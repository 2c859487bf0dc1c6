from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from config.mail import mail_enabled
from program.reminders import send_due


class Command(BaseCommand):
    help = "Send the reminders and notices that are due (idempotent; safe beside the hubs' own runs)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not mail_enabled():
            self.stderr.write("no mail is configured (EMAIL_URL): nothing sent")
            return
        self.stdout.write(f"sent {send_due(timezone.now())}")
