"""Every private part of a dependency that Circle relies on, checked against the pinned version (issue 21).

Circle reaches past the public API of channels, channels-redis, daphne, Twisted,
autobahn, asgiref, redis-py and Django in a few places, each for a reason given where it
does so. An upgrade may move any of them without a word in a changelog, and most
would then fail quietly (a log line no longer redacted, a slow reader no longer
dropped, a Redis outage no longer noticed). Each test here names the dependency,
the version pinned in requirements.txt and what Circle uses the part for.

Where Circle copies or overrides a dependency's method, the test compares a
fingerprint of that method's code (its syntax tree without comments or docstring,
so a reformatting does not count) with the pinned version's. When one fails after
an upgrade: read the new method, bring Circle's copy or override in line with it
(or drop it, if the reason is gone), then put the new fingerprint here.

Django's `Model._state` (rooms/actions/chat.py) is not listed: it is documented API.
"""

from __future__ import annotations

import ast
import asyncio
import datetime
import functools
import hashlib
import importlib.metadata
import importlib.util
import inspect
import io
import re
import secrets
import textwrap
from pathlib import Path
from typing import Any

import daphne.server
import pytest
from asgiref.sync import SyncToAsync, sync_to_async
from autobahn.exception import Disconnected
from autobahn.websocket.protocol import WebSocketProtocol as AutobahnProtocol
from channels.consumer import AsyncConsumer, get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from channels.sessions import InstanceSessionWrapper, SessionMiddleware
from channels_redis.core import RedisChannelLayer
from daphne.access import AccessLogGenerator
from daphne.server import Server
from daphne.ws_protocol import WebSocketProtocol as DaphneProtocol
from django.utils.translation.trans_real import parse_accept_lang_header
from redis.asyncio import Redis
from twisted.internet import abstract, asyncioreactor, tcp

from config.security import redact_daphne_access_log
from rooms.outbound import protocol_of, unsent_bytes

REQUIREMENTS = Path(__file__).resolve().parent.parent / "requirements.txt"


def pinned(distribution: str) -> str:
    """The version requirements.txt pins for this distribution (and, if it differs, the one installed)."""
    wanted = re.sub(r"[-_.]+", "-", distribution).lower()
    for line in REQUIREMENTS.read_text().splitlines():
        name, _, version = line.split("#")[0].strip().partition("==")
        if re.sub(r"[-_.]+", "-", name.split("[")[0]).lower() == wanted:
            installed = importlib.metadata.version(distribution)
            return version if installed == version else f"{version} (installed: {installed})"
    raise AssertionError(f"{distribution} is not pinned in requirements.txt")


def broken(distribution: str, part: str, use: str, found: str) -> str:
    return (
        f"{distribution} {pinned(distribution)}: {part} is not what Circle relies on ({found}). "
        f"Circle uses it for: {use}"
    )


def fingerprint(function: Any) -> str:
    """A hash of the function's code: its syntax tree without comments and without its docstring."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    definition = tree.body[0]
    assert isinstance(definition, ast.FunctionDef | ast.AsyncFunctionDef)
    body = definition.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        definition.body = body[1:] or [ast.Pass()]
    definition.name = "_"  # the name is checked where it matters (a copy may have another)
    return hashlib.sha256(ast.unparse(tree).encode()).hexdigest()[:16]


def check_fingerprint(distribution: str, function: Any, expected: str, use: str) -> None:
    found = fingerprint(function)
    assert found == expected, broken(
        distribution,
        f"{function.__module__}.{function.__qualname__}",
        use,
        f"its code changed: fingerprint {found}, pinned version's {expected}; re-read it, update Circle's "
        "code named here, then this fingerprint",
    )


def parameters(function: Any) -> list[str]:
    return list(inspect.signature(function).parameters)


def source(function: Any) -> str:
    """The function's code, normalized as `fingerprint` reads it (one space between tokens, no comments)."""
    return ast.unparse(ast.parse(textwrap.dedent(inspect.getsource(function))))


# ---------------------------------------------------------------- channels


