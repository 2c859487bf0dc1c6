"""Frame validation at the WebSocket edge: malformed frames get `error`, the connection stays open.

The contract: frames are JSON objects with a `type`; a text frame over 16 KiB is
refused (`too_long`); a frame with `ref` (a string of at most 64 characters)
gets exactly one reply, `ack` or `error`, carrying that ref; a frame without
`ref` gets an `error` when it fails and nothing when it succeeds. More than 20
malformed frames in 10 seconds close the connection with 1008.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rooms.frames import FRAME_TYPES
from rooms.models import GroupSession
from tests.conftest import Peer, pid

pytestmark = pytest.mark.django_db(transaction=True)

CONTRACT_ERROR_CODES = {
    "invalid",
    "not_allowed",
    "not_live",
    "no_floor",
    "muted",
    "rate_limited",
    "too_long",
    "not_found",
    "not_admitted",
}
MAX_FRAME_BYTES = 16 * 1024


async def send_raw(peer: Peer, text: str) -> None:
    # send_input, not send_to: send_to refuses an empty frame, which a real client can send.
    await peer.communicator.send_input({"type": "websocket.receive", "text": text})


async def send_bytes(peer: Peer, data: bytes) -> None:
    await peer.communicator.send_input({"type": "websocket.receive", "bytes": data})


async def reply(peer: Peer) -> dict[str, Any]:
    """The next ack or error (broadcast events on the way are skipped)."""
    while True:
        frame = await peer.receive()
        if frame["type"] in {"ack", "error"}:
            return frame


async def still_open(peer: Peer) -> None:
    """Prove the connection is open and usable: a request gets its ack (a ping: hand frames are rate limited)."""
    answer = await peer.request("ping")
    assert answer["type"] == "ack", answer


async def close_code(peer: Peer, timeout: float = 3) -> int | None:
    """Read until the server closes; the close code."""
    while True:
        output = await peer.communicator.receive_output(timeout=timeout)
        if output["type"] == "websocket.close":
            return output.get("code")


def exactly(size: int, **frame: Any) -> str:
    """A JSON frame padded (with an ignored extra field) to exactly `size` UTF-8 bytes."""
    frame["pad"] = ""
    base = len(json.dumps(frame).encode())
    frame["pad"] = "x" * (size - base)
    text = json.dumps(frame)
    assert len(text.encode()) == size
    return text


# ---------------------------------------------------------------- malformed frames, one by one

# (id, raw text or object to json.dumps, expected code, expected ref in the error)
MALFORMED: list[tuple[str, Any, str, str | None]] = [
    ("not-json", "{not json", "invalid", None),
    ("truncated-json", '{"type": "hand.lower", "ref": "t1"', "invalid", None),
    ("empty-text", "", "invalid", None),
    ("json-array", '[{"type": "hand.lower", "ref": "a1"}]', "invalid", None),
    ("json-string", '"hand.lower"', "invalid", None),
    ("json-number", "42", "invalid", None),
    ("json-null", "null", "invalid", None),
    ("json-true", "true", "invalid", None),
    ("deeply-nested-array", "[" * 6000 + "]" * 6000, "invalid", None),
    ("deeply-nested-object", '{"type": "hand.lower", "x": ' + "[" * 5000 + "]" * 5000 + "}", "invalid", None),
    # NUL and lone surrogates in a text are removed like any control character (issue 22's text rule):
    # tests/test_security_numbers.py. A ref holding one cannot be echoed: the frame is invalid.
    ("lone-surrogate-ref", '{"type": "hand.lower", "ref": "\\udc00"}', "invalid", None),
    ("missing-type", {"ref": "m1"}, "invalid", "m1"),
    ("missing-type-no-ref", {"text": "hi"}, "invalid", None),
    ("type-null", {"type": None, "ref": "m2"}, "invalid", "m2"),
    ("type-number", {"type": 5, "ref": "m3"}, "invalid", "m3"),
    ("type-list", {"type": ["chat.send"], "ref": "m4"}, "invalid", "m4"),
    ("unknown-type", {"type": "chat.shout", "text": "hi", "ref": "u1"}, "invalid", "u1"),
    ("type-wrong-case", {"type": "Chat.Send", "text": "hi", "ref": "u2"}, "invalid", "u2"),
    ("server-only-type", {"type": "session.state", "ref": "u3"}, "invalid", "u3"),
    ("ack-type", {"type": "ack", "ref": "u4"}, "invalid", "u4"),
    ("empty-type", {"type": "", "ref": "u5"}, "invalid", "u5"),
    ("participant-id-string", {"type": "floor.grant", "participant_id": "5", "ref": "w1"}, "invalid", "w1"),
    ("participant-id-float", {"type": "floor.grant", "participant_id": 5.0, "ref": "w2"}, "invalid", "w2"),
    ("participant-id-bool", {"type": "floor.grant", "participant_id": True, "ref": "w3"}, "invalid", "w3"),
    ("participant-id-zero", {"type": "participant.mute", "participant_id": 0, "ref": "w4"}, "invalid", "w4"),
    ("participant-id-null", {"type": "participant.mute", "participant_id": None, "ref": "w5"}, "invalid", "w5"),
    ("seconds-string", {"type": "floor.grant", "participant_id": 1, "seconds": "60", "ref": "w6"}, "invalid", "w6"),
    ("text-number", {"type": "chat.send", "text": 5, "ref": "w7"}, "invalid", "w7"),
    ("text-null", {"type": "chat.send", "text": None, "ref": "w8"}, "invalid", "w8"),
    ("text-object", {"type": "chat.send", "text": {"a": 1}, "ref": "w9"}, "invalid", "w9"),
    ("mode-unknown", {"type": "mode.set", "mode": "chaos", "ref": "w10"}, "invalid", "w10"),
    ("message-id-string", {"type": "message.remove", "message_id": "1", "ref": "w11"}, "invalid", "w11"),
    ("category-unknown", {"type": "prompt.post", "category": "weather", "text": "hi", "ref": "w12"}, "invalid", "w12"),
    ("missing-text", {"type": "chat.send", "ref": "f1"}, "invalid", "f1"),
    ("missing-participant-id", {"type": "floor.grant", "ref": "f2"}, "invalid", "f2"),
    ("missing-mode", {"type": "mode.set", "ref": "f3"}, "invalid", "f3"),
    ("missing-message-id", {"type": "message.remove", "ref": "f4"}, "invalid", "f4"),
    ("missing-invite-name", {"type": "invite.create", "for_participant_id": 2, "ref": "f5"}, "invalid", "f5"),
    ("missing-text-no-ref", {"type": "chat.send"}, "invalid", None),
    ("ref-over-64", {"type": "hand.lower", "ref": "r" * 65}, "invalid", None),
    ("ref-number", {"type": "hand.lower", "ref": 5}, "invalid", None),
    ("ref-object", {"type": "hand.lower", "ref": {"id": "x"}}, "invalid", None),
    ("nul-only-text", '{"type": "chat.send", "text": "\\u0000", "ref": "z1"}', "invalid", "z1"),
    ("lone-surrogate-only-text", '{"type": "chat.send", "text": "\\udfff\\ud800", "ref": "s1"}', "invalid", "s1"),
    ("too-long-16k-plus-1", exactly(MAX_FRAME_BYTES + 1, type="hand.lower", ref="big1"), "too_long", "big1"),
    ("too-long-garbage", "x" * (MAX_FRAME_BYTES + 1), "too_long", None),
    (
        "too-long-multibyte",  # fewer than 16 Ki characters, more than 16 KiB of UTF-8
        json.dumps({"type": "hand.lower", "ref": "big2", "pad": "é" * 9000}, ensure_ascii=False),
        "too_long",
        "big2",
    ),
]


@pytest.mark.parametrize("who", ["facilitator", "patient"])
@pytest.mark.parametrize(("raw", "code", "ref"), [pytest.param(*row[1:], id=row[0]) for row in MALFORMED])
async def test_malformed_frame_gets_one_error_and_the_connection_stays_open(
    connect, live_group, dana, alex, who, raw, code, ref
):
    await GroupSession.objects.filter(pk=live_group.pk).aupdate(mode="open")
    peer, _ = await connect(dana if who == "facilitator" else alex, live_group.pk)
    await send_raw(peer, raw if isinstance(raw, str) else json.dumps(raw))
    error = await peer.receive()
    assert error["type"] == "error", error
    assert error["code"] == code
    assert error.get("ref") == ref
    assert isinstance(error["message"], str) and error["message"]
    assert await peer.nothing_more(), "exactly one reply"
    await still_open(peer)


@pytest.mark.parametrize("who", ["facilitator", "patient"])
async def test_binary_frame_is_invalid_and_the_connection_stays_open(connect, live_group, dana, alex, who):
    peer, _ = await connect(dana if who == "facilitator" else alex, live_group.pk)
    await send_bytes(peer, json.dumps({"type": "hand.lower", "ref": "b1"}).encode())
    error = await peer.receive()
    assert error["type"] == "error" and error["code"] == "invalid"
    assert await peer.nothing_more()
    await still_open(peer)


async def test_frame_of_exactly_16_kib_is_accepted(connect, live_group, dana):
    peer, _ = await connect(dana, live_group.pk)
    await send_raw(peer, exactly(MAX_FRAME_BYTES, type="hand.lower", ref="edge"))
    answer = await peer.receive()
    assert answer == {"type": "ack", "ref": "edge"}
    assert await peer.nothing_more()


async def test_refused_action_with_ref_gets_exactly_one_error(connect, live_group, alex):
    peer, _ = await connect(alex, live_group.pk)
    await peer.send(type="session.start", ref="p1")
    error = await peer.receive()
    assert error["type"] == "error" and error["code"] == "not_allowed" and error["ref"] == "p1"
    assert await peer.nothing_more()


async def test_refused_action_without_ref_gets_an_error_without_ref(connect, live_group, alex):
    peer, _ = await connect(alex, live_group.pk)
    await peer.send(type="chat.send", text="hello")  # moderated, no floor
    error = await peer.receive()
    assert error["type"] == "error" and error["code"] == "no_floor" and error.get("ref") is None
    assert await peer.nothing_more()


async def test_successful_frame_with_ref_gets_exactly_one_ack(connect, live_group, alex):
    peer, _ = await connect(alex, live_group.pk)
    await peer.send(type="hand.lower", ref="only-once")
    assert await peer.receive() == {"type": "ack", "ref": "only-once"}
    assert await peer.nothing_more()


async def test_ref_of_exactly_64_characters_is_echoed(connect, live_group, alex):
    peer, _ = await connect(alex, live_group.pk)
    ref = "é" * 64
    await peer.send(type="hand.lower", ref=ref)
    assert await peer.receive() == {"type": "ack", "ref": ref}


async def test_successful_frame_without_ref_gets_no_reply(connect, live_group, alex):
    peer, _ = await connect(alex, live_group.pk)
    await peer.send(type="hand.lower")
    assert await peer.nothing_more(), "success without ref is silent"
    await still_open(peer)


async def test_successful_chat_without_ref_gets_only_the_broadcast(connect, live_group, dana):
    peer, _ = await connect(dana, live_group.pk)
    await peer.send(type="chat.send", text="Welcome, everyone")
    message = await peer.receive()
    assert message["type"] == "chat.message" and message["text"] == "Welcome, everyone"
    assert await peer.nothing_more(), "no ack without ref"


async def test_successful_chat_with_ref_gets_one_ack_beside_the_broadcast(connect, live_group, dana):
    peer, _ = await connect(dana, live_group.pk)
    await peer.send(type="chat.send", text="Welcome", ref="c1")
    frames = [await peer.receive(), await peer.receive()]
    assert await peer.nothing_more()
    assert sorted(f["type"] for f in frames) == ["ack", "chat.message"]
    ack = next(f for f in frames if f["type"] == "ack")
    assert ack["ref"] == "c1" and ack["seq"] == 1


async def test_unknown_extra_fields_are_ignored(connect, live_group, alex):
    peer, _ = await connect(alex, live_group.pk)
    answer = await peer.request("hand.lower", future_field={"x": [1, 2]}, flag=True)
    assert answer["type"] == "ack"


# ---------------------------------------------------------------- the malformed-frame burst


async def test_more_than_20_malformed_frames_in_10_s_close_with_1008(connect, live_group, dana, alex):
    await GroupSession.objects.filter(pk=live_group.pk).aupdate(mode="open")
    alex_tab1, _ = await connect(alex, live_group.pk)
    alex_tab2, _ = await connect(alex, live_group.pk)
    dana_peer, _ = await connect(dana, live_group.pk)
    for n in range(20):
        await send_raw(alex_tab1, "{broken" if n % 2 else "[]")
        assert (await reply(alex_tab1))["code"] == "invalid"
    await still_open(alex_tab1)  # twenty is not more than twenty
    await send_raw(alex_tab1, "{broken")
    assert await close_code(alex_tab1) == 1008

    # Nobody else is affected: the facilitator and Alex's other tab keep working and hear each other.
    await still_open(dana_peer)
    await still_open(alex_tab2)
    ack, before_ack = await dana_peer.request_with_events("chat.send", text="Still here")
    assert ack["type"] == "ack"
    assert (await dana_peer.event("chat.message", before_ack))["text"] == "Still here", (
        "her own copy, either side of the ack"
    )
    assert (await alex_tab2.receive_type("chat.message"))["text"] == "Still here"
    assert (await alex_tab2.request("chat.send", text="Me too"))["type"] == "ack"
    assert (await dana_peer.receive_type("chat.message"))["text"] == "Me too"


async def test_refused_actions_do_not_count_as_malformed(connect, live_group, alex):
    """not_allowed, no_floor... are answers to well-formed frames: they never close the connection."""
    peer, _ = await connect(alex, live_group.pk)
    for _ in range(25):
        assert (await peer.request("session.start"))["code"] == "not_allowed"
    await still_open(peer)


# ---------------------------------------------------------------- property: random frames never break the socket

surrogate_text = st.builds(  # valid JSON ("\ud800"), but not text that can be stored or sent on
    lambda before, surrogate, after: before + surrogate + after,
    st.text(max_size=5),
    st.integers(0xD800, 0xDFFF).map(chr),
    st.text(max_size=5),
)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.integers(min_value=-2, max_value=12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    surrogate_text,
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
small_ids = st.integers(min_value=1, max_value=12)
texts = st.one_of(st.text(max_size=40), surrogate_text, st.just(" "), st.text(min_size=1990, max_size=2010))
# Plausible values per contract field, so that many random frames pass validation and reach the actions.
PLAUSIBLE: dict[str, st.SearchStrategy[Any]] = {
    "text": texts,
    "to": st.just("facilitators"),
    "mode": st.sampled_from(["open", "moderated", "round"]),
    "seconds": st.integers(min_value=-5, max_value=1000),
    "minutes": st.integers(min_value=0, max_value=300),
    "participant_id": small_ids,
    "for_participant_id": small_ids,
    "message_id": small_ids,
    "prompt_id": small_ids,
    "category": st.sampled_from(["stress", "triggers", "medication", "mental_health", "coping", "family", "goals"]),
    "name": texts,
    "reason": texts,
}


def frame_objects(types: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    fields = st.fixed_dictionaries({}, optional={key: value | json_values for key, value in PLAUSIBLE.items()})
    odd_fields = st.dictionaries(st.text(max_size=8), json_values, max_size=3)
    return st.builds(
        lambda frame_type, fields, extra: {**extra, **fields, "type": frame_type} if frame_type != "-" else fields,
        st.one_of(st.sampled_from(types), st.sampled_from(types), st.just("-"), st.text(max_size=15), json_scalars),
        fields,
        st.one_of(st.just({}), odd_fields),
    )


# Every client frame type with the fields its schema declares (extensions included).
SHARED = {"type", "ref"}
FIELDS_BY_TYPE = {
    frame_type: [name for name in model.model_fields if name not in SHARED] for frame_type, model in FRAME_TYPES.items()
}


def typed_frames(types: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Frames of a real type with every declared field, mostly plausible: these reach the actions."""
    with_text = [t for t in types if "text" in FIELDS_BY_TYPE[t] or "name" in FIELDS_BY_TYPE[t]]

    def fields_for(frame_type: str) -> st.SearchStrategy[dict[str, Any]]:
        return st.fixed_dictionaries(
            {"type": st.just(frame_type)}
            | {name: st.one_of(PLAUSIBLE.get(name, json_values), json_values) for name in FIELDS_BY_TYPE[frame_type]}
        )

    return st.one_of(st.sampled_from(types), st.sampled_from(with_text)).flatmap(fields_for)


