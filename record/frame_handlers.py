"""The record's client frames: goals and their reviews. Registered by RecordConfig.ready() (rooms.frames)."""

from __future__ import annotations

from record import actions
from rooms.faults import db
from rooms.frames import AckFields, FrameHandlers, Sender
from rooms.schemas import GoalReviewFrame, GoalSet, GoalStatusSet

handlers = FrameHandlers()


@handlers.of(GoalSet)
async def set_goal(sender: Sender, frame: GoalSet) -> AckFields:
    goal = await db(actions.do_set_goal)(
        sender.session_id, sender.participant_id, frame.participant_id, frame.text, frame.why, sender.at
    )
    return {"goal_id": goal.pk}


@handlers.of(GoalReviewFrame)
async def review_goal(sender: Sender, frame: GoalReviewFrame) -> AckFields:
    review = await db(actions.do_review_goal)(
        sender.session_id,
        sender.participant_id,
        frame.goal_id,
        sender.at,
        progress=frame.progress,
        note=frame.note,
        importance=frame.importance,
        confidence=frame.confidence,
    )
    return {"review_id": review.pk}


@handlers.of(GoalStatusSet)
async def set_goal_status(sender: Sender, frame: GoalStatusSet) -> AckFields:
    goal = await db(actions.do_set_goal_status)(
        sender.session_id, sender.participant_id, frame.goal_id, frame.status, sender.at
    )
    return {"goal_id": goal.pk}
