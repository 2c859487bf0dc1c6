"""axe-core on every page people use, at 360 px and at 1280 px, with the pages full of real state.

A live session with a pinned topic, messages, a raised hand, a floor holder, a
crisis alert and a family guest waiting in the lobby; the pages are checked
as Alex (patient), Dana (facilitator, console) and the guest see them. No
serious or critical violation may remain. The README's screenshots are taken
here too (see conftest: UPDATE_SCREENSHOTS=1).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests import e2e
from tests.browser.conftest import sign_in
from tests.browser.helpers import RawClients, check_both_widths, room_ready, tab_through

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

def test_pages_have_no_serious_accessibility_problems(circle, open_page, screenshots):
    session_id = circle.schedule("Wednesday evening group")
    join_path = e2e.invite_guest(circle.env, session_id, for_patient="alex", name="Robin")

    anonymous = open_page(1280, 900)
    anonymous.goto(f"{circle.base_url}/accounts/login/")
    check_both_widths(anonymous, "the sign-in page")

    dana, alex = open_page(1280, 900), open_page(1280, 900)
    sign_in(dana, circle.base_url, "dana")
    expect(dana.get_by_role("heading", name="Schedule a session")).to_be_visible()
    check_both_widths(dana, "the facilitator's dashboard")
    sign_in(alex, circle.base_url, "alex")
    expect(alex.get_by_role("heading", name="Family invitations")).to_be_visible()
    expect(alex.locator("main")).to_contain_text("Robin")
    check_both_widths(alex, "the patient's dashboard")

    dana.goto(f"{circle.base_url}/sessions/{session_id}/agenda/")
    dana.get_by_role("button", name="Add to the agenda").click()
    expect(dana.locator(".agenda-item")).to_have_count(1)
    check_both_widths(dana, "the agenda editor")

    for page in (dana, alex):
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(f"{circle.base_url}/sessions/{session_id}/")
        room_ready(page)
    check_both_widths(alex, "the room before the start")

    raw = RawClients(circle.base_url)
    try:
        lead, sam, jordan = (raw.connect(session_id, name) for name in ("dana", "sam", "jordan"))
        raw.request(lead, "session.start")
        raw.request(lead, "prompt.post", category="coping", text="What has helped you through a hard moment this week?")
        raw.request(lead, "chat.send", text="Welcome, everyone. Take your time; you can always pass.")
        raw.request(lead, "mode.set", mode="open")
        raw.request(sam, "chat.send", text="Honestly I feel like using again. It's been a rough few days.")
        raw.request(jordan, "chat.send", text="Thank you for saying that, Sam. I've been there.\nWalking helps me.")
        raw.request(lead, "mode.set", mode="moderated")
        raw.request(jordan, "hand.raise")
        raw.request(lead, "floor.grant", participant_id=alex_id(alex), seconds=180)
    finally:
        raw.close()

    # The guest: the join page, then the waiting room.
    robin = open_page(360, 780)
    robin.goto(f"{circle.base_url}{join_path}")
    expect(robin.get_by_role("heading", level=1)).to_have_text("You're invited to a family session")
    robin.screenshot(path=str(screenshots / "guest-join.png"), full_page=True)
    check_both_widths(robin, "the guest join page")
    robin.get_by_role("checkbox").check()
    robin.get_by_role("button", name="Join the waiting room").click()
    expect(robin.get_by_role("heading", name="You're in the waiting room")).to_be_visible()
    check_both_widths(robin, "the lobby waiting screen")

    # The patient's room, busy.
    expect(alex.locator("#floor")).to_contain_text("You have the floor")
    expect(alex.locator("#messages .msg")).to_have_count(3)
    alex.set_viewport_size({"width": 1280, "height": 800})
    alex.locator("#composer-text").fill("Thank you both. Writing things down has helped me.")
    alex.screenshot(path=str(screenshots / "room-patient.png"))
    check_both_widths(alex, "the room (patient)")
    alex.screenshot(path=str(screenshots / "room-patient-360.png"), full_page=True)
    # Keyboard: the skip link comes first, then everything Alex needs, each with a visible focus ring.
    alex.set_viewport_size({"width": 1280, "height": 800})
    alex.reload()
    room_ready(alex)
    stops = tab_through(alex, 14)
    assert stops[0].startswith("a Skip to main content")
    for needed in ("#message-log", "#composer-text", "#send", "#yield", "#composer-private"):
        assert needed in stops, f"{needed} is not reachable with Tab: {stops}"

    # The facilitator's console, busy: the alert, the queue, the lobby.
    expect(dana.locator("#alert-list li")).to_have_count(1)
    expect(dana.locator("#alert-list")).to_contain_text("Sam")
    expect(dana.locator("#crisis-text")).not_to_be_empty()
    expect(dana.locator("#lobby-list li")).to_have_count(1)
    expect(dana.locator("#queue")).to_contain_text("Jordan")
    dana.set_viewport_size({"width": 1280, "height": 1000})
    dana.screenshot(path=str(screenshots / "console-facilitator.png"))
    check_both_widths(dana, "the facilitator console")
    dana.set_viewport_size({"width": 1280, "height": 1000})
    dana.reload()
    room_ready(dana)
    stops = tab_through(dana, 45)
    for needed in ("#composer-to", "#give-next", "#end-session", "#console-prompt", "button Let in Robin"):
        assert any(stop.startswith(needed) for stop in stops), f"{needed} is not reachable with Tab: {stops}"
    dana.get_by_role("button", name="End the session…").click()
    expect(dana.locator("#confirm-dialog")).to_be_visible()
    check_both_widths(dana, "the end-session confirmation")
    dana.get_by_role("button", name="Cancel").click()
    expect(dana.locator("#confirm-dialog")).to_be_hidden()


def alex_id(page) -> int:
    """Alex's participant id, as the People list knows it."""
    key = page.locator("#people .person", has_text="Alex (you)").get_attribute("data-key")
    assert key and key.isdigit()
    return int(key)
