"""The room commands' base: the provisioning contract (accounts.provisioning), and a refused room action
(ActionError, e.g. inviting a guest to an ended session) ends the command the same way."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from accounts.provisioning import ProvisioningCommand
from rooms.errors import ActionError


class RoomProvisioningCommand(ProvisioningCommand):
    def execute(self, *args: Any, **options: Any) -> str | None:
        try:
            return super().execute(*args, **options)
        except ActionError as error:
            raise CommandError(error.message) from None


def usernames(text: str) -> list[str]:
    """A comma-separated list of usernames as typed (--patients, --co-facilitators)."""
    return [name.strip() for name in text.split(",") if name.strip()]
