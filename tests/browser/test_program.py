"""The program in a browser (issue 24): the series page with its weekly chart, a session's attendance with
statuses and the correction form, the cancel page, the attendance export, the settings page with a calendar
address, and the patient's two weeks on the dashboard, each checked with axe-core at 1280 and 360 px.
The demo seeds the series (a week of history, an excused absence, a cancelled evening)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests import e2e
from tests.browser.conftest import sign_in
from tests.browser.helpers import check_both_widths

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

def test_the_program_pages(own_circle, open_page, screenshots):
    seeded = e2e.manage(own_circle.env, "demo").stdout
    found = re.search(r"Demo series (\d+)", seeded)
    assert found is not None, seeded
    series_id = int(found[1])
    base = own_circle.base_url

    dana = open_page(1280, 900)
    sign_in(dana, base, "dana")
    expect(dana.get_by_role("heading", name="Your series")).to_be_visible()
    dana.locator(f"a[href=\"/series/{series_id}/\"]").click()
    expect(dana.get_by_role("heading", level=1)).to_have_text("Evening intensive outpatient group")
    expect(dana.get_by_role("img", name="Sessions attended per week, against sessions scheduled").first).to_be_visible()
    expect(dana.locator(".badge.cancelled")).to_have_count(1)
    check_both_widths(dana, "the series page", then=(1280, 900))
    dana.screenshot(path=str(screenshots / "series.png"), full_page=True)

    # A held evening: statuses, and the excuse already made by the demo.
    dana.locator("a", has_text="Attendance").first.click()
    expect(dana.get_by_role("heading", name="Excuse or correct a status")).to_be_visible()
    expect(dana.locator("table.attendance")).to_contain_text("Excused")
    check_both_widths(dana, "the attendance page with statuses", then=(1280, 900))

    # The cancel page of a coming session, then the export and the settings.
    dana.goto(f"{base}/series/{series_id}/")
    dana.get_by_role("link", name="Cancel").first.click()
    expect(dana.get_by_role("heading", name="Cancel a session")).to_be_visible()
    check_both_widths(dana, "the cancel page", then=(1280, 900))
    dana.goto(f"{base}/attendance/?from=2020-01-01&to=2100-01-01&format=html")
    expect(dana.locator("table.attendance tbody tr").first).to_be_visible()
    check_both_widths(dana, "the attendance export", then=(1280, 900))

    alex = open_page(360, 780)
    sign_in(alex, base, "alex")
    expect(alex.get_by_role("heading", name="Your two weeks")).to_be_visible()
    expect(alex.locator(".week-count")).to_contain_text(re.compile(r"This week: \d+ of \d+ attended"))
    check_both_widths(alex, "the patient's dashboard with their two weeks", then=(1280, 900))
    alex.get_by_role("link", name="Reminders and calendar feed").click()
    alex.get_by_label("Email address").fill("alex@example.org")
    alex.get_by_role("button", name="Save", exact=True).click()
    alex.get_by_role("button", name="Turn the feed on").click()
    address = alex.get_by_label("Calendar address").input_value()
    assert re.fullmatch(r"https?://\S+/calendar/[A-Za-z0-9_-]{32}\.ics", address)
    check_both_widths(alex, "the settings page with a calendar address", then=(1280, 900))

    # The demo's cancelled evening, opened from a bookmark: the socket is refused (4410) before any
    # session.state, and the page still says the session was cancelled, not that it ended.
    cancelled = e2e.manage(
        own_circle.env, "shell", "-c",
        "from rooms.models import GroupSession, Status;"
        f"print(GroupSession.objects.get(series_link__series_id={series_id}, status=Status.CANCELLED).pk)",
    ).stdout.split()[-1]
    alex.goto(f"{base}/sessions/{cancelled}/")
    expect(alex.get_by_role("heading", name="This session was cancelled")).to_be_visible()
