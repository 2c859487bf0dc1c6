"""Who holds the floor and until when, and the record of each turn (FloorTurn, for the participation stats)."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings

from facilitator.models import FloorTurn
from facilitator.rules import floor_deadline
from rooms.actions.floor import room_version
from rooms.broadcast import send_event_on_commit
from rooms.models import GroupSession, Participant
from rooms.schemas import FloorChanged


def set_floor(
    session: GroupSession, holder: Participant | None, now: datetime, *, seconds: int | None, reason: str
) -> None:
    circle = settings.CIRCLE
    end_floor_turn(session, now)
    session.floor_holder = holder
    session.floor_granted_at = now if holder else None
    session.floor_expires_at = (
        floor_deadline(now, seconds, default=circle["FLOOR_DEFAULT_SECONDS"], maximum=circle["FLOOR_MAX_SECONDS"])
        if holder
        else None
    )
    session.save(update_fields=["floor_holder", "floor_granted_at", "floor_expires_at"])
    if holder is not None:
        FloorTurn.objects.create(session=session, participant=holder, started_at=now)
    send_event_on_commit(
        session.pk,
        FloorChanged(
            holder=session.floor_holder_id,
            expires_at=session.floor_expires_at,
            reason=reason,
            version=room_version(session),
        ),
    )


def end_floor_turn(session: GroupSession, now: datetime) -> None:
    """Close the running turn; one that ran past its deadline ended at the deadline."""
    end = now
    if session.floor_expires_at is not None and session.floor_expires_at < now:
        end = session.floor_expires_at
    FloorTurn.objects.filter(session=session, ended_at__isnull=True).update(ended_at=end)
