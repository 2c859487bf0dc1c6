"""A send whose answer is lost: the page neither loses the message nor lets it be sent twice.

Playwright stands between the page and daphne (`page.route_web_socket`) and
drops the connection at the worst moment for each case:

1. the server stored the message, and the connection drops before its `ack` and
   its broadcast reach the page: the message arrives with the `?since=`
   catch-up, and the composer lets it go ("Your message was delivered.");
2. the broadcast overtook the `ack`, which is lost: the message is already on
   the page when the connection drops, so the composer lets it go at once;
3. the `chat.send` itself never reached the server: nothing was stored; the page
   sends it again by itself once reconnected (with the same `txn_id`, as in the
   first two cases, where the server answers the resend with the first ack), and
   it shows once.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import open_room_with_alex_routed

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.slow]

DELIVERED = "Your message was delivered."


class Saboteur:
    """Proxies the page's room socket to daphne; armed, it cuts the next chat.send's connection short.

    `cut` says where: "before_reply" (the server gets the chat.send, the page gets
    nothing more from the server: not the broadcast, not the ack), "ack_only" (the
    page gets everything but the ack), or "before_server" (the chat.send is never
    forwarded). Each cut closes the page's socket; the page then reconnects through
    the same route, disarmed.
    """

    def __init__(self) -> None:
        self.cut: str | None = None
        self.ref: str | None = None
        self.connections = 0

    def route(self, page_side: Any) -> None:
        self.connections += 1
        server_side = page_side.connect_to_server()

        def from_page(message: str | bytes) -> None:
            frame = json.loads(message)
            if self.cut is not None and frame.get("type") == "chat.send":
                self.ref = frame["ref"]
                if self.cut == "before_server":
                    self.drop(page_side, server_side)
                    return
            server_side.send(message)

        def from_server(message: str | bytes) -> None:
            if self.ref is not None:
                frame = json.loads(message)
                if frame.get("type") == "ack" and frame.get("ref") == self.ref:
                    self.drop(page_side, server_side)
                    return
                if self.cut == "before_reply":
                    return  # held back: the page must learn of the message from the catch-up
            page_side.send(message)

        page_side.on_message(from_page)
        server_side.on_message(from_server)

    def drop(self, page_side: Any, server_side: Any) -> None:
        self.cut = self.ref = None
        server_side.close()
        page_side.close(code=1012)  # "service restart": the page reconnects with ?since=


def bodies(page: Any) -> Any:
    return page.locator("#messages .msg-body")


def test_a_lost_answer_neither_loses_the_message_nor_sends_it_twice(circle, open_page):
    saboteur = Saboteur()
    _session_id, dana, alex = open_room_with_alex_routed(circle, open_page, "Lost answers", saboteur.route)
    composer, reason = alex.locator("#composer-text"), alex.locator("#composer-reason")

    def send(text: str, cut: str | None) -> None:
        saboteur.cut = cut
        composer.fill(text)
        alex.get_by_role("button", name="Send", exact=True).click()

    # 1. Stored, and neither the broadcast nor the ack reached the page.
    send("  I went to a meeting yesterday  ", "before_reply")
    expect(bodies(dana)).to_have_text(["I went to a meeting yesterday"])
    expect(reason).to_have_text(DELIVERED, timeout=20_000)
    expect(composer).to_have_value("")
    expect(bodies(alex)).to_have_text(["I went to a meeting yesterday"])

    # 2. The broadcast overtook the ack, and the ack was lost.
    send("It helped to talk", "ack_only")
    expect(reason).to_have_text(DELIVERED)
    expect(composer).to_have_value("")
    expect(bodies(alex)).to_have_text(["I went to a meeting yesterday", "It helped to talk"])

    # 3. The chat.send never reached the server: the page sends it again once reconnected.
    send("See you Thursday", "before_server")
    expect(reason).to_have_text(DELIVERED, timeout=20_000)
    expect(composer).to_have_value("")

    expected = ["I went to a meeting yesterday", "It helped to talk", "See you Thursday"]
    for page in (alex, dana):
        expect(bodies(page)).to_have_text(expected)
    assert saboteur.connections == 4, "each cut made the page reconnect once"
