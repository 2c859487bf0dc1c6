"""The room page sends each message with a `txn_id`, and an unanswered one again after a reconnect (issue 22).

Playwright stands between Alex's page and daphne and cuts the connection after a
`chat.send` went out: once after the server stored it (neither its broadcast nor its
ack reaches the page), once before the server got it. Either way the page, once
reconnected, sends the same message again with the same `txn_id` by itself; the
server stores it once and answers the resend with the first message's ack. Dana's
page, and both pages loaded afresh, show each message once.

Inputs: 2 cuts (after the store, before it) and a message sent normally, each checked
for its txn_id on the wire.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import enter_room, open_room_with_alex_routed

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.slow]

DELIVERED = "Your message was delivered."


class Cutter:
    """Proxies the page's room socket; armed, it cuts the connection after the next chat.send went out.

    "after_store": the server gets the chat.send, the page gets nothing more on that connection;
    "before_server": the chat.send is never forwarded. Every chat.send's txn_id is recorded.
    """

    def __init__(self) -> None:
        self.cut: str | None = None
        self.sent: list[dict[str, Any]] = []  # every chat.send the page sent, in order
        self.connections = 0

    def route(self, page_side: Any) -> None:
        self.connections += 1
        server_side = page_side.connect_to_server()
        state = {"deaf": False}

        def from_page(message: str | bytes) -> None:
            frame = json.loads(message)
            if frame.get("type") == "chat.send":
                self.sent.append(frame)
                if self.cut is not None:
                    cut, self.cut = self.cut, None
                    if cut == "before_server":
                        self.drop(page_side, server_side)
                        return
                    state["deaf"] = True  # what the server says about it never reaches the page
                    server_side.send(message)
                    return
            server_side.send(message)

        def from_server(message: str | bytes) -> None:
            if state["deaf"]:
                if json.loads(message).get("type") == "ack":
                    self.drop(page_side, server_side)  # the message is stored: now cut
                return
            page_side.send(message)

        page_side.on_message(from_page)
        server_side.on_message(from_server)

    @staticmethod
    def drop(page_side: Any, server_side: Any) -> None:
        server_side.close()
        page_side.close(code=1012)  # the page reconnects with ?since=


def bodies(page: Any) -> Any:
    return page.locator("#messages .msg-body")


def test_an_unanswered_message_is_sent_again_with_its_txn_id_and_shows_once(circle, open_page):
    cutter = Cutter()
    session_id, dana, alex = open_room_with_alex_routed(circle, open_page, "Resends", cutter.route)
    composer, reason = alex.locator("#composer-text"), alex.locator("#composer-reason")

    def send(text: str, cut: str | None) -> None:
        cutter.cut = cut
        composer.fill(text)
        alex.get_by_role("button", name="Send", exact=True).click()

    send("Plain and simple", None)
    expect(bodies(dana)).to_have_text(["Plain and simple"])
    send("Stored, then cut", "after_store")
    expect(reason).to_have_text(DELIVERED, timeout=20_000)  # resent after the reconnect: the first ack
    expect(composer).to_have_value("")
    send("Cut before the server", "before_server")
    expect(reason).to_have_text(DELIVERED, timeout=20_000)  # resent by the page, stored now
    expect(composer).to_have_value("")

    expected = ["Plain and simple", "Stored, then cut", "Cut before the server"]
    for page in (alex, dana):
        expect(bodies(page)).to_have_text(expected)
    fresh = open_page(1024, 768)
    enter_room(fresh, circle.base_url, "sam", session_id)
    expect(bodies(fresh)).to_have_text(expected)  # from the database: each stored once

    by_text: dict[str, list[str]] = {}
    for frame in cutter.sent:
        assert isinstance(frame.get("txn_id"), str) and 0 < len(frame["txn_id"]) <= 64, frame
        by_text.setdefault(frame["text"], []).append(frame["txn_id"])
    assert [len(ids) for ids in by_text.values()] == [1, 2, 2], by_text  # the two cut ones went twice
    assert all(len(set(ids)) == 1 for ids in by_text.values()), "a resend keeps its txn_id"
    assert len({ids[0] for ids in by_text.values()}) == 3, "each message has its own txn_id"
    assert cutter.connections == 3, "each cut made the page reconnect once"