def test_channels_consumer_dispatch_that_the_room_consumer_replaces() -> None:
    use = (
        "rooms/consumers.py RoomConsumer.dispatch is AsyncConsumer.dispatch without its "
        "aclose_old_connections() before every handler (a hop to Channels' one thread-sensitive "
        "thread per frame; docs/performance-journal.md)"
    )
    check_fingerprint("channels", AsyncConsumer.dispatch, "79184821ebac9a35", use)
    assert "dispatch" not in vars(AsyncWebsocketConsumer), broken(
        "channels", "AsyncWebsocketConsumer.dispatch", use, "AsyncWebsocketConsumer now has a dispatch of its own"
    )
    assert get_handler_name({"type": "websocket.receive"}) == "websocket_receive", broken(
        "channels", "channels.consumer.get_handler_name", use, "a message type no longer maps to its handler's name"
    )


def test_channels_consumer_without_a_layer_channel() -> None:
    use = (
        "rooms/consumers.py RoomConsumer.channel_layer_alias = None: no layer channel (a receive "
        "task and a queue) per socket, since room events reach sockets through the worker's hub"
    )
    assert get_channel_layer(None) is None, broken(  # type: ignore[arg-type]  # None is what Circle sets
        "channels", "get_channel_layer(None)", use, "it no longer returns None"
    )
    assert "if self.channel_layer is not None:" in source(AsyncConsumer.__call__), broken(
        "channels", "AsyncConsumer.__call__", use, "it no longer skips the layer when there is none"
    )


def test_channels_session_middleware_that_the_socket_stack_reproduces() -> None:
    use = (
        "rooms/socket_session.py SocketSessionMiddleware.__call__ resolves the session with "
        "InstanceSessionWrapper(scope, send).resolve_session() as SessionMiddleware.__call__ does, "
        "but hands on the server's own send (not the wrapper's, which checks the session on every frame)"
    )
    check_fingerprint("channels", SessionMiddleware.__call__, "f31ade5341fceb04", use)
    assert parameters(InstanceSessionWrapper.__init__) == ["self", "scope", "send"], broken(
        "channels", "InstanceSessionWrapper.__init__", use, f"its parameters are {parameters(InstanceSessionWrapper)}"
    )
    assert inspect.iscoroutinefunction(InstanceSessionWrapper.resolve_session), broken(
        "channels", "InstanceSessionWrapper.resolve_session", use, "it is no longer a coroutine function"
    )


# ---------------------------------------------------------------- channels-redis: the default layer


CORE_LAYER_USE = (
    "rooms/core_layer.py BatchedRedisChannelLayer writes and reads channels-redis's own keys "
    "(a channel: a sorted set at prefix + name scored by time, its members serialized messages; "
    "a group: a sorted set at '<prefix>:group:<name>' of channel names scored by time) in its own "
    "Lua scripts and ZPOPMIN batches, with the same capacity, expiry and group expiry"
)


@pytest.fixture
def redis_layer() -> Any:
    # Never connects: nothing below makes a round trip to Redis.
    return RedisChannelLayer(hosts=["redis://127.0.0.1:1/0"], prefix="contract", capacity=7, group_expiry=11)


def test_channels_redis_key_layout(redis_layer: Any) -> None:
    assert redis_layer._group_key("room.1") == b"contract:group:room.1", broken(
        "channels-redis", "RedisChannelLayer._group_key (a group's key)", CORE_LAYER_USE, "another key"
    )
    message = {"type": "room.event", "n": 1}
    by_connection, messages, capacities = redis_layer._map_channel_keys_to_connection(["circle-hub.w.0"], message)
    assert dict(by_connection) == {0: ["contractcircle-hub.w.0"]} and capacities == {"contractcircle-hub.w.0": 7}, (
        broken(
            "channels-redis",
            "RedisChannelLayer._map_channel_keys_to_connection (a plain channel's key and capacity)",
            CORE_LAYER_USE,
            f"{dict(by_connection)}, {capacities}",
        )
    )
    delivered = redis_layer.deserialize(messages["contractcircle-hub.w.0"])
    assert delivered == {**message, "__asgi_channel__": ["circle-hub.w.0"]}, broken(
        "channels-redis",
        "a group message as stored for a channel",
        CORE_LAYER_USE + " (BatchedRedisChannelLayer._unpack drops __asgi_channel__)",
        repr(delivered),
    )
    assert redis_layer.serialize(message) != redis_layer.serialize(message), broken(
        "channels-redis",
        "RedisChannelLayer.serialize",
        CORE_LAYER_USE + " (equal messages must stay distinct members of a sorted set)",
        "two serializations of one message are equal: no random prefix",
    )


