# ruff: noqa: RUF001  (the point of this module: digits that look like ASCII ones)
"""Dates and times are spelled in ASCII digits only, and no date typed anywhere answers 500
(issue 22, class 1, as tests/test_security_numbers.py for whole numbers; docs/security.md).

`strptime`'s `%Y`, `%H`, `%M` and `%f` are `\\d`, and Django's DateTimeField tries its own `\\d` patterns
first, so Django's date fields took a full-width year or an Arabic-Indic hour as ASCII digits. And a date
near the calendar's ends (year 1, 9999) overflowed a day's step or a time zone's shift: a 500 from the
attendance export and the schedule form. Tried here: every date or time a form, a query string or a
command line takes (the schedule form, the series page's roster change, the attendance export and its
CSV, schedule_series --from and --time, series_roster --from, reschedule_session --starts-at), each with
each date below spelled in the digits of 14 other sets, wholly or in one digit only.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from io import StringIO
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone, translation
from hypothesis import given
from hypothesis import strategies as st

from accounts.models import Member
from config.numbers import YEARS, AsciiDateField, AsciiDateTimeField, ascii_iso, has_foreign_digits
from program.actions import do_schedule_series
from program.models import Series, SeriesMember, SessionChange
from program.rules import parse_wall_time
from rooms.dashboard_views import ScheduleForm
from rooms.models import GroupSession, Participant

# The ten digits of other sets, each in order from zero: scripts' own digits, full-width, mathematical,
# super- and subscripts, and circled numbers (these last two are numerals that are not `\d`).
DIGIT_SETS = {
    "arabic-indic": "٠١٢٣٤٥٦٧٨٩",
    "extended arabic-indic": "۰۱۲۳۴۵۶۷۸۹",
    "nko": "߀߁߂߃߄߅߆߇߈߉",
    "devanagari": "०१२३४५६७८९",
    "bengali": "০১২৩৪৫৬৭৮৯",
    "thai": "๐๑๒๓๔๕๖๗๘๙",
    "tibetan": "༠༡༢༣༤༥༦༧༨༩",
    "myanmar": "၀၁၂၃၄၅၆၇၈၉",
    "full-width": "０１２３４５６７８９",
    "mathematical bold": "𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗",
    "mathematical monospace": "𝟶𝟷𝟸𝟹𝟺𝟻𝟼𝟽𝟾𝟿",
    "superscript": "⁰¹²³⁴⁵⁶⁷⁸⁹",
    "subscript": "₀₁₂₃₄₅₆₇₈₉",
    "circled": "⓪①②③④⑤⑥⑦⑧⑨",
}


def foreign_spellings(text: str) -> list[tuple[str, str]]:
    """(id, text) for `text` with all its digits, then its last digit only, in each other set."""
    last = max(i for i, c in enumerate(text) if c.isdigit())
    spelled = []
    for name, digits in DIGIT_SETS.items():
        table = str.maketrans("0123456789", digits)
        spelled.append((f"{name}", text.translate(table)))
        spelled.append((f"{name}, one digit", text[:last] + text[last].translate(table) + text[last + 1 :]))
    return spelled


def cases(text: str) -> Any:
    return pytest.mark.parametrize("value", [v for _, v in foreign_spellings(text)],
                                   ids=[i for i, _ in foreign_spellings(text)])


FAR_DATES = ["0001-01-01", "0001-01-02", "1899-12-31", "3000-01-01", "9999-12-30", "9999-12-31"]
SOON = (timezone.now() + timedelta(days=30)).date().isoformat()  # a date every entry point takes


def test_every_digit_set_is_ten_numerals_and_none_is_ascii():
    for digits in DIGIT_SETS.values():
        assert len(digits) == 10 and all(c.isnumeric() and not c.isascii() for c in digits)
    assert len(foreign_spellings(SOON)) == 2 * len(DIGIT_SETS)


# ---------------------------------------------------------------- the helpers


@cases(SOON)
def test_the_date_field_refuses_other_digits(value):
    with pytest.raises(ValidationError):
        AsciiDateField().clean(value)


@cases(f"{SOON}T18:30")
def test_the_date_time_field_refuses_other_digits(value):
    with pytest.raises(ValidationError):
        AsciiDateTimeField().clean(value)


@cases("30/01/2030")
def test_the_date_field_refuses_other_digits_in_the_spanish_formats_too(value):
    with translation.override("es"):
        assert AsciiDateField().clean("30/01/2030") == date(2030, 1, 30)
        with pytest.raises(ValidationError):
            AsciiDateField().clean(value)


@pytest.mark.parametrize("value", FAR_DATES)
def test_the_temporal_fields_refuse_a_year_near_the_calendars_ends(value):
    with pytest.raises(ValidationError):
        AsciiDateField().clean(value)
    with pytest.raises(ValidationError):
        AsciiDateTimeField().clean(f"{value}T12:00")


def test_the_fields_and_the_command_line_parser_read_ascii_dates():
    assert AsciiDateField().clean(SOON) == date.fromisoformat(SOON)
    assert AsciiDateTimeField().clean("2030-01-30 18:30") == datetime(2030, 1, 30, 18, 30, tzinfo=UTC)
    assert ascii_iso(date.fromisoformat, "2999-12-31") == date(2999, 12, 31)
    assert ascii_iso(datetime.fromisoformat, "2030-01-30T18:30+01:00") is not None


@given(st.text())
def test_the_command_line_parser_never_raises_and_takes_only_ascii_digits(text):
    for parse in (date.fromisoformat, datetime.fromisoformat):
        parsed = ascii_iso(parse, text)
        assert parsed is None or (not has_foreign_digits(text) and parsed.year in YEARS)


@given(st.text())
def test_the_date_field_never_raises_anything_but_a_validation_error(text):
    for field in (AsciiDateField(required=False), AsciiDateTimeField(required=False)):
        try:
            parsed = field.clean(text)
        except ValidationError:
            continue
        assert parsed is None or (not has_foreign_digits(text) and parsed.year in YEARS)


# ---------------------------------------------------------------- the pages


def signed_in(member: Member) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(member)
    return client


def schedule_post(starts_at: str, utc_offset: str = "") -> dict[str, Any]:
    return {"title": "Evening", "kind": "group", "starts_at": starts_at, "duration": "60", "patients": ["alex"],
            "utc_offset": utc_offset}


@pytest.mark.django_db
@cases(f"{SOON}T18:30")
def test_the_schedule_form_refuses_a_start_of_other_digits(alex, value):
    form = ScheduleForm(data=schedule_post(value))
    assert not form.is_valid()
    assert "starts_at" in form.errors


@pytest.mark.django_db
@pytest.mark.parametrize(("starts_at", "utc_offset"), [
    ("0001-01-01T00:00", "-900"), ("0001-01-01T00:00", ""), ("9999-12-31T23:59", "900"), ("9999-12-31T23:59", ""),
    ("3000-01-01T00:00", "-900"), ("1899-12-31T23:59", "900"), (f"{SOON}T1٨:30", "0"), (f"２{SOON[1:]}T18:30", "60"),
])
def test_the_schedule_page_answers_400_to_a_start_it_cannot_take(dana, alex, starts_at, utc_offset):
    response = signed_in(dana).post("/sessions/new/", schedule_post(starts_at, utc_offset))
    assert response.status_code == 400
    assert not GroupSession.objects.exists()


@pytest.fixture
def series(dana: Member, alex: Member) -> Series:
    found, _sessions = do_schedule_series(
        title="Evening IOP", facilitator="dana", co_facilitators=[], patients=["alex"], weekdays=[0, 3],
        at=parse_wall_time("18:00"), first_date=timezone.now().date() + timedelta(days=1), weeks=4,
    )
    return found


def seats() -> list[tuple[int, int]]:
    return sorted(Participant.objects.values_list("session_id", "member_id"))


@pytest.mark.django_db
@cases(SOON)
def test_the_series_page_refuses_a_roster_change_from_a_date_of_other_digits(series, dana, value):
    Member.objects.create_user("jo", password="a-long-pass-1", role="patient", display_name="Jo")
    before = (seats(), list(SeriesMember.objects.values_list("pk", flat=True)))
    response = signed_in(dana).post(f"/series/{series.pk}/", {"op": "add", "username": "jo", "from_date": value})
    assert response.status_code == 400
    assert (seats(), list(SeriesMember.objects.values_list("pk", flat=True))) == before


@pytest.mark.django_db
@pytest.mark.parametrize("value", FAR_DATES)
def test_the_series_page_refuses_a_date_near_the_calendars_ends(series, dana, value):
    Member.objects.create_user("jo", password="a-long-pass-1", role="patient", display_name="Jo")
    response = signed_in(dana).post(f"/series/{series.pk}/", {"op": "add", "username": "jo", "from_date": value})
    assert response.status_code == 400
    assert not SeriesMember.objects.filter(member__username="jo").exists()


def export(client: Client, **query: str) -> Any:
    return client.get("/attendance/?" + urlencode(query))


@pytest.mark.django_db
@pytest.mark.parametrize("file_format", ["csv", ""])
@pytest.mark.parametrize("end", ["from", "to"])
@cases(SOON)
def test_the_attendance_export_answers_400_to_a_date_of_other_digits(dana, value, end, file_format):
    query = {"from": SOON, "to": SOON, "format": file_format, end: value}
    response = export(signed_in(dana), **query)
    assert response.status_code == 400
    assert "Content-Disposition" not in response


@pytest.mark.django_db
@pytest.mark.parametrize("file_format", ["csv", ""])
@pytest.mark.parametrize(("first", "last"), [
    ("0001-01-01", "0001-01-02"), ("9999-12-30", "9999-12-31"), ("0001-01-01", "9999-12-31"), ("1899-12-31", SOON),
])
def test_the_attendance_export_answers_400_near_the_calendars_ends(dana, first, last, file_format):
    response = export(signed_in(dana), **{"from": first, "to": last, "format": file_format})
    assert response.status_code == 400
    assert "Content-Disposition" not in response


@pytest.mark.django_db
def test_the_attendance_export_still_takes_ascii_dates(dana):
    response = export(signed_in(dana), **{"from": "1900-01-01", "to": "2999-12-31", "format": "csv"})
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]


# ---------------------------------------------------------------- the command line


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def schedule_series(**change: str) -> str:
    args = {"--title": "Evening IOP", "--facilitator": "dana", "--patients": "alex", "--days": "mon,thu",
            "--time": "18:00", "--from": SOON, "--weeks": "2", **change}
    return run("schedule_series", *[part for pair in args.items() for part in pair])


@pytest.mark.django_db
@pytest.mark.parametrize("value", [v for _, v in foreign_spellings(SOON)] + FAR_DATES)
def test_schedule_series_refuses_a_first_date_of_other_digits(dana, alex, value):
    with pytest.raises(CommandError, match="YYYY-MM-DD in ASCII digits"):
        schedule_series(**{"--from": value})
    assert not Series.objects.exists() and not GroupSession.objects.exists()


@pytest.mark.django_db
@cases("18:30")
def test_schedule_series_refuses_a_time_of_other_digits(dana, alex, value):
    with pytest.raises(CommandError, match="HH:MM"):
        schedule_series(**{"--time": value})
    assert not Series.objects.exists() and not GroupSession.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("value", [v for _, v in foreign_spellings(SOON)] + FAR_DATES)
def test_series_roster_refuses_a_date_of_other_digits(series, value):
    Member.objects.create_user("jo", password="a-long-pass-1", role="patient", display_name="Jo")
    before = seats()
    with pytest.raises(CommandError, match="YYYY-MM-DD in ASCII digits"):
        run("series_roster", str(series.pk), "--add", "jo", "--from", value)
    assert seats() == before


@pytest.mark.django_db
@pytest.mark.parametrize("value", [v for _, v in foreign_spellings(f"{SOON}T19:30+01:00")]
                         + [f"{d}T12:00" for d in FAR_DATES] + ["0001-01-01T00:00+14:00", "9999-12-31T23:59-12:00"])
def test_reschedule_session_refuses_a_start_of_other_digits(series, value):
    session = GroupSession.objects.order_by("starts_at").first()
    assert session is not None
    with pytest.raises(CommandError, match="ISO 8601 in ASCII digits"):
        run("reschedule_session", str(session.pk), "--starts-at", value)
    assert GroupSession.objects.get(pk=session.pk).starts_at == session.starts_at
    assert not SessionChange.objects.exists()
