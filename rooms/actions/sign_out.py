"""Closing a person's room sockets when they sign out, or their sign-in ends idle or expired; re-checking
them when their account changes.

accounts (below the room core) does not know rooms: it sends accounts.signals.signed_out and
accounts.signals.sign_in_changed, which RoomsConfig.ready() connects to `close_sockets_on_sign_out`
and `recheck_sockets_on_change`. Both reach every worker through the channel layer: no socket
polls the database for them (rooms.socket_guard).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.db.models import Q

from rooms.broadcast import send_event_on_commit
from rooms.errors import NOT_SIGNED_IN
from rooms.faults import LAYER_ERRORS
from rooms.models import Connection, ParticipantRole
from rooms.schemas import SignedOut
from rooms.socket_guard import RECHECK_EVENT, WORKERS_GROUP

logger = logging.getLogger(__name__)


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


def do_recheck_sockets_of(*, member_ids: Iterable[int] = (), participant_ids: Iterable[int] = ()) -> None:
    """Once committed, every worker re-checks these people's open room sockets (sign-in, account, seat).

    One message to the workers' group: each worker looks for the named people among its own
    sockets and reads only theirs (rooms.socket_guard.recheck_named). Lost (the layer is down),
    the safety sweep finds the change within SOCKET_RECHECK_SECONDS.
    """
    message = {"type": RECHECK_EVENT, "member_ids": sorted(member_ids), "participant_ids": sorted(participant_ids)}
    transaction.on_commit(lambda: send_to_workers(message), robust=True)


def send_to_workers(message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(WORKERS_GROUP, message)
    except LAYER_ERRORS as error:
        logger.warning("channel layer unavailable, sockets not re-checked now (%s); the sweep will", error)


def recheck_sockets_on_change(sender: object, *, member_id: int, **kwargs: Any) -> None:
    """The receiver of accounts.signals.sign_in_changed."""
    do_recheck_sockets_of(member_ids=[member_id])
