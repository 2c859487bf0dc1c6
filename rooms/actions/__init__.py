"""Writing the room's state. Consumers, views and commands call these; nothing else writes.

Zulip's shape: `check_*` validates and authorizes and raises ActionError;
`do_*` writes inside a transaction and broadcasts on commit. Every action that
changes a room first locks its GroupSession row (`lock_room`), which makes the
row the room's mutex across threads and worker processes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from django.db import connection, transaction
from django.db.models import BooleanField, F, Model, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext_lazy as _

from rooms.errors import ActionError
from rooms.models import GroupSession, Participant, ParticipantRole, Status
from rooms.rules import Refusal, RoomView, SpeakerView


def lock_room(session_id: int) -> GroupSession:
    try:
        return GroupSession.objects.select_for_update().get(pk=session_id)
    except GroupSession.DoesNotExist:
        raise ActionError("not_found", _("No such session.")) from None


def skip_locked() -> bool:
    """select_for_update's `skip_locked` for a claim that passes over rows another worker holds (SQLite: no;
    it locks the whole database for a write, so there is nothing to skip)."""
    return bool(connection.features.has_select_for_update_skip_locked)


M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class DueCondition(Generic[M]):
    """A deadline condition on one table, written once: SQL with one parameter, the time `now`.

    A periodic duty asks it four times a second on every worker (`is_due`: one plain
    statement, a fifth of the CPU of building and compiling the same query through the
    ORM each time) and claims its rows by it (`rows`), so the check and the claim
    select on the same condition and cannot drift apart. Given as a duty's `due` itself,
    the hub asks every condition of one tick in a single statement (`all_due`): one
    query per tick, not one per duty (issue 25: an idle worker's queries per second).
    """

    model: type[M]
    sql: str  # a WHERE condition; {table} stands for the model's table (qualify columns: claims may join)
    deadline: str  # the column the condition compares with `now`, indexed for the few rows that have one

    # `sql` is a constant of the code, never input, and `now` is always a bound parameter: hence the noqa.

    def _table(self) -> str:
        return connection.ops.quote_name(self.model._meta.db_table)

    def _params(self, now: datetime) -> list[Any]:
        return [connection.ops.adapt_datetimefield_value(now)]

    def exists_sql(self) -> str:
        """Whether a row is due, as a query ordered by the deadline and limited to one row, not EXISTS.

        The tables hold every session and participant the clinic ever had, and with autovacuum off
        (the bench machines, many deployments) PostgreSQL has no statistics: it guesses a third of
        the rows are due, and an EXISTS, expecting a match at once, reads them all to find none,
        four times a second on every worker. Ordered by the deadline, the cheapest plan is the
        deadline's index, which holds only the rows that have one (tests/test_due_plans.py).
        """
        table = self._table()
        deadline = f"{table}.{connection.ops.quote_name(self.deadline)}"
        condition = self.sql.format(table=table)
        return f"(SELECT 1 FROM {table} WHERE {condition} ORDER BY {deadline} LIMIT 1) IS NOT NULL"  # noqa: S608

    def is_due(self, now: datetime) -> bool:
        return all_due([self], now)[0]

    def __call__(self, now: datetime) -> bool:
        """A PeriodicDuty's `due`."""
        return self.is_due(now)

    def rows(self, now: datetime) -> QuerySet[M]:
        condition = RawSQL(self.sql.format(table=self._table()), self._params(now), output_field=BooleanField())  # noqa: S611
        return self.model._default_manager.filter(condition)


def all_due(conditions: Sequence[DueCondition[Any]], now: datetime) -> list[bool]:
    """Each condition's `is_due` at `now`, in one statement, whatever their number."""
    statement = "SELECT " + ", ".join(condition.exists_sql() for condition in conditions)
    with connection.cursor() as cursor:
        cursor.execute(statement, [param for condition in conditions for param in condition._params(now)])
        row = cursor.fetchone()
    return [bool(value) for value in row]


def load_actor(session: GroupSession, participant_id: int) -> Participant:
    try:
        return Participant.objects.select_related("guest_of").get(pk=participant_id, session=session)
    except Participant.DoesNotExist:
        raise ActionError("not_allowed", _("You are not in this session.")) from None


def load_target(session: GroupSession, participant_id: int) -> Participant:
    try:
        return Participant.objects.select_related("guest_of").get(
            pk=participant_id, session=session, removed_at__isnull=True
        )
    except Participant.DoesNotExist:
        raise ActionError("not_found", _("No such participant in this session.")) from None


@contextmanager
def room_as_participant(session_id: int, participant_id: int) -> Iterator[tuple[GroupSession, Participant]]:
    """How every room action opens: one transaction, the room locked, the actor loaded."""
    with transaction.atomic():
        session = lock_room(session_id)
        yield session, load_actor(session, participant_id)


@contextmanager
def room_as_facilitator(
    session_id: int, facilitator_id: int, *, open_only: bool = False
) -> Iterator[tuple[GroupSession, Participant]]:
    """As room_as_participant, for facilitator-only actions; `open_only` refuses an ended session."""
    with room_as_participant(session_id, facilitator_id) as (session, actor):
        check_facilitator(actor)
        if open_only:
            check_not_ended(session)
        yield session, actor


def room_view(session: GroupSession) -> RoomView:
    return RoomView(session.status, session.mode, session.floor_holder_id, session.floor_expires_at)


def speaker_view(participant: Participant, now: datetime) -> SpeakerView:
    return SpeakerView(
        participant_id=participant.pk,
        role=participant.role,
        admitted=participant.admitted,
        muted=participant.is_muted(now),
        removed=participant.removed_at is not None,
    )


def refuse(refusal: Refusal | None) -> None:
    if refusal is not None:
        extra = {"retry_after": refusal.retry_after} if refusal.retry_after is not None else {}
        raise ActionError(refusal.code, refusal.message, **extra)


def check_facilitator(actor: Participant) -> None:
    if actor.role != ParticipantRole.FACILITATOR or actor.removed_at is not None:
        raise ActionError("not_allowed", _("Only a facilitator can do that."))


def check_not_ended(session: GroupSession) -> None:
    if session.status == Status.ENDED:
        raise ActionError("not_live", _("This session has ended."))


def next_seq(session: GroupSession) -> int:
    """Allocate the room's next message seq (the room row is locked by the caller)."""
    GroupSession.objects.filter(pk=session.pk).update(last_seq=F("last_seq") + 1)
    session.last_seq += 1
    return session.last_seq
