"""The program's series (issue 24): dates across daylight-saving changes, the commands, roster changes
from a date, co-facilitators, cancel and reschedule. Bad input exits non-zero and creates nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from accounts.models import Member
from program.models import Series, SeriesMember, SessionChange
from program.rules import ScheduleError, local_start, parse_wall_time, parse_weekdays, series_starts
from rooms.models import AuditEntry, GroupSession, Participant, Status

NEW_YORK = ZoneInfo("America/New_York")


# ---------------------------------------------------------------- pure rules


def test_weekdays_parse_in_week_order_and_refuse_unknown_days() -> None:
    assert parse_weekdays("thu,mon,tue") == [0, 1, 3]
    for bad in ("mon,funday", "", "mon,mon", "monday"):
        with pytest.raises(ScheduleError):
            parse_weekdays(bad)


@pytest.mark.parametrize("bad", ["25:00", "18:60", "6pm", "18:0", "1800", ""])
def test_wall_times_are_hh_mm(bad: str) -> None:
    assert parse_wall_time("18:00") == time(18, 0)
    with pytest.raises(ScheduleError):
        parse_wall_time(bad)


def test_a_series_across_the_autumn_change_keeps_18_00_local() -> None:
    # 2027-11-07 the clocks go back in New York: 18:00 is 22:00 UTC before, 23:00 UTC after.
    starts = series_starts(date(2027, 10, 25), [0, 1, 3], time(18, 0), 4, NEW_YORK)
    assert len(starts) == 12
    assert all(s.astimezone(NEW_YORK).time() == time(18, 0) for s in starts)
    offsets = {s.astimezone(UTC).hour for s in starts}
    assert offsets == {22, 23}
    assert [s.astimezone(NEW_YORK).strftime("%a") for s in starts[:3]] == ["Mon", "Tue", "Thu"]


@given(
    first=st.dates(min_value=date(2026, 1, 1), max_value=date(2030, 12, 31)),
    days=st.sets(st.integers(0, 6), min_size=1),
    weeks=st.integers(1, 52),
    zone=st.sampled_from(["America/New_York", "Europe/Madrid", "America/Mexico_City", "Australia/Sydney", "UTC"]),
)
def test_every_start_is_the_wall_clock_time_on_the_days_asked(
    first: date, days: set[int], weeks: int, zone: str
) -> None:
    # 18:00 exists every day in these zones (their clocks change at night).
    starts = series_starts(first, sorted(days), time(18, 0), weeks, ZoneInfo(zone))
    assert len(starts) == weeks * len(days)
    assert starts == sorted(starts)
    for start in starts:
        local = start.astimezone(ZoneInfo(zone))
        assert local.time() == time(18, 0) and local.weekday() in days
        assert first <= local.date() < first + timedelta(weeks=weeks)


def test_a_time_the_clocks_skip_is_refused_and_a_doubled_one_is_the_first() -> None:
    with pytest.raises(ScheduleError, match="does not exist"):
        local_start(date(2027, 3, 14), time(2, 30), NEW_YORK)
    doubled = local_start(date(2027, 11, 7), time(1, 30), NEW_YORK)
    assert doubled.astimezone(UTC).hour == 5  # 01:30 EDT, the first of the two


# ---------------------------------------------------------------- commands


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def clinic(db: None, settings) -> None:
    settings.TIME_ZONE = "America/New_York"
    for name, role in (("dana", "facilitator"), ("casey", "facilitator"), ("alex", "patient"), ("sam", "patient"),
                       ("jo", "patient")):
        Member.objects.create_user(name, password="a-long-pass-1", role=role, display_name=name.title())


def counts() -> tuple[int, ...]:
    return tuple(m.objects.count() for m in (Series, GroupSession, Participant, SeriesMember))


def schedule(*extra: str) -> list[str]:
    return run(
        "schedule_series", "--title", "Evening IOP", "--facilitator", "dana", "--co-facilitators", "casey",
        "--patients", "alex,sam", "--days", "mon,tue,thu", "--time", "18:00", "--from", "2027-10-25",
        "--weeks", "4", *extra,
    ).strip().splitlines()


def test_schedule_series_prints_each_session_then_the_series(clinic: None) -> None:
    lines = schedule()
    assert len(lines) == 13
    series = Series.objects.get(pk=int(lines[-1]))
    sessions = GroupSession.objects.filter(series_link__series=series).order_by("starts_at")
    assert [f"{s.pk} {s.starts_at.astimezone(NEW_YORK).isoformat()}" for s in sessions] == lines[:12]
    assert {s.starts_at.astimezone(NEW_YORK).time() for s in sessions} == {time(18, 0)}
    offsets = {s.starts_at.astimezone(NEW_YORK).utcoffset() for s in sessions}
    assert offsets == {timedelta(hours=-4), timedelta(hours=-5)}  # one week after the clocks go back
    for session in sessions:
        roles = list(session.participants.values_list("member__username", "role"))
        # The co-facilitator has a facilitator seat in every session: the whole console.
        assert roles == [("dana", "facilitator"), ("casey", "facilitator"), ("alex", "patient"), ("sam", "patient")]
        assert session.duration_minutes == 60


def test_schedule_session_takes_co_facilitators(clinic: None) -> None:
    out = run("schedule_session", "--title", "Group", "--facilitator", "dana", "--co-facilitators", "casey",
              "--patients", "alex")
    session = GroupSession.objects.get(pk=int(out.strip().splitlines()[-1]))
    assert list(session.participants.filter(role="facilitator").values_list("member__username", flat=True)) == [
        "dana", "casey"]
    with pytest.raises(CommandError, match="not a facilitator"):
        run("schedule_session", "--title", "Group", "--facilitator", "dana", "--co-facilitators", "sam",
            "--patients", "alex")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("--days", "mon,funday"), "unknown day"),
        (("--time", "25:00"), "HH:MM"),
        (("--days", "sun", "--time", "02:30", "--from", "2027-03-08"), "does not exist"),
        (("--patients", "alex,casey"), "not a patient"),
        (("--co-facilitators", "sam"), "not a facilitator"),
        (("--weeks", "0"), "1 to 52"),
        (("--weeks", "53"), "1 to 52"),
        (("--duration", "10"), "15 to 240"),
        (("--from", "2027-02-30"), "YYYY-MM-DD"),
    ],
)
def test_bad_series_input_exits_with_one_line_and_creates_nothing(
    clinic: None, change: tuple[str, ...], message: str
) -> None:
    before = counts()
    args = {"--title": "Evening IOP", "--facilitator": "dana", "--co-facilitators": "casey", "--patients": "alex,sam",
            "--days": "mon,tue,thu", "--time": "18:00", "--from": "2027-10-25", "--weeks": "4"}
    for name, value in zip(change[::2], change[1::2], strict=True):
        args[name] = value
    with pytest.raises(CommandError, match=message) as failure:
        run("schedule_series", *[part for pair in args.items() for part in pair])
    assert "\n" not in str(failure.value)
    assert counts() == before


def test_the_command_line_exits_non_zero_with_one_line_on_stderr(clinic: None) -> None:
    with pytest.raises(CommandError):
        call_command("schedule_series", "--title", "T", "--facilitator", "dana", "--patients", "alex", "--days",
                     "mon", "--time", "18:00", "--weeks", "0", stdout=StringIO(), stderr=StringIO())


def test_a_patient_added_from_week_two_is_on_exactly_the_last_nine(clinic: None) -> None:
    series_id = int(schedule()[-1])
    run("series_roster", str(series_id), "--add", "jo", "--from", "2027-11-01")
    sessions = GroupSession.objects.filter(series_link__series_id=series_id).order_by("starts_at")
    with_jo = [
        s.starts_at.astimezone(NEW_YORK).date() for s in sessions if s.participants.filter(member__username="jo")
    ]
    assert len(with_jo) == 9 and min(with_jo) == date(2027, 11, 1)
    assert SeriesMember.objects.filter(series_id=series_id, member__username="jo").exists()
    assert AuditEntry.objects.filter(action="roster.add").count() == 9

    run("series_roster", str(series_id), "--remove", "alex", "--from", "2027-11-15")
    with_alex = [s for s in sessions if s.participants.filter(member__username="alex")]
    assert len(with_alex) == 9
    with pytest.raises(CommandError, match="already on"):
        run("series_roster", str(series_id), "--add", "jo")
    with pytest.raises(CommandError, match="not a patient"):
        run("series_roster", str(series_id), "--add", "casey")


def test_past_sessions_never_change_their_roster(clinic: None) -> None:
    series_id = int(schedule()[-1])
    first = GroupSession.objects.filter(series_link__series_id=series_id).order_by("starts_at").first()
    assert first is not None
    GroupSession.objects.filter(pk=first.pk).update(starts_at=timezone.now() - timedelta(days=1), status=Status.ENDED)
    run("series_roster", str(series_id), "--remove", "alex", "--from", "2020-01-01")
    assert first.participants.filter(member__username="alex").exists()
    still = GroupSession.objects.filter(series_link__series_id=series_id, participants__member__username="alex")
    assert still.count() == 1


def test_cancel_and_reschedule_a_coming_session(clinic: None) -> None:
    series_id = int(schedule()[-1])
    first, second = GroupSession.objects.filter(series_link__series_id=series_id).order_by("starts_at")[:2]
    run("cancel_session", str(first.pk), "--reason", "The clinic is closed")
    first.refresh_from_db()
    assert first.status == Status.CANCELLED
    assert AuditEntry.objects.get(action="session.cancel", session=first).reason == "The clinic is closed"
    with pytest.raises(CommandError, match="not started"):
        run("cancel_session", str(first.pk))
    with pytest.raises(CommandError, match="no session"):
        run("cancel_session", "999999")

    run("reschedule_session", str(second.pk), "--starts-at", "2027-10-26T19:30")
    second.refresh_from_db()
    assert second.starts_at == datetime(2027, 10, 26, 19, 30, tzinfo=NEW_YORK)
    assert SessionChange.objects.filter(session=second, kind="moved").count() == 1
    assert AuditEntry.objects.filter(action="session.reschedule", session=second).exists()
    GroupSession.objects.filter(pk=second.pk).update(status=Status.LIVE)
    with pytest.raises(CommandError, match="not started"):
        run("reschedule_session", str(second.pk), "--starts-at", "2027-10-27T19:30")
    with pytest.raises(CommandError, match="ISO 8601"):
        run("reschedule_session", str(second.pk), "--starts-at", "tomorrow")


def test_create_member_takes_an_email_and_refuses_a_bad_one(db: None) -> None:
    run("create_member", "alex", "--role", "patient", "--display-name", "Alex", "--password", "a-long-pass-1",
        "--email", "alex@example.org")
    member = Member.objects.get(username="alex")
    assert member.email == "alex@example.org" and member.reminders
    with pytest.raises(CommandError, match="not an email address"):
        run("create_member", "sam", "--role", "patient", "--display-name", "Sam", "--password", "a-long-pass-1",
            "--email", "sam at home")
    assert not Member.objects.filter(username="sam").exists()