def test_channels_redis_members_the_core_layer_uses(redis_layer: Any) -> None:
    for name, value in {
        "prefix": "contract",
        "capacity": 7,
        "group_expiry": 11,
        "expiry": 60,
        "ring_size": 1,
        "brpop_timeout": 5,
    }.items():
        assert getattr(redis_layer, name, None) == value, broken(
            "channels-redis", f"RedisChannelLayer.{name}", CORE_LAYER_USE, f"{getattr(redis_layer, name, None)!r}"
        )
    assert not redis_layer.channel_capacity, broken(
        "channels-redis",
        "RedisChannelLayer.channel_capacity",
        CORE_LAYER_USE + " (its one-round-trip group_send only when no channel has a capacity of its own)",
        f"{redis_layer.channel_capacity!r} without per-channel capacities",
    )
    for method in (
        "connection",
        "consistent_hash",
        "require_valid_channel_name",
        "require_valid_group_name",
        "serialize",
        "deserialize",
        "flush",
        "receive",
        "group_send",
    ):
        assert callable(getattr(RedisChannelLayer, method, None)), broken(
            "channels-redis", f"RedisChannelLayer.{method}", CORE_LAYER_USE, "it is gone"
        )
    # The hub's lanes are plain channels read with receive (rooms.hub.lane_channels).
    assert redis_layer.require_valid_channel_name("circle-hub.w.0", receive=True), broken(
        "channels-redis", "require_valid_channel_name(receive=True)", CORE_LAYER_USE, "a lane name is refused"
    )


def test_channels_redis_methods_the_core_layer_reproduces() -> None:
    for method, expected in {
        # Writes a channel's messages, as the scripts' ZADD/EXPIRE after trimming and a capacity check.
        "send": "a8c34a8d89caebeb",
        # Reads them (BZPOPMIN), as BatchedRedisChannelLayer._pop_batch does (ZPOPMIN, then BZPOPMIN).
        "receive_single": "d047d8acb74bebc1",
        # A group's members and their expiry, which GROUP_SEND_SCRIPT reads and trims.
        "group_add": "a79ef0ea6e3acc05",
        # What GROUP_SEND_SCRIPT does in one round trip instead of four.
        "group_send": "caf4e9b13b272a23",
        # Called by BatchedRedisChannelLayer._send_to_channels for the "!" members.
        "_map_channel_keys_to_connection": "017b2d664c69d732",
    }.items():
        check_fingerprint("channels-redis", getattr(RedisChannelLayer, method), expected, CORE_LAYER_USE)


def test_channels_redis_backup_cleaner_by_name(redis_layer: Any) -> None:
    use = (
        "rooms/hub.py quiet_layer_cleaners recognises the task channels-redis fires after each receive "
        "by its coroutine's name (_clean_receive_backup), to log one line instead of an unretrieved "
        "exception's traceback when Redis drops"
    )
    assert "asyncio.ensure_future(self._clean_receive_backup(index, channel_key))" in source(
        RedisChannelLayer.receive_single
    ), broken("channels-redis", "RedisChannelLayer.receive_single", use, "it no longer fires that task")
    coroutine = redis_layer._clean_receive_backup(0, "contractchannel")
    try:
        assert "_clean_receive_backup" in coroutine.__qualname__, broken(
            "channels-redis", "RedisChannelLayer._clean_receive_backup", use, f"its name is {coroutine.__qualname__}"
        )
    finally:
        coroutine.close()


async def test_channels_redis_connection_the_hub_probes(redis_layer: Any) -> None:
    use = (
        "rooms/hub.py ping_layer and reconnect_layer ping each shard's connection(index) and "
        "disconnect its pool after an outage"
    )
    connection = redis_layer.connection(0)  # a pool, not a connection yet
    assert isinstance(connection, Redis), broken(
        "channels-redis", "RedisChannelLayer.connection(index)", use, f"it returns {type(connection)}"
    )
    assert callable(connection.ping) and callable(connection.connection_pool.disconnect), broken(
        "redis", "Redis.ping, ConnectionPool.disconnect", use, "one is gone"
    )
    await redis_layer.close_pools()


# ---------------------------------------------------------------- daphne, Twisted, autobahn


