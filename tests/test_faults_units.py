"""The fault-handling pieces on their own (the end-to-end proofs are tests/test_faults_*.py).

- DatabaseBreaker: refuses at once while PostgreSQL is known to be unreachable,
  probes with one call at a time, and is not tripped by an ordinary failed statement;
- OutboundLimit: drops a connection whose unread bytes pass the bound, sends
  1012/1013 through autobahn's low-level close, drops frames after a close, and
  answers a database failure before the handshake with 1013;
- the hub: no stale-connection sweep right after a database outage, the
  heartbeat's reconciliation of presence rows with open sockets, and a channel
  layer that stops answering: an outage, with nothing live until the resync.
"""

from __future__ import annotations

import asyncio
import functools
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.db import OperationalError
from django.utils import timezone

from rooms import hub as hub_module
from rooms.broadcast import room_group
from rooms.faults import DatabaseBreaker, DatabaseUnavailable
from rooms.hub import get_hub, quiet_layer_cleaners
from rooms.models import Connection
from rooms.outbound import OutboundLimit
from tests.conftest import after_the_grace, participant, set_room

# ---------------------------------------------------------------- the breaker


def connection_failure() -> OperationalError:
    """What Django raises when psycopg_pool could not hand out a connection in time."""
    from psycopg_pool import PoolTimeout

    try:
        try:
            raise PoolTimeout("couldn't get a connection after 3.00 sec")
        except PoolTimeout as cause:
            raise OperationalError("couldn't get a connection") from cause
    except OperationalError as error:
        return error


def statement_failure() -> OperationalError:
    """A deadlock: the database answered, so it is up."""
    from psycopg import errors

    try:
        try:
            raise errors.DeadlockDetected("deadlock detected")
        except errors.DeadlockDetected as cause:
            raise OperationalError("deadlock detected") from cause
    except OperationalError as error:
        return error


async def test_breaker_refuses_at_once_after_a_connection_failure_then_probes_one_call_at_a_time():
    breaker = DatabaseBreaker()
    calls: list[str] = []
    outcome: dict[str, BaseException | None] = {"next": connection_failure()}
    release = asyncio.Event()

    async def action(name: str) -> str:
        calls.append(name)
        if name == "probe":
            await release.wait()
        error = outcome["next"]
        if error is not None:
            raise error
        return name

    guarded = breaker.wrap(action)
    with pytest.raises(OperationalError) as first:
        await guarded("first")
    assert not isinstance(first.value, DatabaseUnavailable)  # the real failure reaches the caller
    with pytest.raises(DatabaseUnavailable):  # refused without a try
        await guarded("refused")
    assert calls == ["first"]

    breaker.open_until -= DatabaseBreaker.OPEN_SECONDS  # the open period has passed
    outcome["next"] = None
    probe = asyncio.create_task(guarded("probe"))
    await asyncio.sleep(0)
    with pytest.raises(DatabaseUnavailable):  # one probe at a time
        await guarded("while probing")
    release.set()
    assert await probe == "probe"
    assert await guarded("after") == "after"  # the database answered: closed again
    assert calls == ["first", "probe", "after"]


async def test_breaker_is_not_tripped_by_a_failed_statement():
    breaker = DatabaseBreaker()

    async def deadlocked() -> None:
        raise statement_failure()

    with pytest.raises(OperationalError):
        await breaker.wrap(deadlocked)()
    assert not breaker.is_open
    assert breaker.admit()


# ---------------------------------------------------------------- the outbound limit


class FakeTransport:
    """twisted.internet.abstract.FileDescriptor's buffer attributes; this client never reads."""

    def __init__(self) -> None:
        self.dataBuffer = b""
        self.offset = 0
        self._tempDataLen = 0
        self.aborted = False

    def abortConnection(self) -> None:
        self.aborted = True
        self._tempDataLen = 0


class FakeProtocol:
    def __init__(self) -> None:
        self.transport = FakeTransport()
        self.close_frames: list[int | None] = []

    def sendCloseFrame(self, code: int | None = None, reasonUtf8: bytes | None = None, isReply: bool = False) -> None:
        self.close_frames.append(code)


