"""The dashboards: a facilitator schedules a session with its roster and plans its agenda;
a patient sees it, and declines a family invitation made for them."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests import e2e
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def test_schedule_plan_and_decline(circle, open_page):
    dana, alex = open_page(1280, 900), open_page(360, 780)
    sign_in(dana, circle.base_url, "dana")
    form = dana.locator("#schedule-form")

    # A refused form says what is missing, and schedules nothing.
    form.get_by_role("button", name="Schedule").click()
    expect(form.locator(".field-error")).to_have_count(2)
    expect(form).to_contain_text("This field is required.")

    form.get_by_label("Title").fill("Saturday morning group")
    expect(form.get_by_label("Starts")).not_to_have_value("")  # dashboard.js fills the next quarter hour
    form.get_by_label("Length (minutes)").fill("45")
    form.get_by_label("Alex").check()
    form.get_by_label("Jordan").check()
    form.get_by_label("Family members may be invited").check()
    form.get_by_role("button", name="Schedule").click()
    expect(dana.locator(".flash")).to_contain_text("“Saturday morning group” is scheduled.")
    row = dana.locator(".session", has_text="Saturday morning group")
    expect(row).to_contain_text("45 min · Group · 2 patients · family welcome")

    # The agenda editor: add two prompts, reorder, remove one.
    row.get_by_role("link", name="Agenda").click()
    expect(dana.get_by_role("heading", level=1)).to_have_text("Agenda: Saturday morning group")
    dana.locator("#agenda-category").select_option("goals")
    first = dana.locator("#agenda-prompt option:checked").inner_text()
    dana.get_by_role("button", name="Add to the agenda").click()
    dana.get_by_label("Prompt", exact=True).last.fill("What would make this weekend a good one for you?")
    dana.get_by_role("button", name="Add my prompt").click()
    items = dana.locator(".agenda-item .agenda-text")
    expect(items).to_have_text([first, "What would make this weekend a good one for you?"])
    dana.locator(".agenda-item").nth(1).get_by_role("button", name="Move up").click()
    expect(items).to_have_text(["What would make this weekend a good one for you?", first])
    dana.locator(".agenda-item").nth(1).get_by_role("button", name="Remove").click()
    expect(items).to_have_text(["What would make this weekend a good one for you?"])

    # Alex sees the new session and an invitation for a family member, and declines it.
    session_id = int(dana.url.rstrip("/").split("/")[-2])
    e2e.invite_guest(circle.env, session_id, for_patient="alex", name="Casey")
    sign_in(alex, circle.base_url, "alex")
    upcoming = alex.get_by_role("region", name="Upcoming")
    expect(upcoming.locator(".session", has_text="Saturday morning group")).to_contain_text("45 min")
    invitation = alex.locator(".session", has_text="Casey")
    expect(invitation).to_contain_text("not used yet")
    invitation.get_by_role("button", name="Decline the invitation for Casey").click()
    expect(alex.locator(".flash")).to_contain_text("You declined the invitation for Casey.")
    expect(alex.locator(".session", has_text="Casey")).to_have_count(0)
