"""The clinical record in a browser: the console's goals panel in an individual session (goals, the readiness
ruler, the individual prompts), the progress notes page and the patient's record page, each checked with
axe-core at 1280 and 360 px. The README's screenshots of them are taken here (UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests import e2e
from tests.browser.conftest import sign_in
from tests.browser.helpers import RawClients, check_both_widths, enter_room

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

def test_the_goal_panel_the_notes_page_and_the_record_page(circle, open_page, screenshots):
    session_id = e2e.schedule_session(
        circle.env, title="Alex, one to one", facilitator="dana", patients=["alex"], kind="individual"
    )
    dana, alex = open_page(1280, 900), open_page(360, 780)
    enter_room(dana, circle.base_url, "dana", session_id)
    enter_room(alex, circle.base_url, "alex", session_id)
    dana.get_by_role("button", name="Start the session").click()
    panel = dana.locator("#panel-goals")
    expect(panel.get_by_role("heading", name="Goals and motivation")).to_be_visible()
    expect(dana.locator("#time-left")).to_contain_text("min left of the session's 50 min")
    expect(panel.locator("#mi-prompt optgroup")).to_have_count(2)  # withdrawal, motivation

    # Set a goal for Alex, then review it with the readiness ruler.
    panel.get_by_text("Set a goal").click()
    panel.get_by_label("The goal, in the patient's words").fill("Call my sister every Sunday")
    panel.get_by_label("Why it matters (optional)").fill("She helps me stay on track")
    panel.get_by_role("button", name="Set the goal").click()
    expect(panel.locator("#goal-list li")).to_have_count(1)
    expect(panel.locator("#goal-list")).to_contain_text("Call my sister every Sunday")
    panel.get_by_label("Progress (0 to 10)").fill("6")
    panel.get_by_label("Importance (0 to 10)").fill("8")
    panel.get_by_label("Confidence (0 to 10)").fill("4")
    panel.get_by_role("button", name="Save the review").click()
    expect(panel.locator("#goal-list")).to_contain_text("progress 6/10, importance 8/10, confidence 4/10")
    # Alex's room shows their own goal with its last review, and takes a goal of their own.
    mine = alex.get_by_role("region", name="My goals")
    expect(mine.locator("#my-goals")).to_contain_text("Last review: progress 6 of 10")
    mine.get_by_text("Add a goal of my own").click()
    mine.get_by_label("My goal, in my words").fill("Sleep by eleven")
    mine.get_by_role("button", name="Add my goal").click()
    expect(mine.locator("#my-goals li")).to_have_count(2)
    expect(panel.locator("#goal-list li")).to_have_count(2)  # Dana sees it at once
    check_both_widths(alex, "the patient's room with their goals", then=(1280, 900))
    panel.get_by_label("Progress (0 to 10)").fill("7")
    panel.get_by_label("Importance (0 to 10)").fill("9")
    panel.get_by_label("Confidence (0 to 10)").fill("6")
    panel.get_by_role("button", name="Save the review").click()
    expect(panel.locator("#goal-list")).to_contain_text("progress 7/10, importance 9/10, confidence 6/10")
    panel.locator("#mi-prompt").select_option(index=0)
    panel.get_by_role("button", name="Pin this prompt").click()
    expect(dana.locator("#console-status")).to_have_text("The topic is pinned.")
    check_both_widths(dana, "the console's goals panel", then=(1280, 900))
    panel.scroll_into_view_if_needed()
    panel.screenshot(path=str(screenshots / "console-goals.png"))

    raw = RawClients(circle.base_url)
    try:
        raw.request(raw.connect(session_id, "dana"), "session.end")
    finally:
        raw.close()

    # After the session, Alex's dashboard: "My goals", with the goal's history.
    alex.goto(f"{circle.base_url}/")
    my_goals = alex.get_by_role("region", name="My goals")
    expect(my_goals).to_contain_text("Call my sister every Sunday")
    expect(my_goals.locator(".goal")).to_have_count(2)
    expect(my_goals.locator(".goal-history li")).to_have_count(2)  # the first goal's two reviews
    check_both_widths(alex, "the patient's dashboard with My goals", then=(1280, 900))

    # The notes page: Alex's note, prefilled from the room, signed, then amended.
    dana.goto(f"{circle.base_url}/sessions/{session_id}/notes/")
    expect(dana.get_by_role("heading", level=1)).to_contain_text("Progress notes")
    note = dana.locator("#note-" + dana.locator("input[name=participant_id]").first.get_attribute("value"))
    reviewed = "Goal reviewed: \u201cCall my sister every Sunday\u201d, progress 7/10."
    expect(note.get_by_label("Data")).to_contain_text(reviewed)
    # (The session lasted seconds: whole seconds attended decide present or left early, so either may show.)
    expect(note.get_by_label("Data")).to_contain_text("Scheduled length: 50 min.")
    note.get_by_label("Assessment").fill("Engaged; ambivalence about weekends.")
    note.get_by_label("Plan").fill("Review the goal next week.")
    check_both_widths(dana, "the notes page with a draft", then=(1280, 900))
    note.get_by_role("button", name="Sign (locks the note)").click()
    expect(note).to_contain_text("signed by Dana (facilitator)")
    note.get_by_label("Add an amendment").fill("Correction: the call was on Saturday.")
    note.get_by_role("button", name="Append the amendment").click()
    expect(note.locator(".amendments")).to_contain_text("Correction: the call was on Saturday.")
    check_both_widths(dana, "the notes page with a signed note", then=(1280, 900))
    dana.screenshot(path=str(screenshots / "progress-notes.png"), full_page=True)

    # The patient's record for the care team.
    dana.goto(f"{circle.base_url}/patients/alex/")
    expect(dana.get_by_role("heading", level=1)).to_have_text("Record: Alex")
    expect(dana.get_by_role("img", name="Progress and readiness over time (0 to 10)")).to_be_visible()
    expect(dana.locator(".chart-data")).to_contain_text("Importance")
    check_both_widths(dana, "the patient's record", then=(1280, 900))
    dana.screenshot(path=str(screenshots / "patient-record.png"), full_page=True)

    # Anyone outside the care team: 404, as for nobody at all.
    sam = open_page(360, 780)
    sign_in(sam, circle.base_url, "sam")
    assert sam.goto(f"{circle.base_url}/patients/alex/").status == 404