class FakeServer:
    """daphne.server.Server.handle_reply, which the real send is a partial of."""

    def __init__(self) -> None:
        self.replies: list[dict] = []

    async def handle_reply(self, protocol: FakeProtocol, message: dict) -> None:
        self.replies.append(message)
        if message["type"] == "websocket.send":
            protocol.transport._tempDataLen += len(message.get("text") or "")


def daphne_send() -> tuple[FakeServer, FakeProtocol, functools.partial]:
    server, protocol = FakeServer(), FakeProtocol()
    return server, protocol, functools.partial(server.handle_reply, protocol)


async def nothing_to_receive() -> dict:
    return {"type": "websocket.disconnect"}


async def test_a_connection_that_stops_reading_is_aborted_once_past_its_bound(settings):
    settings.CIRCLE = {**settings.CIRCLE, "OUTBOUND_BUFFER_KIB": 16}
    server, protocol, send = daphne_send()
    state = "x" * 6000  # the first frame may be big: the bound grows by the largest frame

    async def app(scope, receive, send):
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": state})
        for _ in range(30):
            await send({"type": "websocket.send", "text": "y" * 1000})

    await OutboundLimit(app)({"type": "websocket"}, nothing_to_receive, send)
    sent = [m for m in server.replies if m["type"] == "websocket.send"]
    # 6,000 + 1,000 x n unsent: the frame that finds more than 16 KiB + 6,000 unsent aborts.
    assert len(sent) == 1 + 17
    assert protocol.transport.aborted


async def test_close_codes_that_mean_reconnect_go_out_and_nothing_follows_a_close():
    server, protocol, send = daphne_send()

    async def app(scope, receive, send):
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": 1012})
        await send({"type": "websocket.send", "text": "too late"})
        await send({"type": "websocket.close", "code": 1000})

    await OutboundLimit(app)({"type": "websocket"}, nothing_to_receive, send)
    assert protocol.close_frames == [1012]  # autobahn's sendClose would refuse 1012
    assert server.replies == [{"type": "websocket.accept"}]

    server, protocol, send = daphne_send()

    async def app_4403(scope, receive, send):
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": 4403})

    await OutboundLimit(app_4403)({"type": "websocket"}, nothing_to_receive, send)
    assert protocol.close_frames == []
    assert server.replies[-1] == {"type": "websocket.close", "code": 4403}


async def test_a_database_failure_before_the_handshake_is_answered_with_1013():
    server, protocol, send = daphne_send()

    async def app(scope, receive, send):
        raise connection_failure()  # Channels' AuthMiddleware reading the session

    await OutboundLimit(app)({"type": "websocket"}, nothing_to_receive, send)
    assert server.replies == [{"type": "websocket.accept"}]
    assert protocol.close_frames == [1013]


# ---------------------------------------------------------------- the hub


async def test_no_sweep_right_after_a_database_outage(monkeypatch, settings):
    """Every row looks stale after an outage; only STALE seconds after a heartbeat got through may one sweep."""
    swept: list[object] = []
    monkeypatch.setattr(hub_module, "do_sweep_stale_connections", lambda now: swept.append(now))
    hub = get_hub()
    loop = asyncio.get_running_loop()

    hub.database_ok_since = None  # a background duty just failed for want of the database
    await hub._sweep()
    hub.database_ok_since = loop.time()  # a heartbeat just got through again
    await hub._sweep()
    assert swept == []
    hub.database_ok_since = loop.time() - settings.CIRCLE["STALE_SECONDS"] - 0.1
    await hub._sweep()
    assert len(swept) == 1


async def test_a_failing_duty_marks_the_database_as_away():
    hub = get_hub()
    hub.database_ok_since = asyncio.get_running_loop().time()

    async def heartbeat() -> None:
        raise OperationalError("server closed the connection unexpectedly")

    await hub._run_guarded("heartbeat", heartbeat)  # one run, as the hub's loop makes every period
    assert hub.database_ok_since is None


