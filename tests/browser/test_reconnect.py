"""Losing the server mid-session: the banner shows, and after the reconnect what was said meanwhile appears once.

daphne is killed (SIGKILL: every connection drops at once, nothing is closed
cleanly). While it is down, a second daphne on another port and the same
database carries three messages from Sam; the pages cannot reach it (it is not
their origin), so those messages are exactly what they missed. Then daphne
comes back on the same port and database: the pages reconnect by themselves
(Alex's on its backoff timer, Dana's when the browser reports the network is
back) with ?since=, and each missed message shows exactly once, in order.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests import e2e
from tests.browser.helpers import RawClients, enter_room, start_open_conversation

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.slow]

MISSED = ["While you were away: one", "While you were away: two", "While you were away: three"]


def texts(page) -> list[str]:
    return page.locator("#messages .msg-body").all_inner_texts()


def test_reconnect_shows_the_banner_and_misses_nothing(own_circle, open_page):
    circle = own_circle
    session_id = circle.schedule("Reconnect group")
    alex, dana = open_page(1280, 860), open_page(360, 780)
    for page, username in ((alex, "alex"), (dana, "dana")):
        enter_room(page, circle.base_url, username, session_id)

    start_open_conversation(dana, alex)
    alex.locator("#composer-text").fill("Before the drop")
    alex.get_by_role("button", name="Send", exact=True).click()
    for page in (alex, dana):
        expect(page.locator("#messages .msg-body")).to_have_text(["Before the drop"])
        expect(page.locator("#banner")).to_be_hidden()
    # The broadcast can overtake the sender's ack: wait for the ack (the composer
    # clears) so the drop below interrupts nothing in flight.
    expect(alex.locator("#composer-text")).to_have_value("")

    circle.server.kill()
    for page in (alex, dana):
        expect(page.locator("#banner")).to_be_visible()
        expect(page.locator("#banner")).to_contain_text("Reconnecting")
        expect(page.locator("#composer-text")).to_be_disabled()
        expect(page.locator("#composer-reason")).to_contain_text("Reconnecting")

    # Meanwhile, on another worker with the same database, Sam says three things.
    other = e2e.ServerProcess(circle.env, name="daphne-meanwhile").start()
    raw = RawClients(other.base_url)
    try:
        sam = raw.connect(session_id, "sam")
        for text in MISSED:
            raw.request(sam, "chat.send", text=text)
    finally:
        raw.close()
        other.terminate()
    e2e.assert_no_traceback(other.log_text(), name="daphne-meanwhile")

    circle.restart()
    dana.evaluate("window.dispatchEvent(new Event('online'))")
    for page in (alex, dana):
        expect(page.locator("#banner")).to_be_hidden(timeout=20_000)
        expect(page.locator("#messages .msg-body")).to_have_text(["Before the drop", *MISSED])
        expect(page.locator("#composer-text")).to_be_enabled()

    # The resumed connection is live: a new message arrives once on both pages.
    alex.locator("#composer-text").fill("Back again")
    alex.get_by_role("button", name="Send", exact=True).click()
    for page in (alex, dana):
        expect(page.locator("#messages .msg-body")).to_have_text(["Before the drop", *MISSED, "Back again"])
    assert texts(alex) == texts(dana)
