"""Connections and presence: who is online, across every worker process."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q

from rooms.actions import DueCondition, lock_room, skip_locked
from rooms.actions.guest_announcements import announce_guest_presence
from rooms.broadcast import send_event_on_commit
from rooms.errors import (
    NO_SUCH_SESSION,
    NOT_ON_ROSTER,
    SESSION_ENDED,
    TOO_MANY_CONNECTIONS,
    RoomClosed,
)
from rooms.extensions import (
    PeriodicDuty,
    absence_hooks,
    arrival_hooks,
    deadline_tick_seconds,
    departure_hooks,
    in_database_thread,
)
from rooms.models import CLOSED_STATUSES, Connection, GroupSession, GuestPass, Participant, ParticipantRole, Status
from rooms.schemas import LobbyWaiting, ParticipantJoined, ParticipantLeft
from rooms.serializers import participant_out

# One person's open sockets to one session, on all workers together: a few tabs and devices,
# not the 30 sockets a script can hold (issue 22, class 5). The next one is closed with 4429.
MAX_CONNECTIONS_PER_PARTICIPANT = 5


class Identity:
    """Who a WebSocket belongs to: a signed-in member, or a guest holding a redeemed pass."""

    __slots__ = ("guest_participant_id", "member_id")

    def __init__(self, *, member_id: int | None = None, guest_participant_id: int | None = None) -> None:
        self.member_id = member_id
        self.guest_participant_id = guest_participant_id


def share_room(session_id: int) -> GroupSession:
    """The room's row locked FOR SHARE, for a connect: what changes the room (every action's `lock_room`,
    FOR UPDATE) waits for it and it for them, as before, but the connects of one room no longer wait for
    one another. Under an exclusive lock twelve people opening a room took turns, each holding it for its
    round trips and its commit (issue 25, C1). The person's own row is locked by `check_may_enter`.
    SQLite: BEGIN IMMEDIATE already holds the whole database."""
    rooms = GroupSession.objects.filter(pk=session_id)
    if connection.vendor == "postgresql":
        sql, params = rooms.query.sql_with_params()
        rooms = GroupSession.objects.raw(f"{sql} FOR SHARE", params)  # type: ignore[assignment]
    session = next(iter(rooms), None)
    if session is None:
        raise RoomClosed(NO_SUCH_SESSION)
    return session


def check_may_enter(session: GroupSession, identity: Identity) -> Participant:
    """The person's row, locked (FOR NO KEY UPDATE: a message insert's reference to it still passes): two of
    their tabs opening at once take turns, so exactly one of them is their arrival."""
    if session.status in CLOSED_STATUSES:
        raise RoomClosed(SESSION_ENDED)
    participants = Participant.objects.select_for_update(no_key=True, of=("self",)).filter(session=session)
    participant: Participant | None = None
    if identity.member_id is not None:
        participant = participants.filter(member_id=identity.member_id).first()  # a member is nobody's guest
    elif identity.guest_participant_id is not None:
        participant = (
            participants.select_related("guest_of")
            .filter(pk=identity.guest_participant_id, role=ParticipantRole.GUEST)
            .first()
        )
    if participant is None or participant.removed_at is not None:
        raise RoomClosed(NOT_ON_ROSTER)
    if participant.role == ParticipantRole.GUEST:
        guest_pass = GuestPass.objects.filter(guest=participant).first()
        if guest_pass is None or guest_pass.revoked_at is not None:
            raise RoomClosed(NOT_ON_ROSTER)
    return participant


def do_open_connection(
    session_id: int, identity: Identity, connection_id: str, worker_id: str, now: datetime
) -> Participant:
    """Register one WebSocket; the person's first connection announces them."""
    with transaction.atomic():
        session = share_room(session_id)
        participant = check_may_enter(session, identity)
        open_connections = Connection.objects.filter(participant=participant).count()
        if open_connections >= MAX_CONNECTIONS_PER_PARTICIPANT:
            raise RoomClosed(TOO_MANY_CONNECTIONS)
        was_online = open_connections > 0
        Connection.objects.create(
            id=connection_id, participant=participant, worker_id=worker_id, opened_at=now, seen_at=now
        )
        if not was_online:
            # Back within the grace period: their departure was never announced, so neither is this return.
            returning = participant.leaving_at is not None
            if participant.offline_since is not None or returning:  # as read under the room lock
                Participant.objects.filter(pk=participant.pk).update(offline_since=None, leaving_at=None)
            if not returning:
                announce_arrival(session, participant, now)
            for hook in arrival_hooks:
                hook(session, participant, now)
        return participant


def announce_arrival(session: GroupSession, participant: Participant, now: datetime) -> None:
    shown = participant_out(participant, online=True, now=now)
    if participant.role == ParticipantRole.GUEST and not participant.admitted:
        # Someone in the lobby is not in the room: only facilitators hear of them.
        send_event_on_commit(session.pk, ParticipantJoined(participant=shown), to="facilitators")
        send_event_on_commit(session.pk, LobbyWaiting(participant=shown), to="facilitators")
        announce_guest_presence(session, participant)  # their invitation is now "in_lobby"
    else:
        send_event_on_commit(session.pk, ParticipantJoined(participant=shown), exclude=[participant.pk])


def do_close_connection(connection_id: str, now: datetime) -> None:
    connection = Connection.objects.filter(pk=connection_id).values("participant__session_id").first()
    if connection is None:
        return  # already swept
    with transaction.atomic():
        session = lock_room(connection["participant__session_id"])
        row = Connection.objects.select_related("participant").filter(pk=connection_id).first()
        if row is None:
            return
        row.delete()
        depart_if_last(session, row.participant, now)