def daphne_access_module() -> Any:
    """A fresh copy of daphne.access: Circle's AppConfig has already wrapped the imported one's write_entry."""
    spec = importlib.util.find_spec("daphne.access")
    assert spec is not None and spec.origin is not None
    fresh = importlib.util.spec_from_file_location("daphne_access_as_pinned", spec.origin)
    assert fresh is not None and fresh.loader is not None
    module = importlib.util.module_from_spec(fresh)
    fresh.loader.exec_module(module)
    return module


def test_daphne_access_log_that_circle_redacts() -> None:
    use = (
        "config/security.py redact_daphne_access_log wraps AccessLogGenerator.write_entry to redact "
        "the request line (guests' join tokens): daphne writes its access log to stdout, past logging"
    )
    original = daphne_access_module().AccessLogGenerator
    assert parameters(original.write_entry)[:4] == ["self", "host", "date", "request"], broken(
        "daphne", "AccessLogGenerator.write_entry", use, f"its parameters are {parameters(original.write_entry)}"
    )
    assert "self.write_entry(" in source(original.__call__), broken(
        "daphne", "AccessLogGenerator.__call__", use, "it no longer writes through write_entry"
    )
    redact_daphne_access_log()
    stream = io.StringIO()
    token = secrets.token_urlsafe(24)  # as a guest's join link carries it
    details = {"client": "192.0.2.1:5000", "method": "GET", "path": f"/join/{token}/", "status": 200, "size": 1}
    AccessLogGenerator(stream)("http", "complete", details)
    AccessLogGenerator(stream)("websocket", "connecting", {"client": "192.0.2.1:5000", "path": f"/join/{token}/"})
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and all("[redacted]" in line and token not in line for line in lines), broken(
        "daphne", "AccessLogGenerator", use, f"a join token reached the log: {lines!r}"
    )


def test_daphne_send_carries_its_protocol() -> None:
    use = (
        "rooms/outbound.py protocol_of finds the WebSocket's protocol (hence its TCP transport) in the "
        "send daphne hands the application, a functools.partial of Server.handle_reply bound to it; "
        "OutboundLimit then closes with 1012/1013 through autobahn's sendCloseFrame"
    )
    assert "send=partial(self.handle_reply, protocol)" in source(Server.create_application), broken(
        "daphne", "Server.create_application", use, "send is no longer a partial of handle_reply with the protocol"
    )
    assert issubclass(DaphneProtocol, AutobahnProtocol), broken(
        "daphne", "daphne.ws_protocol.WebSocketProtocol", use, "it is no longer autobahn's protocol"
    )
    close_frame = parameters(AutobahnProtocol.sendCloseFrame)
    assert close_frame == ["self", "code", "reasonUtf8", "isReply"], broken(
        "autobahn", "WebSocketProtocol.sendCloseFrame", use, f"its parameters are {close_frame}"
    )
    protocol = DaphneProtocol()

    async def handle_reply(protocol: Any, message: dict[str, Any]) -> None:
        """Stands for the bound Server.handle_reply."""

    assert protocol_of(functools.partial(handle_reply, protocol)) is protocol


def test_autobahn_send_after_close_raises_disconnected() -> None:
    use = "rooms/outbound.py drops a frame sent after the close, which autobahn refuses with Disconnected"
    assert issubclass(Disconnected, Exception)
    assert "raise Disconnected(" in inspect.getsource(AutobahnProtocol.sendMessage), broken(
        "autobahn", "WebSocketProtocol.sendMessage", use, "it no longer raises Disconnected on a closed protocol"
    )


def test_twisted_write_buffers_that_bound_a_slow_reader() -> None:
    use = (
        "rooms/outbound.py unsent_bytes reads FileDescriptor's two write buffers "
        "(len(dataBuffer) - offset + _tempDataLen) to drop a socket whose client stopped reading"
    )
    assert issubclass(tcp.Server, abstract.FileDescriptor) and callable(tcp.Connection.abortConnection), broken(
        "Twisted", "twisted.internet.tcp.Server", use, "no longer a FileDescriptor with abortConnection"
    )

    class Reactor:
        def addWriter(self, writer: object) -> None: ...
        def removeWriter(self, writer: object) -> None: ...

    class Socket(abstract.FileDescriptor):
        """Takes `accepts` bytes per doWrite, as a socket whose peer reads slowly."""

        accepts = 0
        connected = 1

        def writeSomeData(self, data: bytes) -> int:
            return min(len(data), self.accepts)

    transport = Socket(reactor=Reactor())  # type: ignore[arg-type]  # a stand-in: only addWriter/removeWriter are used
    for write, accepts, unsent in ((b"a" * 10, None, 10), (None, 4, 6), (b"b" * 5, None, 11), (None, 100, 0)):
        if write is not None:
            transport.write(write)
        if accepts is not None:
            transport.accepts = accepts
            transport.doWrite()
        assert unsent_bytes(transport) == unsent, broken(
            "Twisted", "FileDescriptor.dataBuffer/offset/_tempDataLen", use, f"{unsent_bytes(transport)} != {unsent}"
        )


