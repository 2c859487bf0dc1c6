"""The extension points: how the apps above the room core plug into it without the core importing them.

The core (`rooms`) calls these registries at fixed moments; the apps above it
(`facilitator`, `moderation`, and those to come) fill them in their
`AppConfig.ready()`. Each entry has a name, unique in its registry, so a
module imported twice or two apps choosing the same name fail at start-up
(DuplicateExtension) instead of running a duty or a hook twice.

The registries, and when the core calls them:

- `periodic_duties` (PeriodicDuty): every worker's hub runs each duty every
  `every_seconds`; a duty whose `due` says False is skipped for that tick.
  Duties act on rows they claim with SELECT ... FOR UPDATE SKIP LOCKED, so of
  several workers exactly one acts on each deadline.
- `arrival_hooks`, `departure_hooks` (PresenceHook): someone's first connection
  to a room opened; their last one went away (closed, swept after their worker
  died, or dropped because they were removed or turned away).
- `absence_hooks` (AbsenceHook): people offline past the absence grace period,
  once per room and sweep.
- `session_ended_hooks` (SessionEndedHook): a facilitator ended the session.
- `floor_released_hooks` (FloorReleasedHook): the floor holder lost the floor
  (yielded, muted, removed, expired, absent). The floor is granted only by the
  app that runs it (facilitator), which decides here what follows.
- `message_stored_hooks` (MessageStoredHook): a chat message was stored.
- `state_contributors` (StateContributor): fields of one viewer's session.state.
- `retention_hooks` (RetentionHook): the retention purge (purge_expired) ran the core's
  policy; each app applies its own (record: the clinical record's own period).
- `dashboard_sections` (DashboardContributor): a block of a member's dashboard (program:
  the patient's two weeks, the calendar feed; read-only, outside any transaction).
- `demo_seeders` (DemoSeeder): the `demo` command's part of each app (program: a running series).

Every hook but the state contributors and dashboard sections runs inside the action's transaction with
the room locked, and sends its events on commit (rooms.broadcast), like the
action itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from channels.db import database_sync_to_async
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:  # the apps' AppConfig modules import this one before the models are ready
    from accounts.models import Member
    from rooms.broadcast import Envelope
    from rooms.models import GroupSession, Message, Participant

T = TypeVar("T")


class DuplicateExtension(ImproperlyConfigured):
    """Two entries of one registry have the same name."""


class Registry(Generic[T]):
    """Named entries, called in the order they were registered (the order of INSTALLED_APPS)."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._entries: dict[str, T] = {}

    def register(self, name: str, entry: T) -> None:
        if name in self._entries:
            raise DuplicateExtension(f"two {self.what} are named {name!r}")
        self._entries[name] = entry

    def __iter__(self) -> Iterator[T]:
        return iter(list(self._entries.values()))

    def __len__(self) -> int:
        return len(self._entries)

    def names(self) -> list[str]:
        return list(self._entries)


# ------------------------------------------------------------------ periodic duties


class LocalRooms(Protocol):
    """What a duty may see of the worker running it (rooms.hub.RoomHub): its rooms and its sockets."""

    def rooms_with_local(self, role: str) -> list[int]:
        """The rooms where this worker serves at least one connection of someone with this role."""
        ...

    async def deliver_local(self, envelope: Envelope) -> None:
        """Hand an event to this worker's own connections to its room only (no channel layer)."""
        ...


@dataclass(frozen=True)
class DutyTick:
    """One run of a duty: the time the hub's clock gave, and how many times this hub ran the duty before."""

    now: datetime
    number: int
    rooms: LocalRooms


@dataclass(frozen=True)
class PeriodicDuty:
    """A job every worker's hub runs every `every_seconds()`.

    `due(now)` runs in the database thread (the hub asks every duty of one period
    in a single trip there): a cheap read, through an index, of the very condition
    `run` claims its rows by. None: due at every tick. `run` runs on the hub's event
    loop only when due. Both periods are read when a hub starts, from settings if
    the app wants them configurable.
    """

    name: str
    every_seconds: Callable[[], float]
    run: Callable[[DutyTick], Awaitable[None]]
    due: Callable[[datetime], bool] | None = None
    # The first run comes this long after the hub starts, plus `every_seconds`.
    first_after_seconds: Callable[[], float] | None = None


