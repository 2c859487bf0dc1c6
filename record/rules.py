"""The record's pure rules: which fields a note format has, the prefill of a note from the room's figures,
and the geometry of the progress chart. No database, no clock: `now` and the figures are given."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from record.models import SCALE_MAX, NoteFormat

NOTE_FIELDS: dict[NoteFormat, tuple[str, ...]] = {
    NoteFormat.DAP: ("data", "assessment", "plan"),
    NoteFormat.SOAP: ("subjective", "objective", "assessment", "plan"),
    NoteFormat.FREE: ("text",),
}

FIELD_LABELS = {
    "data": gettext_lazy("Data"),
    "assessment": gettext_lazy("Assessment"),
    "plan": gettext_lazy("Plan"),
    "subjective": gettext_lazy("Subjective"),
    "objective": gettext_lazy("Objective"),
    "text": gettext_lazy("Note"),
}

# The field the room's figures are prefilled into: what was observed.
PREFILL_FIELD = {NoteFormat.DAP: "data", NoteFormat.SOAP: "objective", NoteFormat.FREE: "text"}


def note_fields(note_format: NoteFormat) -> tuple[str, ...]:
    return NOTE_FIELDS[note_format]


@dataclass(frozen=True)
class ReviewFigure:
    goal_text: str
    progress: int
    importance: int | None
    confidence: int | None


@dataclass(frozen=True)
class PatientFigures:
    """What the room saw of ONE patient in one session: nothing in here is anyone else's."""

    scheduled_minutes: int
    actual_minutes: int | None  # None: the session has not run
    attended_minutes: int
    status: str  # an attendance status (facilitator.models.SeatStatus)
    messages: int
    floor_seconds: int
    topics: tuple[str, ...]  # the prompts posted to the room (the facilitators' words)
    reviews: tuple[ReviewFigure, ...]
    readiness: tuple[int | None, int | None]  # the session's ruler (importance, confidence)


def prefill_text(figures: PatientFigures) -> str:
    """The note's observed part as the room saw it, for the facilitator to keep, edit or replace."""
    lines = [
        _("Scheduled length: %(minutes)d min.") % {"minutes": figures.scheduled_minutes},
        _("Actual length: %(minutes)s.")
        % {"minutes": _("%d min") % figures.actual_minutes if figures.actual_minutes is not None else _("not run")},
        _("Attended: %(minutes)d min (%(status)s).") % {"minutes": figures.attended_minutes, "status": figures.status},
        _("Messages to the room: %(count)d.") % {"count": figures.messages},
        _("Floor time: %(minutes)d min %(seconds)02d s.")
        % {"minutes": figures.floor_seconds // 60, "seconds": figures.floor_seconds % 60},
    ]
    if figures.topics:
        lines.append(_("Topics posted: %(topics)s") % {"topics": " / ".join(figures.topics)})
    for review in figures.reviews:
        lines.append(
            _("Goal reviewed: “%(goal)s”, progress %(progress)d/10.")
            % {"goal": review.goal_text, "progress": review.progress}
        )
    importance, confidence = figures.readiness
    if importance is not None or confidence is not None:
        lines.append(
            _("Readiness ruler: importance %(importance)s/10, confidence %(confidence)s/10.")
            % {"importance": "-" if importance is None else importance,
               "confidence": "-" if confidence is None else confidence}
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class GroupFigures:
    scheduled_minutes: int
    actual_minutes: int | None
    attended: int
    absent: int
    topics: tuple[str, ...]


def group_prefill_text(figures: GroupFigures) -> str:
    """The group summary's observed part: the session's figures, no one's words."""
    lines = [
        _("Scheduled length: %(minutes)d min.") % {"minutes": figures.scheduled_minutes},
        _("Actual length: %(minutes)s.")
        % {"minutes": _("%d min") % figures.actual_minutes if figures.actual_minutes is not None else _("not run")},
        _("Patients attending: %(attended)d; absent: %(absent)d.")
        % {"attended": figures.attended, "absent": figures.absent},
    ]
    if figures.topics:
        lines.append(_("Topics posted: %(topics)s") % {"topics": " / ".join(figures.topics)})
    return "\n".join(lines)


# ------------------------------------------------------------------ the progress chart

CHART_WIDTH = 640
CHART_HEIGHT = 220
CHART_MARGIN = 32


@dataclass(frozen=True)
class ChartPoint:
    at: datetime
    value: int


@dataclass(frozen=True)
class ChartSeries:
    key: str  # "progress", "importance", "confidence": the CSS class of its line
    label: str
    points: tuple[ChartPoint, ...]


@dataclass(frozen=True)
class PlottedSeries:
    key: str
    label: str
    path: str  # an SVG polyline's points
    dots: tuple[tuple[float, float], ...]


def plot(series: Sequence[ChartSeries], start: datetime, end: datetime) -> list[PlottedSeries]:
    """Each series' points on the chart: time across (start..end), 0..10 up; one point at the middle if
    start == end. Numbers only, so the template writes them into an SVG with nothing to escape."""
    inner_w = CHART_WIDTH - 2 * CHART_MARGIN
    inner_h = CHART_HEIGHT - 2 * CHART_MARGIN
    span = (end - start).total_seconds()

    def x(at: datetime) -> float:
        share = (at - start).total_seconds() / span if span > 0 else 0.5
        return round(CHART_MARGIN + share * inner_w, 1)

    def y(value: int) -> float:
        return round(CHART_HEIGHT - CHART_MARGIN - value / SCALE_MAX * inner_h, 1)

    plotted = []
    for one in series:
        dots = tuple((x(point.at), y(point.value)) for point in one.points)
        plotted.append(PlottedSeries(one.key, one.label, " ".join(f"{px},{py}" for px, py in dots), dots))
    return plotted


def gridlines() -> list[tuple[int, float]]:
    """The value scale's lines: (value, y) at 0, 5 and 10."""
    inner_h = CHART_HEIGHT - 2 * CHART_MARGIN
    return [(value, round(CHART_HEIGHT - CHART_MARGIN - value / SCALE_MAX * inner_h, 1)) for value in (0, 5, 10)]