def test_twisted_reactor_that_the_graceful_shutdown_finds() -> None:
    use = (
        "rooms/shutdown.py recognises daphne's reactor as Twisted's asyncio reactor running this very "
        "loop (reactor._asyncioEventloop, reactor.running), stops its listening ports "
        "(getReaders, tcp.Port.stopListening) and then the reactor"
    )
    loop = asyncio.new_event_loop()
    try:
        # A reactor of its own, not installed: twisted.internet.reactor stays unimported.
        reactor = asyncioreactor.AsyncioSelectorReactor(loop)
        assert reactor._asyncioEventloop is loop, broken(
            "Twisted", "AsyncioSelectorReactor._asyncioEventloop", use, "it is not the reactor's loop"
        )
        assert reactor.running is False, broken(
            "Twisted", "ReactorBase.running", use, f"{reactor.running!r} before the reactor runs"
        )
        reactor.disconnectAll()
    finally:
        loop.close()
    for owner, name in (
        (asyncioreactor.AsyncioSelectorReactor, "getReaders"),
        (asyncioreactor.AsyncioSelectorReactor, "stop"),
        (tcp.Port, "stopListening"),
    ):
        assert callable(getattr(owner, name, None)), broken("Twisted", f"{owner.__name__}.{name}", use, "it is gone")
    assert "asyncioreactor.install(" in Path(inspect.getfile(daphne.server)).read_text(), broken(
        "daphne", "daphne.server", use, "it no longer installs Twisted's asyncio reactor"
    )


# ---------------------------------------------------------------- Django


def test_django_accept_language_parser() -> None:
    use = (
        "accounts/language.py picks a WebSocket's language from its Accept-Language header with "
        "trans_real.parse_accept_lang_header (Django's own parser, not public API): (code, quality) "
        "pairs, codes lowercased, best first"
    )
    parsed = parse_accept_lang_header("es-MX,es;q=0.9,en;q=0.8,*;q=0.1")
    assert parsed == (("es-mx", 1.0), ("es", 0.9), ("en", 0.8), ("*", 0.1)), broken(
        "Django", "django.utils.translation.trans_real.parse_accept_lang_header", use, repr(parsed)
    )
    assert parse_accept_lang_header("not;;a header") == (), broken(
        "Django", "django.utils.translation.trans_real.parse_accept_lang_header", use, "a malformed header parses"
    )


# ---------------------------------------------------------------- asgiref


async def test_asgiref_thread_knows_its_event_loop() -> None:
    use = (
        "rooms/broadcast.py publish hands an action's events to its worker's event loop, which it finds "
        "in SyncToAsync.threadlocal.main_event_loop on the thread that runs the action"
    )
    loop = await sync_to_async(lambda: getattr(SyncToAsync.threadlocal, "main_event_loop", None))()
    assert loop is asyncio.get_running_loop(), broken(
        "asgiref", "SyncToAsync.threadlocal.main_event_loop", use, f"{loop!r} in the action's thread"
    )


def test_the_fingerprint_sees_code_not_comments() -> None:
    """The check itself: a comment, a docstring or the name does not change a fingerprint; a statement does."""

    def before(x: int) -> datetime.timedelta:
        """One."""
        return datetime.timedelta(seconds=x)  # a comment

    def after(x: int) -> datetime.timedelta:
        """Two, longer."""
        return datetime.timedelta(
            seconds=x,
        )

    def changed(x: int) -> datetime.timedelta:
        return datetime.timedelta(seconds=x + 1)

    assert fingerprint(before) == fingerprint(after)
    assert fingerprint(before) != fingerprint(changed)