def anything(types: list[str]) -> st.SearchStrategy[tuple[str, Any]]:
    return st.one_of(
        st.tuples(st.just("object"), typed_frames(types)),
        st.tuples(st.just("object"), typed_frames(types)),
        st.tuples(st.just("object"), frame_objects(types)),
        st.tuples(st.just("json"), json_values.filter(lambda value: not isinstance(value, dict))),
        st.tuples(st.just("text"), st.text(max_size=200)),
        st.tuples(st.just("bytes"), st.binary(max_size=64)),
    )


def check_frame_shape(frame: Any) -> None:
    assert isinstance(frame, dict) and isinstance(frame.get("type"), str), frame
    if frame["type"] == "error":
        assert frame["code"] in CONTRACT_ERROR_CODES, frame
        assert isinstance(frame["message"], str) and frame["message"], frame
        assert frame.get("ref") is None or isinstance(frame["ref"], str)
    elif frame["type"] == "ack":
        assert isinstance(frame["ref"], str), frame


async def fuzz_once(peer: Peer, counter: itertools.count, kind: str, value: Any, with_ref: bool) -> None:
    n = next(counter)
    ref = f"fz-{n}" if with_ref else None
    if kind == "object":
        value = {k: v for k, v in value.items() if k != "ref"}
        if ref is not None:
            value["ref"] = ref
    if kind == "bytes":
        await send_bytes(peer, value)
        ref = None
    elif kind == "text":
        await send_raw(peer, value)
        ref = None  # raw text is not JSON with our ref (or, rarely, JSON without one)
    else:
        await send_raw(peer, json.dumps(value))
        if kind == "json":
            ref = None
    sentinel = f"sentinel-{n}"
    await peer.send(type="ping", ref=sentinel)  # not hand.lower: hand frames are rate limited
    frames = []
    while True:
        output = await peer.communicator.receive_output(timeout=5)
        assert output["type"] == "websocket.send", f"the connection closed: {output}"
        frame = json.loads(output["text"])
        check_frame_shape(frame)
        if frame["type"] == "ack" and frame.get("ref") == sentinel:
            break
        frames.append(frame)
    replies = [f for f in frames if f["type"] in {"ack", "error"}]
    if ref is not None:
        assert [f.get("ref") for f in replies] == [ref], f"exactly one reply carrying the ref: {replies}"
    else:
        assert len(replies) <= 1, replies
        assert all(f["type"] == "error" for f in replies), "no ack without a ref"


