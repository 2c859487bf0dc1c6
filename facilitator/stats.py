"""Facilitator-only read side: the agenda, participation balance, and the stats ticker.

Nobody but facilitators ever receives what this module builds: `session.state`
includes it only for a facilitator viewer, and the ticker's `stats` events are
envelopes addressed `to="facilitators"`, handed only to the worker's own
connections (each worker computes a room's stats once per tick, and only for
rooms where it serves at least one facilitator).
"""

from __future__ import annotations

import asyncio
import weakref
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from channels.db import database_sync_to_async
from django.db.models import Q

from facilitator.models import AgendaItem, FloorTurn
from facilitator.rules import Balance, Speaker, Turn, participation_balance
from rooms.broadcast import Envelope, make_envelope
from rooms.extensions import DutyTick, PeriodicDuty
from rooms.models import GroupSession, Participant, ParticipantRole, Status
from rooms.schemas import AgendaItemOut, ParticipantStatsOut, StatsEvent, StatsOut
from rooms.serializers import prompt_out

# Stats go out at most this often.
STATS_SECONDS = 5.0


def agenda_out(items: Iterable[AgendaItem]) -> list[AgendaItemOut]:
    return [
        AgendaItemOut(item_id=i.pk, position=i.position, prompt=prompt_out(i.prompt), posted_at=i.posted_at)
        for i in items
    ]


def load_agenda(session_id: int) -> list[AgendaItemOut]:
    return agenda_out(AgendaItem.objects.filter(session_id=session_id).select_related("prompt"))


def load_stats(session: GroupSession, now: datetime) -> StatsOut:
    """Messages, characters and floor seconds per participant in this session, and who has not spoken."""
    return stats_out(*load_rooms_balance([session], now)[session.pk], now)


def load_rooms_balance(sessions: list[GroupSession], now: datetime) -> dict[int, tuple[list[Balance], list[int]]]:
    """The participation balance of several rooms in two queries (the ticker's, every few seconds).

    Each person's messages and characters are counts kept on their row by the actions
    (Participant.room_messages), so a tick reads one row per person and per floor turn,
    however long the sessions have run.
    """
    by_id = {session.pk: session for session in sessions}
    speakers: dict[int, list[Speaker]] = defaultdict(list)
    people = (
        Participant.objects.filter(session__in=list(by_id), removed_at__isnull=True)
        .filter(Q(admitted=True) | ~Q(role=ParticipantRole.GUEST))
        .order_by("roster_position", "pk")
        .values_list("session_id", "pk", "role", "room_messages", "room_characters")
    )
    for session_id, participant_id, role, sent, chars in people:
        speakers[session_id].append(Speaker(participant_id, role, sent, chars))
    turns: dict[int, list[Turn]] = defaultdict(list)
    for t in FloorTurn.objects.filter(session__in=list(by_id)).order_by("pk"):
        open_until = by_id[t.session_id].floor_expires_at if t.ended_at is None else None
        turns[t.session_id].append(Turn(t.participant_id, t.started_at, t.ended_at, open_until))
    return {session_id: participation_balance(speakers[session_id], turns[session_id], now) for session_id in by_id}


def stats_out(
    rows: list[Balance], silent: list[int], now: datetime, *, as_event: type[StatsOut] = StatsOut
) -> StatsOut:
    return as_event(
        participants=[
            ParticipantStatsOut(
                participant_id=r.participant_id,
                messages=r.messages,
                characters=r.characters,
                floor_seconds=r.floor_seconds,
            )
            for r in rows
        ],
        not_spoken=silent,
        at=now,
    )


def stats_envelopes(session_ids: Iterable[int], now: datetime, last_sent: dict[int, str]) -> list[tuple[str, Envelope]]:
    """A facilitators-only `stats` envelope for each live room whose figures changed since `last_sent`.

    The fingerprint is the figures' repr (plain dataclasses), so an unchanged room costs
    no serialization at all, and a changed one a single one.
    """
    envelopes = []
    live = list(GroupSession.objects.filter(pk__in=list(session_ids), status=Status.LIVE))
    for session_id, (rows, silent) in load_rooms_balance(live, now).items():
        fingerprint = repr((rows, silent))
        if last_sent.get(session_id) != fingerprint:
            event = stats_out(rows, silent, now, as_event=StatsEvent)
            envelopes.append((fingerprint, make_envelope(session_id, event, to="facilitators")))
    return envelopes


# A tick computes one slice of the rooms, so that the work (a few milliseconds of Python
# for fifty rooms) comes in small pieces rather than one burst that delays the worker's
# deliveries; each room is still computed every STATS_SECONDS.
STATS_SLICES = 5


def stats_slice(rooms: list[int], tick: int, slices: int = STATS_SLICES) -> list[int]:
    """The rooms whose turn it is at this tick: over `slices` consecutive ticks, each room exactly once."""
    return [room for room in rooms if room % slices == tick % slices]


@dataclass
class TickerState:
    """What one hub's ticker last sent per room (without `at`: unchanged is not resent)."""

    sent: dict[int, str] = field(default_factory=dict)


_tickers: weakref.WeakKeyDictionary[Any, TickerState] = weakref.WeakKeyDictionary()


async def stats_tick(tick: DutyTick) -> None:
    """The stats duty (every STATS_SECONDS / STATS_SLICES): compute this tick's rooms once for this worker
    and hand their stats to its own facilitators."""
    rooms = tick.rooms.rooms_with_local(ParticipantRole.FACILITATOR)
    ticker = _tickers.setdefault(tick.rooms, TickerState())
    for gone in set(ticker.sent) - set(rooms):
        del ticker.sent[gone]
    due = stats_slice(rooms, tick.number)
    if not due:
        return
    sent = {room: ticker.sent[room] for room in due if room in ticker.sent}
    envelopes = await database_sync_to_async(stats_envelopes, thread_sensitive=False)(due, tick.now, sent)
    for fingerprint, envelope in envelopes:
        ticker.sent[envelope["session_id"]] = fingerprint
        await tick.rooms.deliver_local(envelope)
        await asyncio.sleep(0)


# A slice every STATS_SECONDS / STATS_SLICES, the first one STATS_SECONDS after the hub starts
# (facilitators have just had the stats in their session.state).
STATS_TICK = PeriodicDuty(
    name="facilitator.stats",
    every_seconds=lambda: STATS_SECONDS / STATS_SLICES,
    first_after_seconds=lambda: STATS_SECONDS * (STATS_SLICES - 1) / STATS_SLICES,
    run=stats_tick,
)
