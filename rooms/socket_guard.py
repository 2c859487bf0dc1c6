"""The room socket's sign-in guard: the Django session behind a WebSocket stays valid, or the socket closes.

Checked when the socket opens; while it is open, nothing polls the database for
it (docs/performance.md: thousands of idle sockets cost next to nothing). What
ends a sign-in reaches the sockets instead:

- pushed through the channel layer, to every worker at once: signing out (on a
  page, or a page finding the sign-in idle or expired: rooms.actions.sign_out
  closes the person's sockets with `auth.signed_out`), removal or a change of
  role or admission in a room (the room's own events: `close:4403`, "refresh"),
  and a deactivated account, a password or account role changed, or a seat
  deleted (`RECHECK_EVENT` to WORKERS_GROUP: each worker re-checks that person's
  sockets, `recheck_named`);
- time, known locally: the sign-in's last activity and start, as read at
  connect, plus this socket's own frames. The idle duty (`IDLE_DUTY`, run by the
  hub's clock every `idle_tick_seconds()`) picks the sockets whose sign-in has
  lapsed by that knowledge and re-reads only their sessions, in one batch: a
  page or another socket may have kept the session active meanwhile, and then
  the guard learns so;
- a slow safety sweep (`SWEEP_DUTY`, every SOCKET_RECHECK_SECONDS) re-reads every
  socket's session, member and participant row in batches, for what a lost event
  could miss (a session deleted by staff, a broadcast lost in a layer outage).

What a check decides:

- the session still signs in the same person: logged out elsewhere, flushed,
  expired, password changed or account deactivated -> close 4401;
- idle: no frame from this socket, no HTTP request and no other socket of the
  session for IDLE_TIMEOUT_SECONDS (or signed in longer than SESSION_COOKIE_AGE)
  -> the session ends (deleted) and the socket closes 4401. Frames the client sends are activity; a guest waiting in the
  lobby (who sees nothing confidential) is kept active;
- FACILITATOR_2FA: a facilitator's session must carry a verified TOTP device -> else 4401;
- the participant row: removed -> 4403 (even if the removal's broadcast was lost);
  role or admission changed -> a fresh session.state, so the fan-out filter
  never keeps serving a stale role.

The socket's own frames are written back to the session as its last activity
(at most every SESSION_ACTIVITY_WRITE_SECONDS, by the idle duty), so the HTTP side
does not time out a person who is busy in a room.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.base import UpdateError
from django.db import DatabaseError
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device

from accounts.actions import do_end_sign_in
from accounts.idle import (
    GUEST_SESSION_KEY,
    LAST_ACTIVITY_KEY,
    SIGNED_IN_AT_KEY,
    ending,
    has_identity,
    idle_after,
    last_activity,
    session_store,
    too_old_after,
)
from accounts.models import Member, Role
from config.loop_local import LoopLocal
from rooms.errors import NOT_ON_ROSTER, NOT_SIGNED_IN
from rooms.extensions import DutyTick, PeriodicDuty
from rooms.models import Participant, ParticipantRole

logger = logging.getLogger(__name__)

REFRESH = "refresh"
# Every worker's hub is in this channel-layer group (lane 0): events for sockets that are not a room's.
WORKERS_GROUP = "circle-workers"
# {"type": RECHECK_EVENT, "member_ids": [...], "participant_ids": [...]}: re-check these people's sockets now.
RECHECK_EVENT = "guard.recheck"


def db(function: Any) -> Any:
    return database_sync_to_async(function, thread_sensitive=False)


def second_factor_passed(data: dict[str, Any], member: Member) -> bool:
    persistent_id = data.get(DEVICE_ID_SESSION_KEY)
    device = Device.from_persistent_id(persistent_id) if isinstance(persistent_id, str) else None
    return device is not None and device.user_id == member.pk and bool(device.confirmed)


def activity_to_write(stored: float | None, active_at: float | None) -> bool:
    """Is this socket's activity worth writing back? At most every SESSION_ACTIVITY_WRITE_SECONDS, as the HTTP side
    does (accounts.idle)."""
    return active_at is not None and (
        stored is None or (active_at > stored and active_at - stored >= settings.SESSION_ACTIVITY_WRITE_SECONDS)
    )


@dataclass(frozen=True, slots=True)
class SessionVerdict:
    """What a look at the stored session decided (no writes yet)."""

    code: int | None = None  # close the socket with this
    end: str | None = None  # ...after ending the session for this reason ("idle", "expired")
    activity: float | None = None  # newer activity to write back to the session


def load_sessions(session_keys: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The stored data of these Django sessions (a missing or expired one is absent), in one read where possible."""
    keys = [key for key in set(session_keys) if key]
    store_class = session_store(None).__class__
    get_model_class = getattr(store_class, "get_model_class", None)  # the database-backed engines
    if get_model_class is None:
        return {key: data for key in keys if (data := dict(session_store(key).items()))}
    rows = get_model_class().objects.filter(session_key__in=keys, expire_date__gt=timezone.now())
    decoder = store_class()
    return {row.session_key: decoder.decode(row.session_data) for row in rows}