@pytest.mark.usefixtures("transactional_db")
async def test_heartbeat_reconciles_rows_with_sockets(connect, live_group, alex, sam, jordan, dana):
    """A socket whose row vanished is asked to reconnect; a row with no socket behind it is closed."""
    dana_peer, _ = await connect(dana, live_group.pk)
    sam_peer, _ = await connect(sam, live_group.pk)
    hub = get_hub()
    sam_row = await Connection.objects.select_related("participant").aget(
        participant__member=sam, participant__session=live_group
    )
    # Swept by another worker while this one could not reach the database:
    await Connection.objects.filter(pk=sam_row.pk).adelete()
    # A disconnect that could not be recorded: Jordan's row stays behind without a socket.
    jordan_participant = await sync_to_async(participant)(live_group, jordan)
    long_ago = timezone.now() - timedelta(minutes=5)
    await Connection.objects.acreate(
        id="f" * 32, participant=jordan_participant, worker_id=hub.worker_id, opened_at=long_ago, seen_at=long_ago
    )

    await hub._heartbeat()

    _, code = await sam_peer.until_close()  # after any event already on its way (its own arrival)
    assert code == 1012
    await after_the_grace()
    left = await dana_peer.receive_type("participant.left")
    assert left["participant_id"] == jordan_participant.pk
    assert not await Connection.objects.filter(pk="f" * 32).aexists()


