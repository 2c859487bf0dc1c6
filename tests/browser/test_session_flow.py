"""A whole session carried through the pages only, each person in their own browser context.

Dana (facilitator) and the patients Alex (desktop) and Sam (a 360 px phone) sign
in through the login form; Robin joins as Alex's family guest through the
invitation link Dana creates in the console. Nothing here sends a frame itself.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.browser.helpers import room_ready

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def composer(page):
    return page.locator("#composer-text")


def reason(page):
    return page.locator("#composer-reason")


def say(page, text: str) -> None:
    composer(page).fill(text)
    page.get_by_role("button", name="Send", exact=True).click()
    expect(composer(page)).to_have_value("")


def message(page, text: str):
    return page.locator("#messages .msg-body", has_text=text)


def test_a_whole_session_through_the_pages(circle, open_page):
    title = "Thursday family group"
    session_id = circle.schedule(title)
    room_url = re.compile(rf"/sessions/{session_id}/$")

    dana, alex, sam = open_page(1280, 900), open_page(1280, 860), open_page(360, 780)
    for page, username in ((dana, "dana"), (alex, "alex"), (sam, "sam")):
        sign_in(page, circle.base_url, username)
        # From the dashboard into the room, by the session's link.
        page.get_by_role("link", name=title).first.click()
        expect(page).to_have_url(room_url)
        room_ready(page)

    # Before the start: patients read, and the composer says why they cannot write.
    for page in (alex, sam):
        expect(page.locator("#room-status")).to_have_text("Not started yet")
        expect(composer(page)).to_be_disabled()
        expect(reason(page)).to_contain_text("hasn't started yet")

    # Start.
    dana.get_by_role("button", name="Start the session").click()
    for page in (dana, alex, sam):
        expect(page.locator("#room-status")).to_contain_text("Live · Hands up")
    expect(reason(sam)).to_contain_text("Raise your hand")
    say(dana, "Welcome, everyone. Let's begin with a short check-in.")
    expect(message(sam, "Welcome, everyone.")).to_have_count(1)

    # Raise a hand; Dana sees the queue and gives Alex the floor.
    alex.get_by_role("button", name="Raise my hand").click()
    expect(alex.get_by_role("button", name="Lower my hand")).to_have_attribute("aria-pressed", "true")
    expect(dana.locator("#queue")).to_contain_text("Alex")
    expect(sam.locator("#queue")).to_contain_text("Alex")
    expect(dana.locator("#people .person", has_text="Alex")).to_contain_text("hand raised")
    dana.get_by_role("button", name="Give the floor to Alex").click()
    expect(alex.locator("#floor")).to_contain_text(re.compile(r"You have the floor, \d:\d\d left"))
    expect(sam.locator("#floor")).to_contain_text(re.compile(r"Alex has the floor, \d:\d\d left"))
    expect(dana.locator("#queue-empty")).to_be_visible()

    # Chat.
    expect(composer(alex)).to_be_enabled()
    say(alex, "Thanks. It was a hard week, but I'm here.")
    for page in (dana, sam):
        expect(message(page, "It was a hard week")).to_have_count(1)
    expect(composer(sam)).to_be_disabled()
    alex.get_by_role("button", name="I'm done").click()
    expect(alex.locator("#floor")).to_contain_text("No one has the floor")

    # Post a prompt from the library, chosen by category.
    dana.locator("#console-category").select_option("coping")
    chosen = dana.locator("#console-prompt option:checked").inner_text()
    dana.get_by_role("button", name="Pin this topic").click()
    for page in (alex, sam):
        expect(page.locator("#prompt-text")).to_have_text(chosen)
        expect(page.locator("#prompt")).to_contain_text("Coping")

    # A check-in round: Alex, then Sam (Jordan is not here and is skipped).
    dana.locator("#round-seconds").select_option("120")
    dana.get_by_role("button", name="Start a round").click()
    expect(alex.locator("#floor")).to_contain_text(re.compile(r"Your turn, \d:\d\d left, next: Sam"))
    expect(sam.locator("#floor")).to_contain_text(re.compile(r"Alex's turn, \d:\d\d left, next: You"))
    expect(reason(sam)).to_contain_text("It's Alex's turn in the round")
    say(alex, "Going for walks has helped me.")
    alex.get_by_role("button", name="Pass to the next person").click()
    expect(sam.locator("#floor")).to_contain_text(re.compile(r"Your turn, \d:\d\d left, last turn"))
    say(sam, "Calling my sponsor when it gets loud.")
    expect(message(alex, "Calling my sponsor")).to_have_count(1)
    dana.get_by_role("button", name="Next person", exact=True).click()
    for page in (dana, alex, sam):
        expect(page.locator("#room-status")).to_contain_text("Live · Hands up")
    expect(composer(sam)).to_be_disabled()

    # Invite a family member: a copyable link from the console.
    dana.locator("#invite-for").select_option(label="Alex")
    dana.get_by_label("Guest's name").fill("Robin")
    dana.get_by_role("button", name="Create a link").click()
    link = dana.locator("#invite-link")
    expect(link).to_have_value(re.compile(r"^http://127\.0\.0\.1:\d+/join/[^/]+/$"))
    expect(dana.get_by_role("button", name="Copy link")).to_be_visible()
    join_url = link.input_value()

    robin = open_page(360, 780)
    robin.goto(join_url)
    expect(robin.get_by_role("heading", level=1)).to_have_text("You're invited to a family session")
    expect(robin.locator("main")).to_contain_text("Alex would like you to join")
    robin.get_by_label("Your name, as the group will see it").fill("Robin")
    robin.get_by_label("How you know Alex").select_option("spouse")
    robin.get_by_role("checkbox").check()
    robin.get_by_role("button", name="Join the waiting room").click()
    expect(robin).to_have_url(room_url)
    expect(robin.get_by_role("heading", name="You're in the waiting room")).to_be_visible()
    expect(robin.locator("#room-body")).to_be_hidden()

    # Dana sees Robin waiting and lets them in; Robin sees nothing said before.
    waiting = dana.locator("#lobby-list li", has_text="Robin")
    expect(waiting).to_contain_text("guest of Alex, spouse")
    expect(dana.locator("#lobby-count")).to_have_text("1")
    waiting.get_by_role("button", name="Let in Robin").click()
    expect(robin.locator("#room-body")).to_be_visible()
    expect(robin.locator("#lobby-screen")).to_be_hidden()
    expect(robin.locator("#no-messages")).to_be_visible()
    expect(message(robin, "hard week")).to_have_count(0)
    expect(reason(robin)).to_contain_text("when the facilitator gives you a turn")
    expect(alex.locator("#people")).to_contain_text("Robin")
    dana.locator("#people .person", has_text="Robin").get_by_role("button", name="Give floor Robin").click()
    expect(composer(robin)).to_be_enabled()
    say(robin, "Hello, I'm Robin. Thank you for having me.")
    expect(message(alex, "I'm Robin")).to_have_count(1)
    expect(alex.locator("#messages .msg", has_text="I'm Robin")).to_contain_text("guest of Alex")

    # Everyone may write; Sam writes something Dana then removes.
    dana.get_by_role("button", name="Everyone", exact=True).click()
    expect(composer(sam)).to_be_enabled()
    say(sam, "Something that should not stay here.")
    for page in (alex, robin):
        expect(message(page, "should not stay")).to_have_count(1)
    doomed = dana.locator("#messages .msg", has_text="should not stay")
    doomed.get_by_role("button", name="Remove message from Sam").click()
    for page in (dana, alex, sam, robin):
        expect(message(page, "should not stay")).to_have_count(0)
    expect(message(alex, "Calling my sponsor")).to_have_count(1)

    # Mute Sam: the composer says so; everyone sees it.
    dana.locator("#people .person", has_text="Sam").get_by_role("button", name="Mute Sam").click()
    expect(composer(sam)).to_be_disabled()
    expect(reason(sam)).to_contain_text("muted you")
    expect(sam.get_by_role("button", name="Raise my hand")).to_be_disabled()
    expect(alex.locator("#people .person", has_text="Sam")).to_contain_text("muted")
    expect(composer(alex)).to_be_enabled()

    # End, with a confirmation.
    dana.get_by_role("button", name="End the session…").click()
    dialog = dana.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("End the session for everyone?")
    dialog.get_by_role("button", name="End the session").click()
    for page in (dana, alex, sam, robin):
        expect(page.get_by_role("heading", name="This session has ended")).to_be_visible()
        expect(composer(page)).to_be_hidden()
    # The conversation stays readable for those who were in it; Dana gets the session's records.
    expect(message(alex, "Calling my sponsor")).to_have_count(1)
    expect(dana.locator("#closed-screen").get_by_role("link", name="Transcript")).to_be_visible()
    expect(dana.locator(".console")).to_be_hidden()
