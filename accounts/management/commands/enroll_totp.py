"""enroll_totp USERNAME [--replace]: give a facilitator an authenticator (TOTP) for FACILITATOR_2FA.

Prints the otpauth:// URI (it holds the secret) on its last line: open it on the
facilitator's phone or turn it into a QR code there and then; do not store it.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.utils import timezone

from accounts.actions import do_enroll_totp
from accounts.provisioning import ProvisioningCommand


class Command(ProvisioningCommand):
    help = "Enroll a TOTP authenticator for a facilitator; prints its otpauth:// URI."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--replace", action="store_true", help="replace an existing authenticator")

    def handle(self, *args: Any, **options: Any) -> None:
        uri = do_enroll_totp(options["username"], timezone.now(), replace=options["replace"])
        self.stdout.write("Add this to the facilitator's authenticator app (it is the secret; do not keep it):")
        self.stdout.write(uri)
