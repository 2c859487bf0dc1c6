"""Shared fixtures: named people (healthchecks style), sessions, and WebSocket clients."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import channel_layers, get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connection, connections
from django.test import Client
from django.utils import timezone

from accounts.models import Member
from rooms.actions.lifecycle import do_schedule_session
from rooms.actions.presence import DEPARTURES
from rooms.hub import get_hub, stop_hub
from rooms.models import GroupSession, Participant
from tests import e2e
from tests.flush import set_aside_seeded_rows, sql_flush_keeping_content_types
from tests.services import require_services

PASSWORD = "a-long-test-password-1"


def pytest_runtest_setup(item: pytest.Item) -> None:
    e2e.servers_of_this_test.clear()
    if item.get_closest_marker("services"):
        require_services()


SERVER_LOG_LINES = 80


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failing test's report ends with the last lines of each server it started."""
    report = yield
    if report.failed:
        for server in e2e.servers_of_this_test:
            tail = "\n".join(server.log_text().splitlines()[-SERVER_LOG_LINES:])
            report.sections.append((f"{server.name} log ({server.log_path}, last {SERVER_LOG_LINES} lines)", tail))
    return report


@pytest.fixture(scope="session", autouse=True)
def close_database_pools(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """Close PostgreSQL connection pools before the test database is dropped."""
    yield
    with django_db_blocker.unblock():
        for database in connections.all(initialized_only=True):
            close_pool = getattr(database, "close_pool", None)
            if close_pool is not None:
                close_pool()
            if database.vendor == "postgresql":
                # Helper threads of finished event loops may still hold a connection;
                # the test database cannot be dropped while they do.
                with database.cursor() as cursor:
                    cursor.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )


