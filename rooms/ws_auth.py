"""Who is on the other end of a WebSocket: a member's login or a guest's redeemed pass."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from config.numbers import ascii_int
from rooms.actions.presence import Identity

# Django session key under which the join view stores the redeemed guest.
GUEST_SESSION_KEY = "circle_guest"


def identify(scope: Mapping[str, Any]) -> Identity | None:
    user = scope.get("user")
    if user is not None and user.is_authenticated and user.is_active:
        return Identity(member_id=user.pk)
    session = scope.get("session")
    guest = session.get(GUEST_SESSION_KEY) if session is not None else None
    if isinstance(guest, dict) and isinstance(guest.get("participant_id"), int):
        return Identity(guest_participant_id=guest["participant_id"])
    return None


def parse_since(query_string: bytes) -> int | None:
    """`?since=SEQ` on the URL; anything but ASCII digits is ignored, as if absent (issue 22, class 1)."""
    values = parse_qs(query_string.decode("latin1")).get("since")
    return ascii_int(values[0]) if values else None
