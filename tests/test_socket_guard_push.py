"""An open socket's sign-in is not polled (issue 25): what ends it is pushed, or known from the clock.

- an account change (deactivated, password, role) reaches the person's sockets at once
  through the channel layer (accounts.signals.sign_in_changed -> rooms.actions.sign_out),
  with the safety sweep set to an hour so that only the push can close them;
- the idle sign-out runs on the hub's clock (rooms.socket_guard.IDLE_DUTY, driven here by
  run_duties at a time of the test's choosing: nothing sleeps), re-reading a session only
  once it seems to have lapsed;
- an idle tick over sockets that have not lapsed reads nothing at all.

Across two daphne workers: tests/test_e2e_sign_in_push.py.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import transaction
from django.utils import timezone

from accounts.idle import LAST_ACTIVITY_KEY
from accounts.models import Member, SecurityEvent
from accounts.signals import sign_in_changed
from rooms.errors import NOT_SIGNED_IN
from rooms.extensions import DutyTick
from rooms.hub import get_hub
from rooms.socket_guard import IDLE_DUTY, SocketGuard, check_lapsed, guards_of_this_loop, sweep
from tests.conftest import participant
from tests.queries_support import Queries, spy_on_every_thread
from tests.security_support import logged_in_client, session_store

HOUR = 3600.0


@pytest.fixture
def no_sweep(settings: Any) -> None:
    """The safety sweep comes once an hour: whatever closes a socket within the test was pushed."""
    settings.SOCKET_RECHECK_SECONDS = HOUR


# ---------------------------------------------------------------- pushed through the layer


@pytest.mark.django_db(transaction=True)
async def test_deactivating_an_account_closes_its_sockets_at_once(connect, live_group, alex, sam, no_sweep):
    tab, _ = await connect(alex, live_group.pk)
    other_device, _ = await connect(alex, live_group.pk)
    sam_peer, _ = await connect(sam, live_group.pk)
    alex.is_active = False
    await alex.asave(update_fields=["is_active"])
    for peer in (tab, other_device):
        _, code = await peer.until_close(timeout=3)
        assert code == NOT_SIGNED_IN
    assert (await sam_peer.request("ping"))["type"] == "ack"  # someone else's sockets are untouched


@pytest.mark.django_db(transaction=True)
async def test_a_password_change_closes_the_sockets_of_the_old_sign_ins(connect, live_group, alex, no_sweep):
    peer, _ = await connect(alex, live_group.pk)
    await sync_to_async(alex.set_password)("a-new-passphrase-2026")
    await alex.asave()
    _, code = await peer.until_close(timeout=3)
    assert code == NOT_SIGNED_IN


@pytest.mark.django_db(transaction=True)
async def test_an_account_role_change_rechecks_the_second_factor(connect, live_group, alex, no_sweep, settings):
    """Alex made a facilitator while FACILITATOR_2FA is on: his sign-in has no second factor, so it ends."""
    settings.FACILITATOR_2FA = True
    peer, _ = await connect(alex, live_group.pk)
    assert (await peer.request("ping"))["type"] == "ack"
    alex.role = "facilitator"
    await alex.asave(update_fields=["role"])
    _, code = await peer.until_close(timeout=3)
    assert code == NOT_SIGNED_IN


@pytest.mark.django_db(transaction=True)
def test_only_a_change_of_what_signs_in_is_sent(alex):
    """A display name or the last login changes nothing of a sign-in: no message to the workers for them."""
    sent: list[int] = []

    def receiver(sender: object, *, member_id: int, **kwargs: Any) -> None:
        sent.append(member_id)

    sign_in_changed.connect(receiver)
    try:
        alex.display_name = "Alex R."
        alex.save()
        alex.last_login = timezone.now()
        alex.save(update_fields=["last_login"])
        assert sent == []
        with transaction.atomic():
            alex.is_active = False
            alex.save(update_fields=["is_active"])
            assert sent == []  # once committed, not before
        assert sent == [alex.pk]
    finally:
        sign_in_changed.disconnect(receiver)


# ---------------------------------------------------------------- the idle sign-out, on the hub's clock


def signed_in_at(cookie: str) -> float:
    return float(session_store(cookie.split("=", 1)[1]).load()[LAST_ACTIVITY_KEY])


def at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


@pytest.mark.django_db(transaction=True)
async def test_the_idle_sign_out_closes_the_socket_on_time(connect, live_group, alex, no_sweep, settings):
    _, cookie = await sync_to_async(logged_in_client)(alex)
    peer, _ = await connect(cookie, live_group.pk)
    since = await sync_to_async(signed_in_at)(cookie)
    hub = get_hub()
    await hub.run_duties([IDLE_DUTY], at(since + settings.IDLE_TIMEOUT_SECONDS - 1))
    assert (await peer.request("ping"))["type"] == "ack"  # not yet (and a ping is activity from now on)
    peer_active = time.time()
    await hub.run_duties([IDLE_DUTY], at(peer_active + settings.IDLE_TIMEOUT_SECONDS + 1))
    _, code = await peer.until_close(timeout=3)
    assert code == NOT_SIGNED_IN
    # The sign-in itself ended, as a page would end it, and it is on the record.
    _, closed = await connect(cookie, live_group.pk)
    assert closed == NOT_SIGNED_IN
    event = await SecurityEvent.objects.filter(kind="idle.timeout").afirst()
    assert event is not None and event.username == "alex" and event.detail == {"via": "websocket"}


@pytest.mark.django_db(transaction=True)
async def test_a_page_keeping_the_sign_in_active_keeps_the_socket_open(connect, live_group, alex, no_sweep, settings):
    """The worker knows the activity it read at connect; a page request since then is found when it re-reads."""
    _, cookie = await sync_to_async(logged_in_client)(alex)
    peer, _ = await connect(cookie, live_group.pk)
    since = await sync_to_async(signed_in_at)(cookie)
    timeout = settings.IDLE_TIMEOUT_SECONDS

    def page_request_at(epoch: float) -> None:  # what IdleTimeoutMiddleware writes
        store = session_store(cookie.split("=", 1)[1])
        store[LAST_ACTIVITY_KEY] = epoch
        store.save()

    await sync_to_async(page_request_at)(since + timeout / 2)
    hub = get_hub()
    await hub.run_duties([IDLE_DUTY], at(since + timeout + 1))
    assert (await peer.request("ping"))["type"] == "ack"
    await hub.run_duties([IDLE_DUTY], at(since + timeout / 2 + timeout + 1))
    _, code = await peer.until_close(timeout=3)
    assert code == NOT_SIGNED_IN


# ---------------------------------------------------------------- what an idle tick costs


@pytest.fixture
def queries(monkeypatch: pytest.MonkeyPatch) -> Queries:
    return spy_on_every_thread(monkeypatch)  # the checks run on the database thread pool


class StandIn:
    """What a guard needs of its consumer: the scope of a signed-in socket, its seat, and a close to record."""

    def __init__(self, member: Member, cookie: str, participant_id: int) -> None:
        self.scope = {"session": session_store(cookie.split("=", 1)[1]), "user": member, "client": ["127.0.0.1", 1]}
        self.participant_id = participant_id
        self.viewer = None
        self.ready = True
        self.closed: int | None = None
        self.hub = SimpleNamespace(detach=self.detach)

    async def detach(self, consumer: Any) -> None:
        pass

    async def close(self, code: int) -> None:
        self.closed = code


@pytest.mark.django_db(transaction=True)
async def test_an_idle_tick_reads_nothing_until_a_sign_in_lapses(live_group, dana, alex, sam, queries, settings):
    """Six open sockets: ticks before any sign-in lapses issue no query; the sweep reads all six in three."""

    def open_sockets() -> list[StandIn]:
        consumers = []
        for member in (dana, alex, sam):
            _, cookie = logged_in_client(member)
            consumers += [StandIn(member, cookie, participant(live_group, member).pk) for _ in range(2)]
        return consumers

    consumers = await sync_to_async(open_sockets)()
    started = time.time()
    guards = [SocketGuard(consumer) for consumer in consumers]
    for guard in guards:
        assert await guard.admit() is None
        guard.start()
    try:
        queries.statements.clear()
        for seconds in (5, 60, settings.IDLE_TIMEOUT_SECONDS / 2, settings.IDLE_TIMEOUT_SECONDS - 5):
            await check_lapsed(DutyTick(now=at(started + seconds), number=0, rooms=SimpleNamespace()))
        assert queries.statements == []
        await sweep(DutyTick(now=at(started + 60), number=0, rooms=SimpleNamespace()))
        assert len(queries.statements) == 3 and all(sql.lstrip().startswith("SELECT") for sql in queries.statements)
        assert [consumer.closed for consumer in consumers] == [None] * 6
        # Past the timeout every one of them is re-read, and closed.
        lapsed = at(time.time() + settings.IDLE_TIMEOUT_SECONDS + 1)
        await check_lapsed(DutyTick(now=lapsed, number=0, rooms=SimpleNamespace()))
        assert [consumer.closed for consumer in consumers] == [NOT_SIGNED_IN] * 6
    finally:
        guards_of_this_loop().open.clear()


@pytest.mark.django_db(transaction=True)
async def test_removing_someone_from_a_series_closes_their_socket_to_a_coming_session(
    connect, dana, alex, sam, no_sweep
):
    """The seat of a coming session goes (program's roster change): a socket waiting in that room closes with 4403."""
    from django.core.management import call_command

    from rooms.errors import NOT_ON_ROSTER
    from rooms.models import GroupSession

    def schedule() -> int:
        first = timezone.localdate() + timedelta(days=2)
        call_command(
            "schedule_series",
            "--title",
            "Evening IOP",
            "--facilitator",
            "dana",
            "--patients",
            "alex,sam",
            "--days",
            first.strftime("%a").lower(),
            "--time",
            "18:00",
            "--from",
            first.isoformat(),
            "--weeks",
            "1",
            stdout=None,
        )
        return GroupSession.objects.get(title="Evening IOP").pk

    session_id = await sync_to_async(schedule)()
    alex_peer, closed = await connect(alex, session_id)
    assert closed is None
    sam_peer, _ = await connect(sam, session_id)
    series_id = await GroupSession.objects.filter(pk=session_id).values_list("series_link__series_id", flat=True).aget()
    await sync_to_async(call_command)("series_roster", str(series_id), "--remove", "alex", stdout=None)
    _, code = await alex_peer.until_close(timeout=3)
    assert code == NOT_ON_ROSTER
    assert (await sam_peer.request("ping"))["type"] == "ack"