def deadline_tick_seconds() -> float:
    """The period of the duties that act on deadlines (a floor's, a timed mute's): each is acted on within it."""
    return float(settings.CIRCLE["TIMER_TICK_SECONDS"])


def in_database_thread(job: Callable[[datetime], object]) -> Callable[[DutyTick], Awaitable[None]]:
    """A duty's run that is one synchronous database job given the tick's time (on the database thread pool)."""

    async def run(tick: DutyTick) -> None:
        await database_sync_to_async(job, thread_sensitive=False)(tick.now)

    return run


# ------------------------------------------------------------------ hooks


class PresenceHook(Protocol):
    """Someone arrived (`at`: their first connection) or left (`at`: when they were last there)."""

    def __call__(self, session: GroupSession, participant: Participant, at: datetime, /) -> None: ...


class AbsenceHook(Protocol):
    """These people of the room have been offline longer than the grace period (`now`: the sweep's time)."""

    def __call__(self, session: GroupSession, absent: list[Participant], now: datetime, /) -> None: ...


class SessionEndedHook(Protocol):
    """The session ended at `now` (status, floor and connections are already updated)."""

    def __call__(self, session: GroupSession, now: datetime, /) -> None: ...


class FloorReleasedHook(Protocol):
    """`holder` (who holds the floor) loses it for `reason` (a floor.changed reason: yield, muted, removed,
    expired, left, ...); the hook gives it on or frees it."""

    def __call__(self, session: GroupSession, holder: Participant, now: datetime, reason: str, /) -> None: ...


class MessageStoredHook(Protocol):
    """A message is stored (its id, seq, session and sender are set): e.g. moderation's crisis scan.

    It runs in the message's transaction, but on PostgreSQL before chat.send's INSERT, which leaves
    with the COMMIT (rooms.actions.chat.announce): a hook writes and sends on commit, and does not
    look for the message's row.
    """

    def __call__(self, message: Message, /) -> None: ...


class StateContributor(Protocol):
    """Fields of `session.state` for this viewer, by SessionState field name (e.g. facilitator: `agenda` and
    `stats`, for facilitators only; None leaves a field out). Runs in the catch-up read, outside any lock;
    a field is filled by one contributor only."""

    def __call__(self, session: GroupSession, viewer: Participant, now: datetime, /) -> Mapping[str, object]: ...


class RetentionHook(Protocol):
    """The retention purge at `now`, in its transaction: the app deletes what its own policy says is past keeping,
    and says how many of what it deleted (e.g. {"goals": 2}) for the command's report."""

    def __call__(self, now: datetime, /) -> Mapping[str, int]: ...


@dataclass(frozen=True)
class DashboardSection:
    """A block of a member's dashboard from an app above the core: the template it includes, and that
    template's `section` (e.g. program: the patient's two weeks, the calendar feed)."""

    template: str
    section: Mapping[str, object]


class DashboardContributor(Protocol):
    """This member's section of the dashboard at `now`, or None (nothing to show them)."""

    def __call__(self, member: Member, now: datetime, /) -> DashboardSection | None: ...


class DemoSeeder(Protocol):
    """The `demo` command's part of an app, after the core's members and sessions exist: idempotent, in the
    command's transaction; returns lines to print (e.g. program: the running series)."""

    def __call__(self, now: datetime, /) -> list[str]: ...


periodic_duties: Registry[PeriodicDuty] = Registry("periodic duties")
arrival_hooks: Registry[PresenceHook] = Registry("arrival hooks")
departure_hooks: Registry[PresenceHook] = Registry("departure hooks")
absence_hooks: Registry[AbsenceHook] = Registry("absence hooks")
session_ended_hooks: Registry[SessionEndedHook] = Registry("session-ended hooks")
floor_released_hooks: Registry[FloorReleasedHook] = Registry("floor-released hooks")
message_stored_hooks: Registry[MessageStoredHook] = Registry("message-stored hooks")
state_contributors: Registry[StateContributor] = Registry("session.state contributors")
retention_hooks: Registry[RetentionHook] = Registry("retention hooks")
dashboard_sections: Registry[DashboardContributor] = Registry("dashboard sections")
demo_seeders: Registry[DemoSeeder] = Registry("demo seeders")


def register_duty(duty: PeriodicDuty) -> None:
    periodic_duties.register(duty.name, duty)