class SocketGuard:
    def __init__(self, consumer: Any) -> None:
        self.consumer = consumer
        scope = consumer.scope
        session = scope.get("session")
        self.session_key: str | None = getattr(session, "session_key", None) if session is not None else None
        user = scope.get("user")
        self.member_id: int | None = user.pk if user is not None and user.is_authenticated else None
        guest = session.get(GUEST_SESSION_KEY) if session is not None and self.member_id is None else None
        self.guest_participant_id: int | None = guest.get("participant_id") if isinstance(guest, dict) else None
        client = scope.get("client") or [None]
        self.address: str | None = client[0]
        self.active_at: float | None = None  # the last frame from this socket (connecting is not activity)
        # What the session said of its sign-in's times when last read (at connect, then by each check):
        # the idle duty works from this without reading the session again until it seems to have lapsed.
        self.known: dict[str, Any] = {}
        self.look_after = math.inf  # the idle duty re-reads the session after this time (`learn`)
        self.guards: Guards | None = None

    # ------------------------------------------------------------ called by the consumer

    async def admit(self) -> int | None:
        """At connect: a close code when the session may not open a room socket now, else None."""
        return await db(self._admit)()

    def start(self) -> None:
        self.guards = guards_of_this_loop()
        self.guards.open.add(self)

    def touch(self, at: float | None = None) -> None:
        self.active_at = time.time() if at is None else at

    def stop(self) -> None:
        if self.guards is not None:
            self.guards.open.discard(self)

    # ------------------------------------------------------------ the checks

    def _admit(self) -> int | None:
        # Judged from the session and member the middleware read for this handshake a moment ago (Channels'
        # get_user, which checked the session's auth hash too), not read again: two of a connect's queries
        # (issue 25, C1). A session the middleware found missing or expired has no key and no data here.
        scope = self.consumer.scope
        session = scope.get("session")
        sessions = {self.session_key: dict(session.items())} if session is not None and self.session_key else {}
        members = {self.member_id: scope["user"]} if self.member_id is not None else {}
        now = timezone.now().timestamp()
        verdict = recheck_guards([(self, None)], now, sessions=sessions, members=members, participants=None)[0]
        return verdict if isinstance(verdict, int) else None  # no participant row read: no "refresh" verdict

    def learn(self, data: Mapping[str, Any]) -> None:
        """Remember the sign-in's times from the session just read, and when it ends if nothing happens: then
        the idle duty re-reads it (a page or another socket may have kept it active; this socket's own frames
        are written back before then, `activity_due`)."""
        self.known = {key: data[key] for key in (LAST_ACTIVITY_KEY, SIGNED_IN_AT_KEY) if key in data}
        self.look_after = min(idle_after(self.known), too_old_after(self.known))

    def activity_due(self) -> bool:
        return activity_to_write(last_activity(self.known), self.active_at)

    def session_verdict(
        self, data: dict[str, Any], member: Member | None, auth_hash: str, active_at: float | None, now: float
    ) -> SessionVerdict:
        """`auth_hash`: the member's session auth hash (computed once per batch: it is an HMAC)."""
        if not self.session_key or not has_identity(data) or not self._same_person(data, member, auth_hash):
            return SessionVerdict(NOT_SIGNED_IN)
        reason = ending(data, now, also_active_at=active_at)
        if reason is not None:
            return SessionVerdict(NOT_SIGNED_IN, end=reason)
        if (
            member is not None
            and settings.FACILITATOR_2FA
            and member.role == Role.FACILITATOR
            and not second_factor_passed(data, member)
        ):
            return SessionVerdict(NOT_SIGNED_IN)
        if activity_to_write(last_activity(data), active_at):
            return SessionVerdict(activity=active_at)
        return SessionVerdict()

    def participant_verdict(self, row: Mapping[str, Any] | None) -> int | str | None:
        """The participant row: gone or removed -> 4403; role or admission changed -> a fresh session.state."""
        if row is None or row["removed_at"] is not None:
            return NOT_ON_ROSTER
        viewer = self.consumer.viewer
        if viewer is not None and (row["role"] != viewer.role or row["admitted"] != viewer.admitted):
            return REFRESH
        return None

    def _same_person(self, data: dict[str, Any], member: Member | None, auth_hash: str) -> bool:
        if self.member_id is not None:
            # A password change or a deactivated account ends the sessions it signed.
            return (
                str(data.get(SESSION_KEY)) == str(self.member_id)
                and member is not None
                and member.is_active
                and constant_time_compare(str(data.get(HASH_SESSION_KEY, "")), auth_hash)
            )
        guest = data.get(GUEST_SESSION_KEY)
        return isinstance(guest, dict) and guest.get("participant_id") == self.guest_participant_id

    async def apply(self, verdict: int | str | None) -> None:
        if verdict == REFRESH:
            await self.consumer.send_catchup(since=None)
        elif isinstance(verdict, int):
            self.stop()
            consumer = self.consumer
            consumer.ready = False
            await consumer.hub.detach(consumer)
            await consumer.close(verdict)