@pytest.fixture(scope="session", autouse=True)
def cheap_flush(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """Transactional tests end with a DELETE of what they wrote rather than Django's TRUNCATE, and the rows the
    migrations seeded (the prompt library) are put back, whatever ran before (tests/flush.py)."""
    with django_db_blocker.unblock():
        set_aside_seeded_rows(connection)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django.core.management.commands.flush.sql_flush", sql_flush_keeping_content_types)
        yield


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests run last: the sync Playwright driver keeps an event loop running
    on the main thread for the rest of the session, which async tests cannot share.
    Within each part, the slow tests first, so that with several test processes
    (`make test`: pytest-xdist, one test handed out at a time) they start early and
    side by side rather than leaving one process busy after the others are done."""
    items.sort(key=lambda item: (item.get_closest_marker("browser") is not None, not item.get_closest_marker("slow")))


def make_member(username: str, role: str, display_name: str) -> Member:
    return Member.objects.create_user(username=username, password=PASSWORD, role=role, display_name=display_name)


@pytest.fixture
def dana(db: None) -> Member:
    return make_member("dana", "facilitator", "Dana")


@pytest.fixture
def alex(db: None) -> Member:
    return make_member("alex", "patient", "Alex")


@pytest.fixture
def sam(db: None) -> Member:
    return make_member("sam", "patient", "Sam")


@pytest.fixture
def jordan(db: None) -> Member:
    return make_member("jordan", "patient", "Jordan")


@pytest.fixture
def riley(db: None) -> Member:
    return make_member("riley", "patient", "Riley")


@pytest.fixture
def outsider(db: None) -> Member:
    return make_member("casey", "patient", "Casey")


@pytest.fixture
def group(dana: Member, alex: Member, sam: Member, jordan: Member, riley: Member) -> GroupSession:
    """A scheduled group: Dana facilitates Alex, Sam, Jordan and Riley (in that roster order)."""
    return do_schedule_session(
        title="Tuesday group",
        facilitator="dana",
        patients=["alex", "sam", "jordan", "riley"],
        starts_at=timezone.now(),
        allow_guests=True,
    )


@pytest.fixture
def live_group(group: GroupSession) -> GroupSession:
    GroupSession.objects.filter(pk=group.pk).update(status="live", started_at=timezone.now())
    group.refresh_from_db()
    return group


def on_another_thread(work: Callable[[], Any]) -> Any:
    """`work`'s result, run on a thread of its own, so on a database connection of its own (closed after)."""
    result: list[Any] = []

    def run() -> None:
        try:
            result.append(work())
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    return result[0]


def participant(session: GroupSession, member: Member) -> Participant:
    return Participant.objects.get(session=session, member=member)


async def pid(session: GroupSession, member: Member) -> int:
    """The participant id of `member` in `session` (for async tests)."""
    found = await Participant.objects.aget(session=session, member=member)
    return found.pk


def cookie_for(member: Member) -> str:
    client = Client()
    client.force_login(member)
    return f"sessionid={client.cookies['sessionid'].value}"


class Peer:
    """One WebSocket client in a consumer test, with helpers that keep tests short."""

    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.communicator = communicator
        self.state: dict[str, Any] = {}

    async def send(self, **frame: Any) -> None:
        await self.communicator.send_to(text_data=json.dumps(frame))

    async def receive(self, timeout: float = 3) -> dict[str, Any]:
        return json.loads(await self.communicator.receive_from(timeout=timeout))

    async def receive_type(self, frame_type: str, timeout: float = 3) -> dict[str, Any]:
        """Skip other frames until one of `frame_type` arrives."""
        while True:
            frame = await self.receive(timeout)
            if frame["type"] == frame_type:
                return frame

    async def request(self, frame_type: str, **fields: Any) -> dict[str, Any]:
        """Send with a ref and return its ack or error (other frames on the way are skipped)."""
        reply, _ = await self.request_with_events(frame_type, **fields)
        return reply

    async def request_with_events(self, frame_type: str, **fields: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Like request, but also returns the frames that arrived before the reply, oldest first
        (an action's own broadcasts may reach its sender before the ack does)."""
        ref = f"r{id(fields)}-{frame_type}"
        await self.send(type=frame_type, ref=ref, **fields)
        events: list[dict[str, Any]] = []
        while True:
            frame = await self.receive()
            if frame["type"] in {"ack", "error"} and frame.get("ref") == ref:
                return frame, events
            events.append(frame)

    async def event(self, frame_type: str, events: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """The first `frame_type` among `events` (taken out of the list), else the next one to arrive."""
        for index, frame in enumerate(events or []):
            if frame["type"] == frame_type:
                return events.pop(index)  # type: ignore[union-attr]
        return await self.receive_type(frame_type)

    async def nothing_more(self, timeout: float = 0.3) -> bool:
        return await self.communicator.receive_nothing(timeout=timeout)

    async def drain(self, quiet: float = 0.3) -> list[dict[str, Any]]:
        """Everything already on its way: the frames read until none arrives for `quiet` seconds."""
        frames: list[dict[str, Any]] = []
        while not await self.nothing_more(quiet):
            frames.append(await self.receive())
        return frames

    async def until_close(self, timeout: float = 3) -> tuple[list[dict[str, Any]], int | None]:
        """Every frame the server sends until it closes the socket, and the close code."""
        frames: list[dict[str, Any]] = []
        while True:
            output = await self.communicator.receive_output(timeout=timeout)
            if output["type"] == "websocket.close":
                return frames, output.get("code")
            frames.append(json.loads(output["text"]))

    async def close(self) -> None:
        await self.communicator.disconnect()


ConnectFn = Callable[..., Any]


@pytest.fixture
async def connect(transactional_db: None) -> AsyncIterator[ConnectFn]:
    """connect(cookie, session_id, since=None, origin=...) -> (Peer, close_code or None)."""
    from config.asgi import application

    peers: list[Peer] = []

    async def _connect(
        who: Member | str | None, session_id: int, *, since: int | None = None, origin: str | None = "http://localhost"
    ) -> tuple[Peer, int | None]:
        """`who`: a member (logged in for the test), a raw Cookie header, or None."""
        cookie = await sync_to_async(cookie_for)(who) if isinstance(who, Member) else who
        path = f"/ws/sessions/{session_id}/" + (f"?since={since}" if since is not None else "")
        headers = []
        if cookie:
            headers.append((b"cookie", cookie.encode()))
        if origin:
            headers.append((b"origin", origin.encode()))
        communicator = WebsocketCommunicator(application, path, headers=headers)
        connected, _ = await communicator.connect(timeout=5)
        peer = Peer(communicator)
        peers.append(peer)
        if not connected:
            return peer, 403
        first = await communicator.receive_output(timeout=5)
        if first["type"] == "websocket.close":
            return peer, first.get("code")
        peer.state = json.loads(first["text"])
        return peer, None

    yield _connect
    await within_bound(close_everything(peers), "the connect fixture's teardown")
    # Each test runs on its own event loop and channels-redis keeps loop-bound locks:
    # the next test builds a fresh layer.
    channel_layers.backends.clear()


async def close_everything(peers: list[Peer]) -> None:
    for peer in peers:
        # already closed by the server, or cancelled by a receive that timed out in a failing test
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await peer.communicator.disconnect(timeout=2)
    await stop_hub()
    layer = get_channel_layer()
    assert layer is not None
    await layer.flush()


TEARDOWN_SECONDS = 60


async def within_bound(work: Any, what: str) -> None:
    """Await `work`; if it has not ended within TEARDOWN_SECONDS, fail with every pending task's stack.

    A consumer's teardown once hung in CI until pytest-timeout (300 s), whose dump shows
    threads but not the tasks: this says which await never ended. Not cancelled (asgiref
    waits out a cancelled call to a thread, so a cancel could hang as well); it fails.
    """
    task = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({task}, timeout=TEARDOWN_SECONDS)
    if done:
        task.result()
        return
    stacks = [awaiting(pending) for pending in asyncio.all_tasks() if pending is not asyncio.current_task()]
    pytest.fail(f"{what} did not end within {TEARDOWN_SECONDS} s; pending tasks:\n" + "\n".join(stacks))


def awaiting(task: asyncio.Task[Any]) -> str:
    """A pending task and the chain of awaits it is suspended in, innermost last (get_stack gives one frame)."""
    lines = [task.get_name()]
    step: Any = task.get_coro()
    while step is not None:
        frame = getattr(step, "cr_frame", None) or getattr(step, "gi_frame", None)
        where = f"{frame.f_code.co_filename}:{frame.f_lineno}" if frame is not None else ""
        lines.append(f"    {step!r} {where}")
        step = getattr(step, "cr_await", None) or getattr(step, "gi_yieldfrom", None)
    return "\n".join(lines)


async def connect_all(connect: ConnectFn, session: GroupSession, *who: Member | str) -> list[Peer]:
    """connect() each member (or Cookie header) in turn; every one must be let in."""
    peers = []
    for member in who:
        peer, closed = await connect(member, session.pk)
        assert closed is None, f"{member} was refused with {closed}"
        peers.append(peer)
    return peers


async def set_room(session: GroupSession, **fields: Any) -> None:
    """Change the session's row (mode, status, floor...) behind the server's back."""
    await GroupSession.objects.filter(pk=session.pk).aupdate(**fields)


async def after_the_grace() -> None:
    """Tick this worker's departures duty as if the absence grace period had passed: presence is debounced,
    so a departure is announced only then (rooms.actions.presence.DEPARTURES)."""
    grace = timedelta(seconds=settings.CIRCLE["ABSENCE_GRACE_SECONDS"])
    await get_hub().run_duties([DEPARTURES], timezone.now() + grace)


def minutes_ago(minutes: float) -> Any:
    return timezone.now() - timedelta(minutes=minutes)
