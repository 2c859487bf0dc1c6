"""Weekly attendance drawn on the server as SVG: no script, nothing a strict CSP blocks (presentation
attributes, no style attribute), with a text alternative.

The patient's record page (record app) embeds the same chart: `patient_attendance_chart(patient)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Member
from facilitator.attendance import attended, seat_statuses
from program.models import Series
from program.rules import Seat, WeekCount, weekly_counts
from rooms.models import Participant, ParticipantRole, Status

BAR_WIDTH, GAP, HEIGHT, LABEL = 28, 12, 96, 18
SCHEDULED_FILL, ATTENDED_FILL, TEXT_FILL = "#d9dee7", "#2f6f5e", "#1f2933"


@dataclass(frozen=True)
class WeeklyChart:
    weeks: list[WeekCount]
    svg: SafeString
    # The same figures in words, for screen readers and for anyone who cannot see the bars.
    text: str


def week_sentence(week: WeekCount) -> str:
    return ngettext(
        "%(week)s: %(attended)d of %(scheduled)d session attended",
        "%(week)s: %(attended)d of %(scheduled)d sessions attended",
        week.scheduled,
    ) % {"week": week.label, "attended": week.attended, "scheduled": week.scheduled}


def draw(weeks: list[WeekCount], caption: str) -> WeeklyChart:
    """Per ISO week a pale bar for the sessions scheduled and a dark one inside it for those attended."""
    text = "; ".join(week_sentence(w) for w in weeks) or _("No sessions yet.")
    most = max((w.scheduled for w in weeks), default=1) or 1
    width = max(len(weeks), 1) * (BAR_WIDTH + GAP) + GAP
    bars = []
    for index, week in enumerate(weeks):
        x = GAP + index * (BAR_WIDTH + GAP)
        scheduled_h = round(HEIGHT * week.scheduled / most)
        attended_h = round(HEIGHT * week.attended / most)
        bars.append((x, HEIGHT - scheduled_h, scheduled_h, HEIGHT - attended_h, attended_h, week))
    shapes = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"/>'
        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"/>'
        '<text x="{}" y="{}" font-size="11" text-anchor="middle" fill="{}">{}/{}</text>'
        '<text x="{}" y="{}" font-size="10" text-anchor="middle" fill="{}">W{}</text>',
        (
            (
                x, sy, BAR_WIDTH, sh, SCHEDULED_FILL,
                x, ay, BAR_WIDTH, ah, ATTENDED_FILL,
                x + BAR_WIDTH // 2, HEIGHT + LABEL - 4, TEXT_FILL, week.attended, week.scheduled,
                x + BAR_WIDTH // 2, HEIGHT + 2 * LABEL - 4, TEXT_FILL, f"{week.week:02d}",
            )
            for x, sy, sh, ay, ah, week in bars
        ),
    )
    svg = format_html(
        '<svg class="week-chart" role="img" viewBox="0 0 {} {}" width="{}" height="{}" '
        'xmlns="http://www.w3.org/2000/svg"><title>{}</title><desc>{}</desc>{}</svg>',
        width, HEIGHT + 2 * LABEL, width, HEIGHT + 2 * LABEL, caption, text, shapes,
    )
    return WeeklyChart(weeks, svg, text)


def patient_seats(patient: Member, *, series: Series | None = None) -> list[Participant]:
    seats = Participant.objects.filter(member=patient, role=ParticipantRole.PATIENT).select_related("session")
    if series is not None:
        seats = seats.filter(session__series_link__series=series)
    return list(seats.order_by("session__starts_at"))


def seat_weeks(seats: list[Participant], until: datetime | None = None) -> list[WeekCount]:
    """Attended against scheduled per ISO week; sessions after `until` are left out (None: all)."""
    readings = seat_statuses(seats)
    return weekly_counts(
        (
            Seat(seat.session.starts_at, attended(readings[seat.pk].status), seat.session.status == Status.CANCELLED)
            for seat in seats
            if until is None or seat.session.starts_at <= until
        ),
        ZoneInfo(settings.TIME_ZONE),
    )


def patient_attendance_chart(patient: Member, *, series: Series | None = None) -> WeeklyChart:
    """The chart of one patient's weeks (all their sessions, or one series'): for the series page and the record."""
    caption = _("Sessions attended per week, against sessions scheduled")
    return draw(seat_weeks(patient_seats(patient, series=series)), caption)