def recheck_guards(
    checks: list[tuple[SocketGuard, float | None]],
    now: float,
    *,
    sessions: dict[str, dict[str, Any]],
    members: dict[int, Member],
    participants: Mapping[int, Mapping[str, Any]] | None,
) -> list[int | str | None]:
    """Each guard's verdict at `now` (epoch seconds) from data read beforehand, then the few writes they call for.

    The writes are once per Django session, however many sockets it has open: its
    newest activity, or its end (idle, expired: recorded as a security event). Each
    guard left open learns the session's times as read (and written).
    """
    verdicts: list[int | str | None] = []
    at = datetime.fromtimestamp(now, UTC)
    auth_hashes = {member_id: member.get_session_auth_hash() for member_id, member in members.items()}
    ends: dict[str, SocketGuard] = {}
    activity: dict[str, float] = {}
    for guard, active_at in checks:
        key = guard.session_key or ""
        member = members.get(guard.member_id) if guard.member_id is not None else None
        auth_hash = auth_hashes.get(guard.member_id, "") if guard.member_id is not None else ""
        seen = guard.session_verdict(sessions.get(key, {}), member, auth_hash, active_at, now)
        if seen.end is not None and key not in ends:
            ends[key] = guard
            do_end_sign_in(session_store(key), seen.end, at, member_id=guard.member_id, address=guard.address)
        if seen.activity is not None:
            activity[key] = max(seen.activity, activity.get(key, 0.0))
        verdict: int | str | None = seen.code
        if verdict is None and participants is not None:
            verdict = guard.participant_verdict(participants.get(guard.consumer.participant_id))
        verdicts.append(verdict)
    signed_out = set()
    for key, active_at in activity.items():
        store = session_store(key)
        store[LAST_ACTIVITY_KEY] = active_at
        try:
            store.save()
        except UpdateError:  # deleted meanwhile: signed out
            signed_out.add(key)
        else:
            sessions[key] = {**sessions[key], LAST_ACTIVITY_KEY: active_at}
    final = [
        NOT_SIGNED_IN if guard.session_key in signed_out and verdict is None else verdict
        for (guard, _), verdict in zip(checks, verdicts, strict=True)
    ]
    for (guard, _), verdict in zip(checks, final, strict=True):
        if verdict is None:
            guard.learn(sessions.get(guard.session_key or "", {}))
    return final


def recheck_all(checks: list[tuple[SocketGuard, float | None]], now: float) -> list[int | str | None]:
    """One batch: every socket's session, member and participant row in three reads."""
    guards = [guard for guard, _ in checks]
    sessions = load_sessions(guard.session_key for guard in guards if guard.session_key)
    members = {m.pk: m for m in Member.objects.filter(pk__in={g.member_id for g in guards if g.member_id})}
    participant_ids = {guard.consumer.participant_id for guard in guards}
    participants = {
        row["id"]: row
        for row in Participant.objects.filter(pk__in=participant_ids).values("id", "role", "admitted", "removed_at")
    }
    return recheck_guards(checks, now, sessions=sessions, members=members, participants=participants)


