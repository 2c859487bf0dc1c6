"""The program's block of the dashboard (rooms.extensions.dashboard_sections): a patient's own two weeks
("this week: 2 of 4 attended", coming sessions of both kinds, cancelled ones marked), a facilitator's series,
and everyone's link to their reminders and calendar feed."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from accounts.models import Member, Role
from program.charts import seat_weeks
from program.models import Series
from rooms.extensions import DashboardSection
from rooms.models import Participant, ParticipantRole


def week_start(now: datetime, zone: ZoneInfo) -> datetime:
    """Monday 00:00 of this ISO week, in the clinic's time zone."""
    today = now.astimezone(zone).date()
    return datetime.combine(today - timedelta(days=today.weekday()), time(0), tzinfo=zone)


def program_section(member: Member, now: datetime) -> DashboardSection:
    zone = ZoneInfo(settings.TIME_ZONE)
    monday = week_start(now, zone)
    section: dict[str, object] = {"feed_on": bool(member.calendar_token_hash), "has_email": bool(member.email)}
    if member.role == Role.PATIENT:
        seats = list(
            Participant.objects.filter(
                member=member,
                role=ParticipantRole.PATIENT,
                removed_at__isnull=True,
                session__starts_at__gte=monday,
                session__starts_at__lt=monday + timedelta(days=14),
            )
            .select_related("session")
            .order_by("session__starts_at")
        )
        this_week = [seat for seat in seats if seat.session.starts_at < monday + timedelta(days=7)]
        counts = seat_weeks(this_week)
        section["this_week"] = counts[0] if counts else None
        section["two_weeks"] = [seat.session for seat in seats]
    else:
        section["series"] = list(
            Series.objects.filter(members__member=member, members__role=Role.FACILITATOR).order_by("-created_at")[:10]
        )
    return DashboardSection("program/_dashboard.html", section)
