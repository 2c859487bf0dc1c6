"""The record's section of `session.state`: goals, per viewer (rooms.extensions state contributor).

A patient sees their own goals, a facilitator every roster patient's, a guest none; dropped goals are
left out; each goal comes with its last review.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from record.models import Goal, GoalReview
from record.serializers import goal_out
from rooms.models import GoalStatus, GroupSession, Participant, ParticipantRole
from rooms.schemas import GoalOut


def goals_of(seats: dict[int, int]) -> list[GoalOut]:
    """The not-dropped goals of these patients (member id -> their seat here), each with its last review."""
    goals = list(
        Goal.objects.filter(patient_id__in=seats).exclude(status=GoalStatus.DROPPED).order_by("set_at", "pk")
    )
    last: dict[int, GoalReview] = {}
    # Without goals there is nothing to look up: not even a query to build (most patients at most connects).
    for review in GoalReview.objects.filter(goal__in=goals).order_by("at", "pk") if goals else ():
        last[review.goal_id] = review
    return [goal_out(goal, seats[goal.patient_id], [last[goal.pk]] if goal.pk in last else []) for goal in goals]


def goals_for(session: GroupSession, viewer: Participant) -> list[GoalOut] | None:
    """The goals this viewer sees in this session; None for a guest (not even an empty list)."""
    if viewer.role == ParticipantRole.PATIENT and viewer.member_id is not None:
        return goals_of({viewer.member_id: viewer.pk})
    if viewer.role == ParticipantRole.FACILITATOR:
        roster = Participant.objects.filter(
            session=session, role=ParticipantRole.PATIENT, removed_at__isnull=True, member__isnull=False
        ).values_list("member_id", "pk")
        return goals_of({member_id: seat for member_id, seat in roster if member_id is not None})
    return None


def goals_state(session: GroupSession, viewer: Participant, now: datetime) -> Mapping[str, object]:
    goals = goals_for(session, viewer)
    return {} if goals is None else {"goals": goals}
