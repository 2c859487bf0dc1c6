"""The one table of client frames (rooms.frames): the union, the parser and the handlers follow from it."""

from __future__ import annotations

import json
import typing

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from rooms import frames
from rooms.errors import ActionError
from rooms.frames import CLIENT_FRAMES, FRAME_TYPES, FrameHandlers, Sender, parse_client_frame
from rooms.schemas import ChatSend, ClientFrame, ModeSet, Ping, PromptPost

# The names on the wire (docs/protocol.md): the table may grow, never rename or drop one.
WIRE_NAMES = {
    "chat.send", "private.send", "hand.raise", "hand.lower", "hand.clear", "ping", "floor.yield",
    "session.start", "session.end", "mode.set", "floor.grant", "floor.revoke", "round.next", "prompt.post",
    "participant.mute", "participant.unmute", "participant.remove", "message.remove", "slowmode.set",
    "lobby.admit", "lobby.deny", "invite.create", "invite.revoke", "invite.decline", "lobby.return", "lobby.say",
    "agenda.add", "agenda.remove", "agenda.move", "agenda.next",
}  # fmt: skip


def test_every_frame_type_of_the_table_has_exactly_one_handler():
    assert frames.unhandled_frame_types() == []
    assert set(frames._handlers) == set(CLIENT_FRAMES)
    frames.check_frame_handlers()  # what config.asgi runs at start-up


def test_the_table_is_every_client_schema_once():
    assert list(FRAME_TYPES.values()) == list(CLIENT_FRAMES)
    schemas = {model for model in ClientFrame.__subclasses__() if model.__module__ == "rooms.schemas"}
    assert schemas == set(CLIENT_FRAMES), "a client schema is missing from the table"
    assert len(FRAME_TYPES) == len(CLIENT_FRAMES), "two schemas share a frame type"


def test_the_names_on_the_wire_are_kept():
    assert set(FRAME_TYPES) >= WIRE_NAMES


@pytest.mark.parametrize("schema", CLIENT_FRAMES, ids=frames.frame_type_of)
def test_each_handler_takes_its_own_schema(schema):
    handler = frames._handlers[schema]
    hints = typing.get_type_hints(handler)
    assert hints["sender"] is Sender
    assert hints["frame"] is schema, f"{handler.__qualname__} should take a {schema.__name__}"


def test_a_second_handler_for_a_handled_frame_is_refused_and_the_first_stays():
    first = frames._handlers[Ping]
    other = FrameHandlers()

    @other.of(Ping)
    async def ping_again(sender: Sender, frame: Ping) -> None:
        """Never registered."""

    with pytest.raises(ImproperlyConfigured, match=r"ping has two handlers: rooms\.frame_handlers\.ping and"):
        other.register()
    assert frames._handlers[Ping] is first


def test_one_app_cannot_give_a_frame_two_handlers():
    handlers = FrameHandlers()

    @handlers.of(ChatSend)
    async def one(sender: Sender, frame: ChatSend) -> None:
        """Never registered."""

    with pytest.raises(ImproperlyConfigured, match=r"chat\.send has two handlers"):

        @handlers.of(ChatSend)
        async def two(sender: Sender, frame: ChatSend) -> None:
            """Never registered."""


def test_a_schema_outside_the_table_cannot_get_a_handler():
    class Stray(ClientFrame):
        type: typing.Literal["stray.frame"]

    with pytest.raises(ImproperlyConfigured, match=r"Stray is not in rooms\.frames\.CLIENT_FRAMES"):
        FrameHandlers().of(Stray)


def test_start_up_fails_naming_a_frame_type_without_a_handler(monkeypatch):
    monkeypatch.delitem(frames._handlers, ModeSet)
    assert frames.unhandled_frame_types() == ["mode.set"]
    with pytest.raises(ImproperlyConfigured, match=r"client frame types without a handler: mode\.set$"):
        frames.check_frame_handlers()


async def test_dispatch_runs_the_handler_of_the_frames_schema(monkeypatch):
    seen = []

    async def record(sender: Sender, frame: Ping) -> frames.AckFields:
        seen.append((sender, frame))
        return {"pong": 1}

    monkeypatch.setitem(frames._handlers, Ping, record)
    sender = Sender(session_id=1, participant_id=2, at=timezone.now())
    frame = parse_client_frame('{"type": "ping", "ref": "r1"}')
    assert await frames.dispatch(sender, frame) == {"pong": 1}
    assert seen == [(sender, Ping(type="ping", ref="r1"))]


def test_enum_fields_take_the_words_on_the_wire():
    mode_set = parse_client_frame(json.dumps({"type": "mode.set", "mode": "round", "seconds": 30}))
    assert isinstance(mode_set, ModeSet)
    assert mode_set.mode == "round"
    post = parse_client_frame(json.dumps({"type": "prompt.post", "category": "mental_health", "text": "How?"}))
    assert isinstance(post, PromptPost)
    assert post.category == "mental_health"
    with pytest.raises(ActionError, match="mode: Input should be 'open', 'moderated' or 'round'"):
        parse_client_frame(json.dumps({"type": "mode.set", "mode": "silent"}))
    with pytest.raises(ActionError, match="category: Input should be 'stress'"):
        parse_client_frame(json.dumps({"type": "prompt.post", "category": "Stress", "text": "x"}))