@pytest.fixture
def many_malformed_allowed(monkeypatch):
    """The fuzz sends far more than 20 malformed frames; the burst close is tested on its own above."""
    monkeypatch.setattr("rooms.consumers.INVALID_FRAME_BURST", 10**9)


@pytest.fixture
async def fuzz_facilitator(connect, live_group, dana, many_malformed_allowed) -> Peer:
    peer, closed = await connect(dana, live_group.pk)
    assert closed is None
    return peer


@pytest.fixture
async def fuzz_patient(connect, live_group, alex, many_malformed_allowed) -> Peer:
    await GroupSession.objects.filter(pk=live_group.pk).aupdate(mode="open")
    peer, closed = await connect(alex, live_group.pk)
    assert closed is None
    return peer


FUZZ_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# The facilitator's fuzz must not end the session: that closes everyone on purpose (4410).
ENDS = {"session.end"}
FACILITATOR_TYPES = sorted(FRAME_TYPES.keys() - ENDS)
PATIENT_TYPES = sorted(FRAME_TYPES)


@FUZZ_SETTINGS
@given(
    sent=anything(FACILITATOR_TYPES).filter(lambda sent: not (sent[0] == "object" and sent[1].get("type") in ENDS)),
    with_ref=st.booleans(),
)
async def test_random_frames_from_a_facilitator_never_break_the_connection(fuzz_facilitator, sent, with_ref):
    await fuzz_once(fuzz_facilitator, COUNTER, sent[0], sent[1], with_ref)


@FUZZ_SETTINGS
@given(sent=anything(PATIENT_TYPES), with_ref=st.booleans())
async def test_random_frames_from_a_patient_never_break_the_connection(fuzz_patient, sent, with_ref):
    await fuzz_once(fuzz_patient, COUNTER, sent[0], sent[1], with_ref)


COUNTER = itertools.count()


async def test_the_fuzzed_room_is_still_consistent_for_others(connect, live_group, dana, alex, many_malformed_allowed):
    """A patient's malformed and refused frames reach nobody: the facilitator hears nothing of them."""
    dana_peer, _ = await connect(dana, live_group.pk)
    alex_peer, _ = await connect(alex, live_group.pk)
    await dana_peer.receive_type("participant.joined")
    for raw in ["{x", "[]", '{"type": "floor.grant", "participant_id": "1"}', '{"type": "session.end"}']:
        await send_raw(alex_peer, raw)
        assert (await reply(alex_peer))["type"] == "error"
    assert await dana_peer.nothing_more()
    assert (await dana_peer.request("floor.grant", participant_id=await pid(live_group, alex)))["type"] == "ack"
