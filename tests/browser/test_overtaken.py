"""A live message that overtook an earlier one does not hide it from the reconnect.

Two messages committed moments apart are published by different threads (or
workers), and the later can reach a page first: the bench counts such deliveries
under load (`out_of_order`). Playwright stands between Alex's page and daphne
(`page.route_web_socket`), holds Sam's first message back, lets the second through,
then drops the connection, as a phone's would. The page must resume from a seq
before the held-back message, not from the highest it has seen, so that the
catch-up brings it; the second, fetched again, shows once.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import RawClients, open_room_with_alex_routed

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.slow]

EARLIER, LATER = "Earlier: I slept badly", "Later: but I came anyway"


class Overtaker:
    """Holds back the chat.message carrying `EARLIER`; when `LATER` has gone through, drops the connection."""

    def __init__(self) -> None:
        self.held: dict[str, Any] | None = None
        self.urls: list[str] = []

    def route(self, page_side: Any) -> None:
        self.urls.append(page_side.url)
        server_side = page_side.connect_to_server()

        def from_server(message: str | bytes) -> None:
            frame = json.loads(message)
            if frame.get("type") == "chat.message" and frame["text"] == EARLIER and self.held is None:
                self.held = frame
                return
            page_side.send(message)
            if frame.get("type") == "chat.message" and frame["text"] == LATER:
                server_side.close()
                page_side.close(code=1012)  # "service restart": the page reconnects with ?since=

        server_side.on_message(from_server)  # the page's own frames go to the server unchanged


def test_a_reconnect_brings_the_message_that_was_overtaken(circle, open_page):
    overtaker = Overtaker()
    session_id, dana, alex = open_room_with_alex_routed(circle, open_page, "Overtaken", overtaker.route)

    raw = RawClients(circle.base_url)
    try:
        sam = raw.connect(session_id, "sam")
        raw.request(sam, "chat.send", text=EARLIER)
        raw.request(sam, "chat.send", text=LATER)
    finally:
        raw.close()

    bodies = alex.locator("#messages .msg-body")
    expect(alex.locator("#banner")).to_be_hidden(timeout=20_000)
    expect(bodies).to_have_text([EARLIER, LATER])
    assert overtaker.held is not None and overtaker.held["text"] == EARLIER
    first, resumed = overtaker.urls
    assert "since=" not in first
    # Resumed from before the held-back message (its seq), not from the later one's.
    assert int(resumed.rsplit("since=", 1)[1]) < overtaker.held["seq"], resumed
    expect(dana.locator("#messages .msg-body")).to_have_text([EARLIER, LATER])