def depart_if_last(
    session: GroupSession, participant: Participant, now: datetime, *, offline_since: datetime | None = None
) -> bool:
    """Their last connection is gone: their visit ends (the departure hooks) and the absence grace period
    starts. The departure is announced when the grace has passed and they have not come back
    (`do_announce_departures`): a reconnect within it announces nothing (issue 22, class 5)."""
    if Connection.objects.filter(participant=participant).exists():
        return False
    left_at = offline_since or now
    leaving_at = left_at + timedelta(seconds=settings.CIRCLE["ABSENCE_GRACE_SECONDS"])
    Participant.objects.filter(pk=participant.pk).update(offline_since=left_at, leaving_at=leaving_at)
    for hook in departure_hooks:
        hook(session, participant, left_at)
    return True


def announce_departure(session: GroupSession, participant: Participant) -> None:
    to = "facilitators" if participant.role == ParticipantRole.GUEST and not participant.admitted else "members"
    send_event_on_commit(session.pk, ParticipantLeft(participant_id=participant.pk), to=to)
    if participant.role == ParticipantRole.GUEST and not participant.admitted and participant.removed_at is None:
        announce_guest_presence(session, participant)  # no longer waiting: "redeemed"


# People gone past the grace period whose departure is still to be announced: the departures duty's due
# check (through the partial index on leaving_at, rooms.models) and its claim.
LEAVING = DueCondition(Participant, "{table}.leaving_at <= %s", "leaving_at")


def announce_due_departures(session: GroupSession, now: datetime) -> int:
    """participant.left for each of the room's people whose grace has run out (room locked by the caller)."""
    leaving = list(LEAVING.rows(now).filter(session=session).select_related("guest_of"))
    Participant.objects.filter(pk__in=[p.pk for p in leaving]).update(leaving_at=None)
    for participant in leaving:
        if participant.removed_at is None:  # a removal was announced with participant.removed
            announce_departure(session, participant)
    return len(leaving)


def do_announce_departures(now: datetime) -> int:
    """The departures duty (run by every worker's hub): each room is claimed with SKIP LOCKED, so of
    several workers exactly one announces a departure; a room busy with another action waits a tick."""
    announced = 0
    due = list(LEAVING.rows(now).values_list("session_id", flat=True).distinct())
    for session_id in due:
        with transaction.atomic():
            session = GroupSession.objects.select_for_update(skip_locked=skip_locked()).filter(pk=session_id).first()
            if session is not None:
                announced += announce_due_departures(session, now)
    return announced


DEPARTURES = PeriodicDuty(
    name="rooms.departures",
    every_seconds=deadline_tick_seconds,
    due=LEAVING,
    run=in_database_thread(do_announce_departures),
)


def drop_connections(session: GroupSession, participant: Participant, now: datetime) -> None:
    """Someone removed or turned away: their sockets no longer count and their visit ends now (a departure,
    not announced: the caller broadcasts the event that closes the sockets)."""
    Connection.objects.filter(participant=participant).delete()
    Participant.objects.filter(pk=participant.pk).update(leaving_at=None)
    for hook in departure_hooks:
        hook(session, participant, now)


def do_refresh_worker_connections(worker_id: str, now: datetime) -> int:
    """The worker's heartbeat: one UPDATE marks all of its connections alive."""
    return Connection.objects.filter(worker_id=worker_id).update(seen_at=now)


def do_sweep_stale_connections(now: datetime) -> int:
    """Remove connections whose worker stopped beating, then release what absent people held.

    A person offline for longer than the grace period leaves the queue and
    loses the floor. People of a dead worker have been gone since it was last
    heard from, so their grace has already run out when the sweep finds them.
    Each room is handled under its lock, so two sweeping workers cannot both
    announce the same departure.
    """
    circle = settings.CIRCLE
    stale_before = now - timedelta(seconds=circle["STALE_SECONDS"])
    absent_before = now - timedelta(seconds=circle["ABSENCE_GRACE_SECONDS"])
    stale_rooms = set(
        Connection.objects.filter(seen_at__lt=stale_before).values_list("participant__session_id", flat=True)
    )
    rooms_with_absentees = set(
        Participant.objects.filter(offline_since__lte=absent_before, session__status=Status.LIVE)
        .filter(Q(hand_raised_at__isnull=False) | Q(session__floor_holder=F("pk")))
        .values_list("session_id", flat=True)
    )
    removed = 0
    for session_id in sorted(stale_rooms | rooms_with_absentees):
        with transaction.atomic():
            session = lock_room(session_id)
            stale = list(
                Connection.objects.select_related("participant").filter(
                    participant__session=session, seen_at__lt=stale_before
                )
            )
            for row in stale:
                row.delete()
            removed += len(stale)
            for participant in {row.participant for row in stale}:
                depart_if_last(session, participant, now, offline_since=absent_before)
            announce_due_departures(session, now)  # a dead worker's people: their grace has run out
            absent = list(
                Participant.objects.filter(session=session, offline_since__lte=absent_before, connections__isnull=True)
            )
            if absent:
                for hook in absence_hooks:
                    hook(session, absent, now)
    return removed


def worker_connections(worker_id: str) -> dict[str, datetime]:
    """The worker's connection rows: {connection id: opened_at} (a read, for the hub's reconciliation)."""
    return dict(Connection.objects.filter(worker_id=worker_id).values_list("id", "opened_at"))


def do_close_connections(connection_ids: list[str], now: datetime) -> None:
    """Close rows that have no socket behind them any more, announcing whoever thereby left."""
    for connection_id in connection_ids:
        do_close_connection(connection_id, now)


def do_close_worker_connections(worker_id: str, now: datetime) -> None:
    """A worker shutting down hands its rows over: people who reconnected elsewhere stay online."""
    do_close_connections(list(worker_connections(worker_id)), now)
