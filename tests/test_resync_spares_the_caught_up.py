"""A resync after a lost event goes only to the connections that caught up before that event was committed.

An event a worker could not publish makes every worker's clients in the room resync
(tests/test_security_lost_publish.py). After a Redis outage the publishes that hung
through it fail only when the hub drops their connections on its return, after the
hub has already sent its clients to resume: the resync then reached the clients that
had just come back with the lost event in their catch-up, and sent them away again
(CI, tests/test_faults_redis.py, frozen Redis). The resync now says when the lost
event was committed; a connection whose catch-up was read later holds it.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from rooms import broadcast
from rooms.broadcast import (
    RESYNC_CLOCK_MARGIN_SECONDS,
    RESYNC_TEXT,
    Publisher,
    Viewer,
    is_recipient,
    make_envelope,
    resync_envelope,
)
from rooms.hub import get_hub
from rooms.models import ParticipantRole
from rooms.schemas import ErrorFrame
from tests.conftest import set_room

LOST_AT = 1_000_000.0


@pytest.mark.parametrize(
    ("caught_up_at", "resynced"),
    [
        (0.0, True),  # unknown: as old as can be
        (LOST_AT - 60, True),
        (LOST_AT, True),  # within the clocks' margin of the commit
        (LOST_AT + RESYNC_CLOCK_MARGIN_SECONDS - 0.001, True),
        (LOST_AT + RESYNC_CLOCK_MARGIN_SECONDS, False),
        (LOST_AT + 60, False),
    ],
)
def test_a_resync_reaches_the_connections_that_caught_up_before_the_lost_commit(caught_up_at, resynced):
    for role in ParticipantRole:
        viewer = Viewer(7, role, True, 0, caught_up_at)
        assert is_recipient(viewer, resync_envelope(1, LOST_AT)) is resynced


def test_other_events_do_not_look_at_when_a_connection_caught_up():
    notice = make_envelope(1, ErrorFrame(code="unavailable", message="x", ref=None), to="everyone")
    assert "stale_before" not in notice  # nothing more on the hot path
    assert is_recipient(Viewer(7, ParticipantRole.PATIENT, True, 0, time.time() + 3600), notice)


class FailingLayer:
    """group_send fails (as on a dropped Redis connection) until `working` is set; then records what it sends."""

    def __init__(self) -> None:
        self.working = False
        self.sent: list[dict[str, Any]] = []

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        if not self.working:
            raise ConnectionError("Connection closed by server.")
        self.sent.append(message)


async def test_the_resync_names_the_latest_lost_commit(monkeypatch):
    layer = FailingLayer()
    monkeypatch.setattr(broadcast, "get_channel_layer", lambda: layer)
    monkeypatch.setattr(broadcast, "RESYNC_RETRY_SECONDS", 0.01)
    publisher = Publisher()
    event = make_envelope(1, ErrorFrame(code="unavailable", message="x", ref=None), to="everyone")
    for committed_at in (LOST_AT + 5, LOST_AT, LOST_AT + 2):  # lost in the order their drains sent them
        publisher.submit(event, committed_at)
        await asyncio.sleep(0.03)
    layer.working = True
    while not layer.sent:
        await asyncio.sleep(0.01)
    (resync,) = layer.sent
    assert resync["effect"] == "close:1012" and RESYNC_TEXT in resync["text"]
    assert resync["stale_before"] == LOST_AT + 5 + RESYNC_CLOCK_MARGIN_SECONDS
    assert publisher.lost_commits == {}


@pytest.mark.usefixtures("transactional_db")
async def test_a_connection_that_caught_up_after_the_lost_commit_stays(connect, live_group, alex, sam, monkeypatch):
    monkeypatch.setattr(broadcast, "RESYNC_CLOCK_MARGIN_SECONDS", 0.0)
    await set_room(live_group, mode="open")
    before, _ = await connect(alex, live_group.pk)
    lost_at = time.time()
    after, _ = await connect(sam, live_group.pk)

    await get_hub().deliver_local(resync_envelope(live_group.pk, lost_at))

    frames, code = await before.until_close()
    assert code == 1012 and [f["message"] for f in frames if f["type"] == "error"] == [RESYNC_TEXT]
    assert not [f for f in await after.drain() if f["type"] == "error"]
    assert (await after.request("chat.send", text="still here"))["type"] == "ack"
