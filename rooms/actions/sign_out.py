"""Closing a person's room sockets when they sign out, or their sign-in ends idle or expired.

accounts (below the room core) does not know rooms: it sends accounts.signals.signed_out,
which RoomsConfig.ready() connects to `close_sockets_on_sign_out`.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db import transaction
from django.db.models import Q

from rooms.broadcast import send_event_on_commit
from rooms.errors import NOT_SIGNED_IN
from rooms.models import Connection, ParticipantRole
from rooms.schemas import SignedOut


def do_close_sockets_of(
    *, member_id: int | None = None, guest_participant_id: int | None = None, reason: str = "logout"
) -> int:
    """Close every open room socket of a person who signed out (or timed out), on every worker.

    One envelope per room, to that person's participants only, each closed with 4401
    once the envelope is delivered; the consumers' own disconnects then clear the
    Connection rows and announce the departure. Returns the number of rooms told.
    """
    if member_id is not None:
        who = Q(participant__member_id=member_id)
    elif guest_participant_id is not None:
        who = Q(participant_id=guest_participant_id, participant__role=ParticipantRole.GUEST)
    else:
        return 0
    rooms: dict[int, set[int]] = defaultdict(set)
    for session_id, participant_id in Connection.objects.filter(who).values_list(
        "participant__session_id", "participant_id"
    ):
        rooms[session_id].add(participant_id)
    with transaction.atomic():
        for session_id, participant_ids in sorted(rooms.items()):
            send_event_on_commit(
                session_id,
                SignedOut(reason=reason if reason in {"idle", "expired"} else "logout"),
                to="none",
                ids=sorted(participant_ids),
                effects_for={pid: f"close:{NOT_SIGNED_IN}" for pid in participant_ids},
            )
    return len(rooms)


def close_sockets_on_sign_out(
    sender: object, *, member_id: int | None, guest_participant_id: int | None, reason: str, **kwargs: Any
) -> None:
    """The receiver of accounts.signals.signed_out."""
    do_close_sockets_of(member_id=member_id, guest_participant_id=guest_participant_id, reason=reason)