# Sockets checked per batch: bounds how long one batch holds a database thread (and the GIL),
# so that thousands of sockets do not make one burst that delays everyone's messages.
PATROL_BATCH = 200


@dataclass
class Guards:
    """The guards of one worker's open sockets (one per event loop), and its checks, one at a time (the idle
    duty, the sweep and a pushed re-check must not end the same session twice)."""

    open: set[SocketGuard] = field(default_factory=set)
    checking: asyncio.Lock = field(default_factory=asyncio.Lock)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)  # pushed re-checks under way (recheck_named)

    async def check(self, guards: list[SocketGuard], now: float) -> None:
        """Re-read these sockets' sessions and rows in batches of PATROL_BATCH, and act on what is found."""
        async with self.checking:
            for start in range(0, len(guards), PATROL_BATCH):
                await self._check(guards[start : start + PATROL_BATCH], now)

    async def _check(self, guards: list[SocketGuard], now: float) -> None:
        guards = [guard for guard in guards if guard in self.open]  # not closed meanwhile
        if not guards:
            return
        try:
            verdicts = await db(recheck_all)([(guard, guard.active_at) for guard in guards], now)
        except (DatabaseError, UpdateError):
            logger.warning("socket guard: could not check the sessions; will retry")
            return
        for guard, verdict in zip(guards, verdicts, strict=True):
            if verdict is not None and guard in self.open:  # not closed meanwhile
                try:
                    await guard.apply(verdict)
                except Exception:
                    logger.exception("socket guard: could not act on one socket's check")


_guards: LoopLocal[Guards] = LoopLocal(Guards)


def guards_of_this_loop() -> Guards:
    return _guards.get()


# ------------------------------------------------------------ the duties and the pushed re-check

# The idle duty's period: the idle sign-out closes a socket at most this late (and a twentieth of the timeout
# when that is shorter). One pass over the worker's guards in memory; a read only for the sockets it picks.
IDLE_TICK_MAX_SECONDS = 5.0


def idle_tick_seconds() -> float:
    return min(IDLE_TICK_MAX_SECONDS, settings.IDLE_TIMEOUT_SECONDS / 20)


async def check_lapsed(tick: DutyTick) -> None:
    """The sockets whose sign-in lapsed by what this worker knows, or whose own activity is due to be written
    back: their sessions re-read in one batch. Usually none, and then no query at all."""
    guards = guards_of_this_loop()
    now = tick.now.timestamp()
    picked = []
    for guard in guards.open:  # a comparison or two per socket: thousands of them take about a millisecond
        if guard.guest_participant_id is not None:
            viewer = guard.consumer.viewer
            if viewer is not None and viewer.role == ParticipantRole.GUEST and not viewer.admitted:
                guard.touch(now)  # waiting in the lobby counts as being there
        if now > guard.look_after or (guard.active_at is not None and guard.activity_due()):
            picked.append(guard)
    if picked:
        await guards.check(picked, now)


async def sweep(tick: DutyTick) -> None:
    """The safety sweep: every socket of this worker re-read, for what a lost event could miss."""
    guards = guards_of_this_loop()
    await guards.check(list(guards.open), tick.now.timestamp())


def recheck_named(message: Mapping[str, Any], now: datetime) -> None:
    """A RECHECK_EVENT reached this worker (its hub's pump): re-check the sockets of the people it names, in a
    task of its own (the pump goes back to the rooms' events)."""
    member_ids = set(message.get("member_ids") or ())
    participant_ids = set(message.get("participant_ids") or ())
    guards = guards_of_this_loop()
    named = [
        guard
        for guard in guards.open
        if (guard.member_id is not None and guard.member_id in member_ids)
        or guard.consumer.participant_id in participant_ids
    ]
    if named:
        task = asyncio.get_running_loop().create_task(guards.check(named, now.timestamp()), name="circle-recheck")
        guards.tasks.add(task)  # the loop keeps only weak references to tasks
        task.add_done_callback(guards.tasks.discard)


IDLE_DUTY = PeriodicDuty(name="rooms.socket_idle", every_seconds=idle_tick_seconds, run=check_lapsed)
SWEEP_DUTY = PeriodicDuty(
    name="rooms.socket_sweep", every_seconds=lambda: float(settings.SOCKET_RECHECK_SECONDS), run=sweep
)