@pytest.fixture
def silent_layer(monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    """The hub's pings of the channel layer go unanswered until the event is set (as with a SIGSTOPped Redis);
    its watch looks often and gives up soon."""
    answering = asyncio.Event()

    async def ping_layer(layer: object) -> None:
        await answering.wait()

    monkeypatch.setattr(hub_module, "ping_layer", ping_layer)
    monkeypatch.setattr(hub_module, "LAYER_WATCH_SECONDS", 0.05)
    monkeypatch.setattr(hub_module, "LAYER_ANSWER_SECONDS", 0.2)
    return answering


@pytest.mark.usefixtures("transactional_db")
async def test_a_layer_that_stops_answering_is_an_outage_and_nothing_live_reaches_anyone_until_the_resync(
    connect, live_group, alex, sam, silent_layer
):
    """A frozen Redis fails no call (no socket timeout): the hub's watch notices that its ping goes unanswered."""
    await set_room(live_group, mode="open")
    alex_peer, _ = await connect(alex, live_group.pk)
    sam_peer, _ = await connect(sam, live_group.pk)

    notice = await alex_peer.receive_type("error")
    assert (notice["code"], notice["ref"]) == ("unavailable", None)
    assert not get_hub().layer_healthy
    # Stored and acknowledged meanwhile; its event, read from the layer before the hub has
    # resynced its clients, is not delivered (the resync brings it from the database).
    assert (await sam_peer.request("chat.send", text="while the layer was silent"))["type"] == "ack"

    silent_layer.set()
    frames, code = await alex_peer.until_close(timeout=10)
    assert code == 1012
    assert [f["type"] for f in frames if f["type"] == "chat.message"] == [], frames
    assert get_hub().layer_healthy


@pytest.mark.usefixtures("transactional_db")
async def test_a_room_first_opened_during_an_outage_is_joined_when_the_layer_is_back(
    connect, live_group, alex, riley, dana, silent_layer, monkeypatch
):
    """attach does not call a layer that is down (each call could wait LAYER_ANSWER_SECONDS holding the group
    lock); the re-join after the outage joins that room with the others."""
    from rooms.actions.lifecycle import do_schedule_session

    other = await sync_to_async(do_schedule_session)(
        title="Evening group", facilitator="dana", patients=["riley"], starts_at=timezone.now()
    )
    await set_room(other, status="live", started_at=timezone.now(), mode="open")
    alex_peer, _ = await connect(alex, live_group.pk)
    await alex_peer.receive_type("error")  # live updates paused
    hub = get_hub()
    assert hub.layer is not None
    joined: list[str] = []
    group_add = hub.layer.group_add

    async def recorded_group_add(group: str, channel: str) -> None:
        joined.append(group)
        await group_add(group, channel)

    monkeypatch.setattr(hub.layer, "group_add", recorded_group_add)

    riley_peer, _ = await connect(riley, other.pk)
    notice = await riley_peer.receive_type("error")
    assert notice["code"] == "unavailable"
    assert joined == []  # not called while the layer is down

    silent_layer.set()
    assert (await riley_peer.until_close(timeout=10))[1] == 1012
    assert room_group(other.pk) in joined and room_group(live_group.pk) in joined
    # Live delivery in the room opened during the outage works, through its re-joined group.
    riley_again, _ = await connect(riley, other.pk)
    dana_peer, _ = await connect(dana, other.pk)
    assert (await dana_peer.request("chat.send", text="Welcome back"))["type"] == "ack"
    assert (await riley_again.receive_type("chat.message"))["text"] == "Welcome back"


@pytest.mark.parametrize("waiting_call", ["heartbeat re-join", "watch ping"])
@pytest.mark.usefixtures("transactional_db")
async def test_a_call_from_before_the_layer_came_back_failing_afterwards_is_not_a_new_outage(
    connect, live_group, alex, sam, monkeypatch, waiting_call
):
    """A layer call that began before an outage was noticed (a frozen Redis answers nothing) fails only after the
    hub found the layer back: reconnect_layer dropped its connection. That says nothing about the layer since
    it came back; taking it for an outage sent every client, just resumed, away again (CI, frozen Redis)."""
    monkeypatch.setattr(hub_module, "LAYER_ANSWER_SECONDS", 30)
    hub = get_hub()
    alex_peer, _ = await connect(alex, live_group.pk)
    assert hub.layer is not None and hub.layer_healthy
    release = asyncio.Event()
    calls = 0

    def first_call_waits_then_fails(call):
        @functools.wraps(call)
        async def waiting(*args, **kwargs):
            nonlocal calls
            calls += 1
            if calls == 1:  # started before the outage: its connection is dropped when the layer comes back
                await release.wait()
                raise ConnectionError("Connection closed by server.")
            return await call(*args, **kwargs)

        return waiting

    if waiting_call == "heartbeat re-join":
        monkeypatch.setattr(hub.layer, "group_add", first_call_waits_then_fails(hub.layer.group_add))
        stale = asyncio.create_task(hub._heartbeat())
    else:
        monkeypatch.setattr(hub_module, "LAYER_WATCH_SECONDS", 0.01)
        monkeypatch.setattr(hub_module, "ping_layer", first_call_waits_then_fails(hub_module.ping_layer))
        stale = asyncio.create_task(hub._watch_layer())
    while calls == 0:
        await asyncio.sleep(0.01)

    await hub._layer_down(ConnectionError("Redis went away"), hub.layer_epoch)  # the outage, noticed elsewhere
    assert (await alex_peer.receive_type("error"))["code"] == "unavailable"
    await hub._layer_up()
    assert (await alex_peer.until_close())[1] == 1012
    alex_again, _ = await connect(alex, live_group.pk, since=0)

    release.set()  # the stale call fails now
    if waiting_call == "heartbeat re-join":
        with pytest.raises(ConnectionError):
            await stale
    else:
        while calls < 2:  # the watch went on to its next ping
            await asyncio.sleep(0.01)
        stale.cancel()
    assert hub.layer_healthy
    sam_peer, _ = await connect(sam, live_group.pk)
    await set_room(live_group, mode="open")
    assert (await sam_peer.request("chat.send", text="still live"))["type"] == "ack"
    frames: list[dict] = []
    while not (frames and frames[-1]["type"] == "chat.message"):
        # Live again from the pumps' next read (a pump whose read failed pauses LAYER_RETRY_SECONDS first).
        frames.append(await alex_again.receive(timeout=5))
    assert frames[-1]["text"] == "still live"
    assert not [f for f in frames if f["type"] == "error"], frames


def test_a_redis_drop_during_channels_redis_clean_up_is_one_warning(caplog):
    """channels-redis fires a clean-up task per receive and never reads its outcome."""
    from redis.exceptions import ConnectionError as RedisConnectionError

    async def _clean_receive_backup() -> None:  # named as channels-redis's (RedisChannelLayer)
        pass

    coro = _clean_receive_backup()

    class Future:
        def get_coro(self):
            return coro

    loop = asyncio.new_event_loop()
    try:
        quiet_layer_cleaners(loop)
        message = "Task exception was never retrieved"
        loop.call_exception_handler(
            {"message": message, "exception": RedisConnectionError("reset"), "future": Future()}
        )
        assert [r.levelname for r in caplog.records] == ["WARNING"]
        caplog.clear()
        loop.call_exception_handler({"message": message, "exception": ValueError("a bug"), "future": Future()})
        assert [r.levelname for r in caplog.records] == ["ERROR"]  # anything else is still an error
    finally:
        coro.close()
        loop.close()
