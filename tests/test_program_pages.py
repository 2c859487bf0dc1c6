"""The program's pages (issue 24): attendance statuses with an excuse, the export, the series page and its
chart, cancelling from a page, the patient's two weeks on the dashboard, settings and the calendar feed."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone
from icalendar import Calendar

from accounts.models import Member
from facilitator.models import Attendance
from program.actions import do_schedule_series
from program.rules import parse_wall_time
from rooms.actions.lifecycle import do_schedule_session
from rooms.models import AuditEntry, GroupSession, Participant, Status
from tests.conftest import make_member

pytestmark = pytest.mark.django_db


def signed_in(member: Member) -> Client:
    client = Client()
    client.force_login(member)
    return client


def held(session: GroupSession, started: datetime, minutes: int = 60) -> None:
    GroupSession.objects.filter(pk=session.pk).update(
        status=Status.ENDED, started_at=started, ended_at=started + timedelta(minutes=minutes)
    )


def span(session: GroupSession, member: Member, start: datetime, end: datetime) -> None:
    seat = Participant.objects.get(session=session, member=member)
    Attendance.objects.create(session=session, participant=seat, joined_at=start, left_at=end)


@pytest.fixture
def evening(dana: Member, alex: Member, sam: Member, jordan: Member) -> GroupSession:
    """Held an hour from 18:00 UTC on 2026-11-30: Alex 15 minutes late, Sam never came, Jordan all along."""
    start = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)
    session = do_schedule_session(
        title="Evening", facilitator="dana", patients=["alex", "sam", "jordan"], starts_at=start
    )
    held(session, start)
    span(session, alex, start + timedelta(minutes=15), start + timedelta(minutes=60))
    span(session, jordan, start - timedelta(minutes=2), start + timedelta(minutes=60))
    return session


def test_late_absent_then_excused_and_audited(evening: GroupSession, dana: Member, sam: Member) -> None:
    client = signed_in(dana)
    page = client.get(f"/sessions/{evening.pk}/attendance/").content.decode()
    assert 'status-late">Late' in page and 'status-absent">Absent' in page and 'status-present">Present' in page
    sam_seat = Participant.objects.get(session=evening, member=sam)
    bad = client.post(f"/sessions/{evening.pk}/attendance/", {"participant_id": sam_seat.pk, "status": "excused"})
    assert bad.status_code == 400 and "Give a reason" in bad.content.decode()
    done = client.post(
        f"/sessions/{evening.pk}/attendance/",
        {"participant_id": sam_seat.pk, "status": "excused", "reason": "Called ahead: a sick child"},
    )
    assert done.status_code == 302
    page = client.get(f"/sessions/{evening.pk}/attendance/").content.decode()
    assert 'status-excused">Excused' in page and 'status-absent' not in page
    entry = AuditEntry.objects.get(action="attendance.correct")
    assert entry.reason == "Called ahead: a sick child" and entry.detail["status"] == "excused"
    audit = client.get(f"/sessions/{evening.pk}/audit/").content.decode()
    assert "attendance.correct" in audit and "Called ahead: a sick child" in audit


def test_only_the_sessions_facilitators_correct(evening: GroupSession, alex: Member, sam: Member) -> None:
    seat = Participant.objects.get(session=evening, member=sam)
    answer = signed_in(alex).post(
        f"/sessions/{evening.pk}/attendance/", {"participant_id": seat.pk, "status": "present", "reason": "x"}
    )
    assert answer.status_code in {403, 404}
    assert not AuditEntry.objects.filter(action="attendance.correct").exists()


def test_the_export_has_one_row_per_roster_seat(evening: GroupSession, dana: Member, settings) -> None:
    settings.SERVICE_CODES = {"group": "90853", "individual": "90834", "family": "90847"}
    answer = signed_in(dana).get("/attendance/", {"from": "2026-11-30", "to": "2026-11-30", "format": "csv"})
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/csv")
    assert "no-store" in answer["Cache-Control"]
    rows = list(csv.DictReader(io.StringIO(answer.content.decode())))
    assert len(rows) == 3
    by_patient = {r["patient"]: r for r in rows}
    assert by_patient["alex"]["status"] == "late" and by_patient["alex"]["attended_minutes"] == "45"
    assert by_patient["sam"]["status"] == "absent" and by_patient["sam"]["attended_minutes"] == "0"
    assert by_patient["jordan"]["status"] == "present" and by_patient["jordan"]["attended_minutes"] == "60"
    assert {r["kind"] for r in rows} == {"group"} and {r["service_code"] for r in rows} == {"90853"}
    assert {r["scheduled_minutes"] for r in rows} == {"60"} and {r["date"] for r in rows} == {"2026-11-30"}
    assert '"patient","display_name","session_id"' in answer.content.decode()  # every cell quoted
    outside = signed_in(dana).get("/attendance/", {"from": "2026-12-01", "to": "2026-12-31", "format": "csv"})
    assert len(list(csv.DictReader(io.StringIO(outside.content.decode())))) == 0


def test_the_export_is_for_facilitators_of_their_own_sessions(evening: GroupSession, alex: Member) -> None:
    assert signed_in(alex).get("/attendance/", {"from": "2026-11-30", "to": "2026-11-30"}).status_code == 404
    other = make_member("lee", "facilitator", "Lee")
    answer = signed_in(other).get("/attendance/", {"from": "2026-11-30", "to": "2026-11-30", "format": "csv"})
    assert answer.content.decode().count("\n") == 1  # the header only
    bad = signed_in(other).get("/attendance/", {"from": "2026-12-30", "to": "2026-11-30"})
    assert bad.status_code == 400


@pytest.fixture
def series(dana: Member, alex: Member, sam: Member, settings):
    settings.TIME_ZONE = "America/New_York"
    make_member("casey", "facilitator", "Casey")
    first = (timezone.now() - timedelta(days=7)).date()
    found, sessions = do_schedule_series(
        title="Evening IOP", facilitator="dana", co_facilitators=["casey"], patients=["alex", "sam"],
        weekdays=[0, 1, 2, 3], at=parse_wall_time("18:00"), first_date=first, weeks=3,
    )
    past = [s for s in sessions if s.starts_at < timezone.now()]
    for session in past:
        held(session, session.starts_at)
        span(session, alex, session.starts_at, session.ends_at)
    return found


def test_the_series_page_for_its_facilitators(series, dana: Member, alex: Member) -> None:
    casey = Member.objects.get(username="casey")
    for member in (dana, casey):
        page = signed_in(member).get(f"/series/{series.pk}/")
        assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    text = page.content.decode()
    assert "Coming sessions" in text and "Past sessions" in text and "Standing roster" in text
    svg = re.search(r"<svg.*?</svg>", text, flags=re.S)
    assert svg is not None and 'role="img"' in svg.group() and "<title>" in svg.group()
    assert "<script" not in svg.group() and "style=" not in svg.group()
    assert re.search(r"W\d\d: \d+ of \d+ sessions? attended", text)  # the text alternative
    assert signed_in(alex).get(f"/series/{series.pk}/").status_code == 404
    assert signed_in(make_member("lee", "facilitator", "Lee")).get(f"/series/{series.pk}/").status_code == 404
    assert Client().get(f"/series/{series.pk}/").status_code == 302


def test_a_roster_change_from_the_page(series, dana: Member) -> None:
    make_member("jo", "patient", "Jo")
    tomorrow = (timezone.now() + timedelta(days=1)).date().isoformat()
    answer = signed_in(dana).post(f"/series/{series.pk}/", {"op": "add", "username": "jo", "from_date": tomorrow})
    assert answer.status_code == 302
    sessions = GroupSession.objects.filter(series_link__series=series)
    with_jo = sessions.filter(participants__member__username="jo")
    assert with_jo.exists() and all(s.starts_at.date() >= datetime.fromisoformat(tomorrow).date() - timedelta(days=1)
                                    for s in with_jo)
    assert not sessions.filter(participants__member__username="jo", starts_at__lt=timezone.now()).exists()
    again = signed_in(dana).post(f"/series/{series.pk}/", {"op": "add", "username": "jo", "from_date": tomorrow})
    assert again.status_code == 400 and "already on" in again.content.decode()


def test_cancel_from_the_page(group: GroupSession, dana: Member, alex: Member) -> None:
    assert signed_in(alex).post(f"/sessions/{group.pk}/cancel/", {"reason": "x"}).status_code == 404
    page = signed_in(dana).get(f"/sessions/{group.pk}/cancel/")
    assert page.status_code == 200 and "Cancel this session" in page.content.decode()
    assert signed_in(dana).post(f"/sessions/{group.pk}/cancel/", {"reason": "Snow"}).status_code == 302
    group.refresh_from_db()
    assert group.status == Status.CANCELLED
    again = signed_in(dana).post(f"/sessions/{group.pk}/cancel/", {"reason": "Snow"})
    assert again.status_code == 400


def test_dashboards_show_a_cancelled_session_as_cancelled(group: GroupSession, dana: Member, alex: Member) -> None:
    GroupSession.objects.filter(pk=group.pk).update(starts_at=timezone.now() + timedelta(hours=2))
    signed_in(dana).post(f"/sessions/{group.pk}/cancel/", {"reason": "Snow"})
    for member in (dana, alex):
        page = signed_in(member).get("/").content.decode()
        assert 'badge cancelled">cancelled' in page and group.title in page


def test_the_patients_two_weeks(series, alex: Member) -> None:
    page = signed_in(alex).get("/").content.decode()
    assert "Your two weeks" in page
    found = re.search(r"This week: (\d+) of (\d+) attended", page)
    assert found is not None
    attended, scheduled = int(found[1]), int(found[2])
    assert 1 <= scheduled <= 4 and attended <= scheduled


def test_settings_and_the_calendar_feed(series, alex: Member) -> None:
    client = signed_in(alex)
    assert client.post("/settings/", {"op": "contact", "email": "not an address"}).status_code == 400
    assert client.post("/settings/", {"op": "contact", "email": "alex@example.org"}).status_code == 302
    alex.refresh_from_db()
    assert alex.email == "alex@example.org" and not alex.reminders  # the box was left unticked
    first = client.post("/settings/", {"op": "calendar_on"})
    url = re.search(r'value="(https?://[^"]+\.ics)"', first.content.decode())
    assert url is not None and "no-store" in first["Cache-Control"]
    path = url[1].split("://", 1)[1].split("/", 1)[1]
    feed = Client().get("/" + path)
    assert feed.status_code == 200 and feed["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(feed.content)
    events = list(calendar.walk("VEVENT"))
    assert events and {str(e["SUMMARY"]) for e in events} == {"Circle session"}
    assert "Evening IOP" not in feed.content.decode() and "Sam" not in feed.content.decode()
    session = GroupSession.objects.filter(series_link__series=series, status=Status.SCHEDULED).first()
    assert session is not None
    signed_in(Member.objects.get(username="dana")).post(f"/sessions/{session.pk}/cancel/", {"reason": "Snow"})
    events = list(Calendar.from_ical(Client().get("/" + path).content).walk("VEVENT"))
    cancelled = [e for e in events if str(e["UID"]) == f"session-{session.pk}@circle"]
    assert [str(e["STATUS"]) for e in cancelled] == ["CANCELLED"]
    client.post("/settings/", {"op": "calendar_on"})
    assert Client().get("/" + path).status_code == 404
    assert Client().get("/calendar/nothing-like-a-token.ics").status_code == 404
    alex.refresh_from_db()
    assert alex.calendar_token_hash and path.split("/")[-1].removesuffix(".ics") not in alex.calendar_token_hash


def test_demo_seeds_one_running_series_with_a_week_of_history() -> None:
    from io import StringIO

    from django.core.management import call_command

    from facilitator.models import SeatStatusCorrection
    from program.models import Series

    for _ in range(2):  # idempotent
        call_command("demo", stdout=StringIO(), stderr=StringIO())
    series = Series.objects.get()
    sessions = GroupSession.objects.filter(series_link__series=series)
    assert series.weekdays == "0,1,2,3"
    assert sessions.filter(status=Status.CANCELLED).count() == 1
    assert sessions.filter(status=Status.ENDED).count() >= 2
    assert sessions.filter(status=Status.SCHEDULED, starts_at__gt=timezone.now()).exists()
    assert list(SeatStatusCorrection.objects.values_list("status", flat=True)) == ["excused"]
    assert Attendance.objects.filter(session__in=sessions).exists()
    page = signed_in(Member.objects.get(username="dana")).get(f"/series/{series.pk}/").content.decode()
    assert "cancelled" in page and "<svg" in page


def test_a_calendar_address_never_reaches_a_log_whole() -> None:
    import secrets

    from config.security import redact

    token = secrets.token_urlsafe(24)
    line = f'127.0.0.1:5000 - - [07/Dec/2026:03:00:00] "GET /calendar/{token}.ics" 200 812'
    assert token not in redact(line) and "/calendar/" in redact(line)
