"""Facilitation's sections of `session.state`, contributed to the core's catch-up read (rooms.extensions)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from facilitator.actions.rounds import round_seats
from facilitator.rules import next_in_round
from facilitator.stats import load_agenda, load_stats
from rooms.models import GroupSession, Mode, Participant, ParticipantRole
from rooms.schemas import RoundOut


def round_view(session: GroupSession, now: datetime) -> RoundOut | None:
    """Who holds the round's turn and who comes next; None outside a round."""
    if session.mode != Mode.ROUND:
        return None
    seats = round_seats(session, now)
    holder = session.floor_holder_id
    position = next((s.position for s in seats if s.participant_id == holder), None)
    upcoming = next_in_round(seats, position) if holder is not None else None
    return RoundOut(holder=holder, next=upcoming.participant_id if upcoming else None, seconds=session.round_seconds)


def facilitation_state(session: GroupSession, viewer: Participant, now: datetime) -> Mapping[str, object]:
    """The round for everyone; the agenda and the participation stats for facilitators only."""
    if viewer.role != ParticipantRole.FACILITATOR:
        return {"round": round_view(session, now)}
    return {"round": round_view(session, now), "agenda": load_agenda(session.pk), "stats": load_stats(session, now)}
