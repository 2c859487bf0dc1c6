"""Hostile text from a raw WebSocket client shows as literal text and runs nothing.

Sam (a patient) and Dana (the facilitator) send payloads with a raw client,
bypassing the page; Alex's and Dana's pages render them. Every payload would
push to window.__xss if it ever ran; the page's strict CSP would report any
inline script or style it blocked (the conftest fails the test on either).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests import e2e
from tests.browser.helpers import RawClients, enter_room

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

PAYLOADS = [
    "<script>window.__xss.push('script')</script>",
    "<img src=x onerror=\"window.__xss.push('img')\">",
    "<svg onload=\"window.__xss.push('svg')\"><circle r=5></circle></svg>",
    "<a href=\"javascript:window.__xss.push('href')\">read this</a>",
    '"><iframe srcdoc="<script>parent.__xss.push(\'iframe\')</script>"></iframe>',
    "<style>body{display:none}</style><b onmouseover=\"window.__xss.push('hover')\">bold</b>",
    "<details open ontoggle=\"window.__xss.push('toggle')\">x</details>",
    "https://example.org/\"><img src=x onerror=window.__xss.push('link')>",
    "javascript:window.__xss.push('bare') &lt;b&gt;escaped&lt;/b&gt; &amp; {{ 7*7 }} ${7*7}",
    "<math><mtext><table><mglyph><style><img src=x onerror=window.__xss.push('mxss')>",
]
DANGEROUS = (
    "#messages script, #messages img, #messages svg, #messages iframe, #messages style, #messages details, "
    "#messages b, #messages math, #messages [onerror], #messages [onload], #messages a[href^='javascript']"
)


def test_payloads_render_as_text_and_run_nothing(circle, open_page):
    session_id = circle.schedule("Payload group")
    alex, dana = open_page(1280, 900), open_page(360, 780)
    for page, username in ((alex, "alex"), (dana, "dana")):
        enter_room(page, circle.base_url, username, session_id)

    raw = RawClients(circle.base_url)
    try:
        lead = raw.connect(session_id, "dana")
        sam = raw.connect(session_id, "sam")
        raw.request(lead, "session.start")
        raw.request(lead, "mode.set", mode="open")
        for payload in PAYLOADS:
            raw.request(sam, "chat.send", text=payload)
        raw.request(lead, "chat.send", text=PAYLOADS[1])
        # A facilitator's custom prompt is shown to everyone too.
        raw.request(lead, "prompt.post", category="coping", text=PAYLOADS[0] + PAYLOADS[1])
    finally:
        raw.close()

    # Names are text too: a guest invited and named with markup, seen in the lobby and the room.
    invited_as = "<img src=x onerror=window.__xss.push('invite')>"
    named = "<svg onload=window.__xss.push('name')>"
    join_path = e2e.invite_guest(circle.env, session_id, for_patient="alex", name=invited_as)
    guest = open_page(360, 780)
    guest.goto(f"{circle.base_url}{join_path}")
    expect(guest.get_by_label("Your name, as the group will see it")).to_have_value(invited_as)
    guest.get_by_label("Your name, as the group will see it").fill(named)
    guest.get_by_role("checkbox").check()
    guest.get_by_role("button", name="Join the waiting room").click()
    expect(guest.get_by_role("heading", name="You're in the waiting room")).to_be_visible()
    waiting = dana.locator("#lobby-list li")
    expect(waiting).to_contain_text(f"{named} (guest of Alex)")
    expect(dana.locator("#invite-list")).to_contain_text(f"{named}, for Alex")
    waiting.get_by_role("button", name=f"Let in {named}").click()
    expect(alex.locator("#people")).to_contain_text(named)
    expect(guest.locator("#people")).to_contain_text(f"{named} (you)")
    for page in (alex, dana, guest):
        assert page.locator("#people svg, #people img, #lobby-list svg, #invite-list img").count() == 0
    assert guest.evaluate("window.__xss") == []

    for page in (alex, dana):
        bodies = page.locator("#messages .msg-body")
        expect(bodies).to_have_count(len(PAYLOADS) + 1)
        for index, payload in enumerate(PAYLOADS):
            expect(bodies.nth(index)).to_have_text(payload)
        expect(page.locator("#prompt-text")).to_have_text(PAYLOADS[0] + PAYLOADS[1])
        # Only the link the server made, and it goes where it says.
        links = page.locator("#messages a")
        expect(links).to_have_count(1)
        expect(links.first).to_have_attribute("href", re.compile(r"^https://example\.org/"))
        expect(links.first).to_have_attribute("rel", "nofollow noopener noreferrer")
        assert page.locator(DANGEROUS).count() == 0
        # Poke at everything a handler could hang on, then check nothing ran.
        bodies.first.hover()
        page.locator("#messages .msg-body", has_text="read this").click()
        page.locator("#messages .msg-body", has_text="bold").hover()
        page.wait_for_timeout(300)
        assert page.evaluate("window.__xss") == []
        expect(page.locator("body")).to_be_visible()
