"""Test-only: a fault in one end-to-end worker's publishing to the channel layer (no tests here).

tests/e2e_settings.py installs this app when the worker's environment names a control
file (E2E_PUBLISH_FAULT_FILE). Every event the worker publishes (rooms.broadcast's
`send_to_layer`) then reads that file first: `fail` makes the publish fail as a Redis
that drops the connection would, `hold` keeps it waiting until the file says otherwise,
anything else lets it through. The worker's own reads from the layer are untouched,
and so is every other worker: what Redis serves them still works.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from django.apps import AppConfig
from redis.exceptions import ConnectionError as RedisConnectionError

CONTROL_ENV = "E2E_PUBLISH_FAULT_FILE"


class FaultyPublishing:
    """The worker's channel layer as rooms.broadcast sees it, its group_send under the control file."""

    def __init__(self, layer: Any, control: Path) -> None:
        self.layer = layer
        self.control = control

    def __getattr__(self, name: str) -> Any:
        return getattr(self.layer, name)

    def mode(self) -> str:
        try:
            return self.control.read_text().strip()
        except FileNotFoundError:
            return ""

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        while self.mode() == "hold":
            await asyncio.sleep(0.02)
        if self.mode() == "fail":
            raise RedisConnectionError("publish failed (injected by the test)")
        await self.layer.group_send(group, message)


class PublishFaultsConfig(AppConfig):
    name = "tests.e2e_faults"
    label = "e2e_publish_faults"

    def ready(self) -> None:
        from channels.layers import get_channel_layer

        from rooms import broadcast

        control = Path(os.environ[CONTROL_ENV])

        def faulty_layer(alias: str = "default") -> Any:
            return FaultyPublishing(get_channel_layer(alias), control)

        broadcast.get_channel_layer = faulty_layer
