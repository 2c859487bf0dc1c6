"""Provisioning commands share one contract: bad input -> one line on stderr, non-zero exit, nothing written."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError


class ProvisioningError(Exception):
    """Bad input to a provisioning command: one clear line, nothing written."""


class ProvisioningCommand(BaseCommand):
    def execute(self, *args: Any, **options: Any) -> str | None:
        try:
            return super().execute(*args, **options)
        except ProvisioningError as error:
            raise CommandError(str(error)) from None
