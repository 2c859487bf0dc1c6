"""Errors the actions raise; adapters map them to close codes, error frames or exit status."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# The contract's error codes: the `code` of an `error` frame (rooms.schemas.ErrorFrame).
ErrorCode = Literal[
    "invalid", "not_allowed", "not_live", "no_floor", "muted", "rate_limited", "too_long", "not_found",
    "not_admitted", "unavailable",
]


class ActionError(Exception):
    """A refused client action; `code` is one of the contract's error codes.

    `message` is the human text, usually lazy (gettext_lazy): it is put into words in the
    language of whoever reads it, when the error frame or page is written (issue 26).
    """

    def __init__(self, code: ErrorCode, message: StrOrPromise, **extra: object) -> None:
        super().__init__(str(message))
        self.code = code
        self.message = message
        self.extra = extra


class RoomClosed(Exception):
    """The person may not be in the room; `code` is the WebSocket close code."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


NOT_SIGNED_IN = 4401
NOT_ON_ROSTER = 4403
NO_SUCH_SESSION = 4404
SESSION_ENDED = 4410
TOO_MANY_CONNECTIONS = 4429
