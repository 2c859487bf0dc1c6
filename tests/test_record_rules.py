"""The record's pure rules: a note format's fields, a note's prefill from one patient's figures, the chart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from record.models import NoteFormat
from record.rules import (
    CHART_HEIGHT,
    CHART_MARGIN,
    CHART_WIDTH,
    PREFILL_FIELD,
    ChartPoint,
    ChartSeries,
    GroupFigures,
    PatientFigures,
    ReviewFigure,
    group_prefill_text,
    note_fields,
    plot,
    prefill_text,
)

MONDAY = datetime(2026, 12, 7, 18, 0, tzinfo=UTC)


def figures(**changes: object) -> PatientFigures:
    base = {
        "scheduled_minutes": 60,
        "actual_minutes": 58,
        "attended_minutes": 44,
        "status": "Late",
        "messages": 7,
        "floor_seconds": 150,
        "topics": ("What helped this week?",),
        "reviews": (ReviewFigure("Walk every morning", 6, 8, None),),
        "readiness": (8, None),
    }
    return PatientFigures(**{**base, **changes})  # type: ignore[arg-type]


def test_each_format_has_its_fields_and_the_prefill_goes_where_observations_belong():
    assert note_fields(NoteFormat.DAP) == ("data", "assessment", "plan")
    assert note_fields(NoteFormat.SOAP) == ("subjective", "objective", "assessment", "plan")
    assert note_fields(NoteFormat.FREE) == ("text",)
    assert all(PREFILL_FIELD[f] in note_fields(f) for f in NoteFormat)


def test_a_prefill_says_what_the_room_saw_of_the_patient():
    text = prefill_text(figures())
    assert text.splitlines() == [
        "Scheduled length: 60 min.",
        "Actual length: 58 min.",
        "Attended: 44 min (Late).",
        "Messages to the room: 7.",
        "Floor time: 2 min 30 s.",
        "Topics posted: What helped this week?",
        "Goal reviewed: \u201cWalk every morning\u201d, progress 6/10.",
        "Readiness ruler: importance 8/10, confidence -/10.",
    ]


def test_a_session_not_run_and_no_ruler_say_so_and_leave_the_lines_out():
    text = prefill_text(figures(actual_minutes=None, topics=(), reviews=(), readiness=(None, None)))
    assert "Actual length: not run." in text
    assert "Topics" not in text and "Goal reviewed" not in text and "Readiness" not in text


def test_the_group_summary_counts_without_names():
    text = group_prefill_text(GroupFigures(60, 61, attended=2, absent=1, topics=()))
    assert "Patients attending: 2; absent: 1." in text and "Actual length: 61 min." in text


def test_the_chart_puts_time_across_and_0_to_10_up():
    series = ChartSeries(
        "progress", "Progress", (ChartPoint(MONDAY, 0), ChartPoint(MONDAY + timedelta(days=7), 10))
    )
    (plotted,) = plot([series], MONDAY, MONDAY + timedelta(days=7))
    assert plotted.dots == (
        (CHART_MARGIN, CHART_HEIGHT - CHART_MARGIN),
        (CHART_WIDTH - CHART_MARGIN, CHART_MARGIN),
    )
    assert plotted.path == " ".join(f"{x},{y}" for x, y in plotted.dots)  # an SVG polyline's points


def test_one_moment_is_drawn_in_the_middle():
    (plotted,) = plot([ChartSeries("importance", "Importance", (ChartPoint(MONDAY, 5),))], MONDAY, MONDAY)
    assert plotted.dots == ((CHART_WIDTH / 2, CHART_HEIGHT / 2),)
