"""The record's rows as the protocol's schemas (rooms.schemas GoalOut)."""

from __future__ import annotations

from collections.abc import Iterable

from record.models import Goal, GoalReview
from rooms.schemas import GoalOut, GoalReviewOut


def review_out(review: GoalReview) -> GoalReviewOut:
    return GoalReviewOut(
        review_id=review.pk,
        session_id=review.session_id,
        progress=review.progress,
        note=review.note,
        importance=review.importance,
        confidence=review.confidence,
        by=review.by_label,
        at=review.at,
    )


def goal_out(goal: Goal, participant_id: int, reviews: Iterable[GoalReview]) -> GoalOut:
    return GoalOut(
        goal_id=goal.pk,
        participant_id=participant_id,
        text=goal.text,
        why=goal.why,
        status=goal.status,
        set_by=goal.set_by_label,
        set_at=goal.set_at,
        reviews=[review_out(review) for review in reviews],
    )
