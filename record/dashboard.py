"""The record's block of a member's dashboard (rooms.extensions dashboard_sections).

A patient: "My goals", each with its history of reviews. A facilitator: the records of the patients on
their sessions' rosters (their care team's patients), one link each.
"""

from __future__ import annotations

from datetime import datetime

from accounts.models import Member, Role
from record.reads import goals_with_reviews
from rooms.extensions import DashboardSection
from rooms.models import ParticipantRole


def record_section(member: Member, now: datetime) -> DashboardSection | None:
    if member.role == Role.PATIENT:
        return DashboardSection("record/_my_goals.html", {"goals": goals_with_reviews(member)})
    if member.role == Role.FACILITATOR:
        patients = (
            Member.objects.filter(
                role=Role.PATIENT,
                participations__role=ParticipantRole.PATIENT,
                participations__session__participants__member=member,
                participations__session__participants__role=ParticipantRole.FACILITATOR,
            )
            .distinct()
            .order_by("display_name", "username")
        )
        return DashboardSection("record/_patients.html", {"patients": list(patients)})
    return None
