"""rooms/rules.py as pure functions: who may chat, text limits, rate limits, hands.

No database and no Channels: nothing here is marked, so pytest-django refuses
any database access these tests might try.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rooms.rules import (
    RoomView,
    SpeakerView,
    chat_refusal,
    current_floor_holder,
    default_mode,
    hand_refusal,
    rate_refusal,
    send_history,
    text_refusal,
)

NOW = datetime(2025, 3, 4, 18, 0, 0, tzinfo=UTC)
ME = 7
OTHER = 8

STATUSES = ("scheduled", "live", "ended")
MODES = ("open", "moderated", "round")
ROLES = ("facilitator", "patient", "guest")
# Who holds the floor, from the speaker's point of view.
FLOORS = ("none", "mine", "other", "mine_expired", "mine_no_deadline")


def room(status: str = "live", mode: str = "moderated", floor: str = "none") -> RoomView:
    holder, expires = {
        "none": (None, None),
        "mine": (ME, NOW + timedelta(seconds=60)),
        "other": (OTHER, NOW + timedelta(seconds=60)),
        "mine_expired": (ME, NOW),  # the deadline is exactly now: already over
        "mine_no_deadline": (ME, None),
    }[floor]
    return RoomView(status=status, mode=mode, floor_holder_id=holder, floor_expires_at=expires)


def speaker(role: str = "patient", *, admitted: bool = True, muted: bool = False, removed: bool = False) -> SpeakerView:
    return SpeakerView(participant_id=ME, role=role, admitted=admitted, muted=muted, removed=removed)


def code(refusal) -> str | None:
    return None if refusal is None else refusal.code


# ---------------------------------------------------------------- chat_refusal

# A row: (role, status, mode, floor, muted, admitted, removed, private, expected error code or None).
HOLDING = {"mine", "mine_no_deadline"}


def floor_needed(floor: str) -> str | None:
    return None if floor in HOLDING else "no_floor"


def rows(
    expected,
    *,
    roles=("patient",),
    statuses=("live",),
    modes=MODES,
    floors=FLOORS,
    muted=(False,),
    admitted=(True,),
    removed=(False,),
    private=(False,),
):
    """Every combination of the values given, each expecting `expected` (a function of the floor, or a code)."""
    for row in itertools.product(roles, statuses, modes, floors, muted, admitted, removed, private):
        yield (*row, expected(row[3]) if callable(expected) else expected)


# Whole cross-products, one rule each.
CHAT_RULES = {
    # facilitators: may chat before and during the session, in every mode, without the floor
    "facilitator before and during": rows(None, roles=("facilitator",), statuses=("scheduled", "live")),
    # nobody chats after the end, muted or not
    "after the end": rows("not_live", roles=ROLES, statuses=("ended",), muted=(False, True)),
    # removed beats everything
    "removed": rows("not_allowed", roles=ROLES, statuses=STATUSES, removed=(True,), private=(False, True)),
    # patients before the session starts: not_live whatever the mode or floor
    "patient before the start": rows("not_live", statuses=("scheduled",)),
    # a muted patient is refused as muted in every mode, even with the floor
    "muted patient": rows("muted", muted=(True,)),
    # open: admitted, unmuted patients chat, whoever holds the floor
    "patient in open": rows(None, modes=("open",)),
    # moderated and round: only the holder of a current floor (or turn)
    "patient in moderated or round": rows(floor_needed, modes=("moderated", "round")),
    # guests: only while holding a current floor, in every mode
    "admitted guest": rows(floor_needed, roles=("guest",)),
    # the private line to the facilitators needs no floor, but mute and status still apply
    "private line": rows(None, private=(True,)),
    "muted private line": rows("muted", muted=(True,), private=(True,)),
}

# Single cases beside those rules.
CHAT_TABLE = [
    ("patient", "scheduled", "moderated", "none", False, True, False, True, "not_live"),
    ("patient", "ended", "open", "none", True, True, True, False, "not_allowed"),
    ("guest", "live", "open", "mine", True, True, False, False, "muted"),
    ("guest", "scheduled", "open", "mine", False, True, False, False, "not_live"),
    # guests in the lobby: not_admitted, even holding a (stale) floor
    ("guest", "live", "open", "mine", False, False, False, False, "not_admitted"),
    ("guest", "live", "moderated", "none", False, False, False, False, "not_admitted"),
    ("guest", "scheduled", "open", "none", False, False, False, False, "not_admitted"),
    ("guest", "live", "open", "none", False, False, True, False, "not_allowed"),
]
CHAT_CASES = [
    pytest.param(*row, id=f"{rule}: " + "-".join(map(str, row)))
    for rule, cases in [*CHAT_RULES.items(), ("table", CHAT_TABLE)]
    for row in cases
]


@pytest.mark.parametrize(
    ("role", "status", "mode", "floor", "muted", "admitted", "removed", "private", "expected"), CHAT_CASES
)
def test_chat_refusal(role, status, mode, floor, muted, admitted, removed, private, expected):
    refusal = chat_refusal(
        room(status, mode, floor), speaker(role, admitted=admitted, muted=muted, removed=removed), NOW, private=private
    )
    assert code(refusal) == expected
    if refusal is not None:
        assert refusal.message, "every refusal explains itself to the person"


def test_floor_expiring_this_very_moment_no_longer_counts():
    deadline = NOW + timedelta(seconds=30)
    view = RoomView("live", "moderated", ME, deadline)
    assert chat_refusal(view, speaker(), deadline - timedelta(microseconds=1)) is None
    assert code(chat_refusal(view, speaker(), deadline)) == "no_floor"
    assert code(chat_refusal(view, speaker(), deadline + timedelta(seconds=1))) == "no_floor"


# ---------------------------------------------------------------- current_floor_holder


def test_current_floor_holder_before_at_and_after_expiry():
    view = RoomView("live", "moderated", ME, NOW)
    assert current_floor_holder(view, NOW - timedelta(microseconds=1)) == ME
    assert current_floor_holder(view, NOW) is None, "a deadline of exactly now has passed"
    assert current_floor_holder(view, NOW + timedelta(microseconds=1)) is None


def test_current_floor_holder_without_holder_or_deadline():
    assert current_floor_holder(RoomView("live", "moderated", None, None), NOW) is None
    assert current_floor_holder(RoomView("live", "moderated", None, NOW + timedelta(minutes=1)), NOW) is None
    assert current_floor_holder(RoomView("live", "moderated", ME, None), NOW) == ME


# ---------------------------------------------------------------- text_refusal

LIMIT = 2000


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "invalid"),
        (" ", "invalid"),
        ("  \n\t \r\n ", "invalid"),
        ("a", None),
        ("x" * LIMIT, None),
        ("x" * (LIMIT + 1), "too_long"),
        ("x" * 5000, "too_long"),
        ("  " + "x" * LIMIT + "\n\n ", None),  # whitespace around does not count
        ("\t" + "x" * (LIMIT + 1) + " ", "too_long"),
        ("é" * LIMIT, None),  # characters, not bytes
        ("é" * (LIMIT + 1), "too_long"),
        ("a b", None),
        ("\u200b\u2060\ufeff", "invalid"),  # nothing visible (issue 22; more in test_security_text.py)
        ("\x1b\x00\u202e", "invalid"),
        ("\u3164", "invalid"),
        ("a\u200b", None),
        ("x" * LIMIT + "\x00" * 10, None),  # what is removed does not count
    ],
    ids=lambda value: repr(value)[:24] if isinstance(value, str) else str(value),
)
def test_text_refusal(text, expected):
    refusal = text_refusal(text, LIMIT)
    assert code(refusal) == expected
    if refusal is not None:
        assert refusal.message


@given(
    st.text(alphabet=" \t\n\r", max_size=50),
    # Characters that show (letters, digits, punctuation, symbols) and spaces between them: the
    # normal form keeps them as they are (invisible and control characters: test_security_text.py).
    st.text(
        alphabet=st.characters(
            categories=("L", "N", "P", "S", "Zs"), exclude_characters="\u115f\u1160\u3164\uffa0\u2800"
        ),
        min_size=1,
        max_size=LIMIT + 50,
    ),
    st.text(alphabet=" \t\n", max_size=50),
)
@settings(max_examples=100, deadline=None, database=None)
def test_text_refusal_judges_the_trimmed_text(before, body, after):
    trimmed = (before + body + after).strip()
    expected = "invalid" if not trimmed else "too_long" if len(trimmed) > LIMIT else None
    assert code(text_refusal(before + body + after, LIMIT)) == expected


# ---------------------------------------------------------------- rate_refusal


def seconds_ago(*offsets: float) -> list[datetime]:
    return [NOW - timedelta(seconds=s) for s in offsets]


def limited(sends, now=NOW, slowmode=0):
    history = send_history(sends, now, limit=5, window_seconds=10)
    return rate_refusal(history, now, limit=5, window_seconds=10, slowmode_seconds=slowmode)


def test_five_sends_in_the_window_leave_room_for_none_more():
    assert limited([]) is None
    assert limited(seconds_ago(4, 3, 2, 1)) is None, "a fifth send is allowed"
    refusal = limited(seconds_ago(9, 8, 7, 6, 5))
    assert refusal is not None and refusal.code == "rate_limited"
    assert refusal.retry_after == pytest.approx(1.0), "the oldest send leaves the window in one second"


def test_sixth_send_in_a_burst_is_refused_until_the_first_leaves_the_window():
    accepted: list[datetime] = []
    for n in range(5):
        now = NOW + timedelta(seconds=n * 0.5)
        assert limited(accepted, now) is None, f"send {n + 1} is allowed"
        accepted.append(now)
    sixth_at = NOW + timedelta(seconds=2.5)
    refusal = limited(accepted, sixth_at)
    assert refusal is not None and refusal.code == "rate_limited"
    assert refusal.retry_after == pytest.approx(7.5)
    # refused sends are not counted: the wait does not grow with retries
    assert limited(accepted, sixth_at + timedelta(seconds=3)).retry_after == pytest.approx(4.5)
    assert limited(accepted, NOW + timedelta(seconds=9.9)) is not None
    assert limited(accepted, NOW + timedelta(seconds=10)) is None, "the first send has left the window"


def test_window_slides():
    assert limited(seconds_ago(10, 8, 6, 4, 2)) is None, "a send exactly ten seconds ago is outside the window"
    assert limited(seconds_ago(30, 25, 20, 15, 9)) is None, "old sends do not count"
    assert limited(seconds_ago(30, 25, 20, 15, 9, 8, 7, 6)) is None
    refusal = limited(seconds_ago(30, 9.5, 8, 7, 6, 5))
    assert refusal is not None and refusal.retry_after == pytest.approx(0.5)


def test_more_sends_than_the_limit_in_the_window_wait_for_the_fifth_newest():
    refusal = limited(seconds_ago(9, 8, 7, 6, 5, 4))
    assert refusal is not None and refusal.code == "rate_limited"
    assert refusal.retry_after == pytest.approx(2.0)
    assert limited(seconds_ago(9, 8, 7, 6, 5, 4), NOW + timedelta(seconds=2)) is None


@given(
    st.lists(st.floats(min_value=0, max_value=30, allow_nan=False), max_size=12),
)
@settings(max_examples=200, deadline=None, database=None)
def test_waiting_retry_after_is_always_enough(offsets):
    sends = sorted(NOW - timedelta(seconds=s) for s in offsets)
    for slowmode in (0, 15):
        refusal = limited(sends, slowmode=slowmode)
        if refusal is None:
            continue
        assert refusal.code == "rate_limited"
        assert refusal.retry_after is not None and refusal.retry_after > 0
        later = NOW + timedelta(seconds=refusal.retry_after)
        assert limited(sends, later, slowmode=slowmode) is None, "retrying after retry_after must succeed"


def test_slow_mode_one_send_per_interval():
    refusal = limited(seconds_ago(10), slowmode=30)
    assert refusal is not None and refusal.code == "rate_limited"
    assert refusal.retry_after == pytest.approx(20.0)
    assert limited(seconds_ago(30), slowmode=30) is None
    assert limited(seconds_ago(45), slowmode=30) is None
    assert limited([], slowmode=30) is None
    assert limited(seconds_ago(10), slowmode=0) is None, "without slow mode one send is nothing"


def test_slow_mode_looks_at_the_newest_send():
    refusal = limited(seconds_ago(50, 40, 5), slowmode=30)
    assert refusal is not None and refusal.retry_after == pytest.approx(25.0)


# ---------------------------------------------------------------- hand_refusal


HAND_TABLE = [
    ("patient", "scheduled", False, True, False, None),
    ("patient", "live", False, True, False, None),
    ("facilitator", "live", False, True, False, None),
    ("guest", "live", False, True, False, None),
    ("patient", "live", True, True, False, "muted"),
    ("guest", "live", True, True, False, "muted"),
    ("patient", "ended", False, True, False, "not_live"),
    ("patient", "ended", True, True, False, "not_live"),
    ("guest", "live", False, False, False, "not_admitted"),
    ("patient", "live", False, True, True, "not_allowed"),
    ("patient", "live", True, True, True, "not_allowed"),
    ("guest", "live", False, False, True, "not_allowed"),
]


@pytest.mark.parametrize(("role", "status", "muted", "admitted", "removed", "expected"), HAND_TABLE)
@pytest.mark.parametrize("mode", MODES)
def test_hand_refusal(role, status, muted, admitted, removed, expected, mode):
    refusal = hand_refusal(room(status, mode), speaker(role, admitted=admitted, muted=muted, removed=removed))
    assert code(refusal) == expected


# ---------------------------------------------------------------- default_mode


def test_default_mode():
    assert default_mode("group") == "moderated"
    assert default_mode("individual") == "open"
