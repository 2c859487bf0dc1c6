"""Scheduling, starting and ending sessions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.models import Member, Role
from accounts.provisioning import ProvisioningError
from config.text import clean_line, has_visible_text
from rooms.actions import (
    room_as_facilitator,
)
from rooms.audit import record
from rooms.broadcast import send_event_on_commit
from rooms.errors import SESSION_ENDED, ActionError
from rooms.extensions import session_ended_hooks
from rooms.models import Connection, GroupSession, Kind, Participant, ParticipantRole, Status
from rooms.rules import default_mode
from rooms.schemas import SessionStatusEvent


def check_schedule(
    title: str, facilitator: str, patients: list[str], kind: str, duration: int, co_facilitators: Sequence[str] = ()
) -> tuple[list[Member], list[Member]]:
    """The session's facilitators (the lead first, then the co-facilitators) and its patients."""
    if not has_visible_text(clean_line(title)):
        raise ProvisioningError("title must not be empty")
    if kind not in Kind.values:
        raise ProvisioningError(f"kind must be group or individual, not {kind!r}")
    if duration < 1:
        raise ProvisioningError("duration must be at least 1 minute")
    leads = [facilitator, *co_facilitators]
    if len(set(leads)) != len(leads):
        raise ProvisioningError("a facilitator is listed twice")
    found_leads = {m.username: m for m in Member.objects.filter(username__in=leads)}
    facilitators = []
    for username in leads:
        lead = found_leads.get(username)
        if lead is None:
            raise ProvisioningError(f"no member named {username!r}")
        if lead.role != Role.FACILITATOR:
            raise ProvisioningError(f"{username!r} is a {lead.role}, not a facilitator")
        facilitators.append(lead)
    if len(set(patients)) != len(patients):
        raise ProvisioningError("a patient is listed twice")
    found = {m.username: m for m in Member.objects.filter(username__in=patients)}
    roster = []
    for username in patients:
        member = found.get(username)
        if member is None:
            raise ProvisioningError(f"no member named {username!r}")
        if member.role != Role.PATIENT:
            raise ProvisioningError(f"{username!r} is a {member.role}, not a patient")
        roster.append(member)
    if not roster:
        raise ProvisioningError("a session needs at least one patient")
    if kind == Kind.INDIVIDUAL and len(roster) != 1:
        raise ProvisioningError("an individual session has exactly one patient")
    return facilitators, roster


@transaction.atomic
def do_schedule_session(
    *,
    title: str,
    facilitator: str,
    patients: list[str],
    kind: str = Kind.GROUP,
    starts_at: datetime,
    duration_minutes: int = 60,
    allow_guests: bool = False,
    co_facilitators: Sequence[str] = (),
) -> GroupSession:
    """Every facilitator listed gets a facilitator seat: each has the full console."""
    facilitators, roster = check_schedule(title, facilitator, patients, kind, duration_minutes, co_facilitators)
    session = GroupSession.objects.create(
        title=clean_line(title),
        kind=kind,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        allow_guests=allow_guests,
        mode=default_mode(kind),
    )
    seats = [(m, ParticipantRole.FACILITATOR) for m in facilitators] + [(m, ParticipantRole.PATIENT) for m in roster]
    Participant.objects.bulk_create(
        Participant(session=session, member=m, role=role, display_name=m.display_name, roster_position=i)
        for i, (m, role) in enumerate(seats)
    )
    return session


def do_start_session(session_id: int, actor_id: int, now: datetime) -> None:
    with room_as_facilitator(session_id, actor_id) as (session, actor):
        if session.status == Status.ENDED:
            raise ActionError("not_live", _("This session has ended."))
        if session.status == Status.LIVE:
            return
        session.status = Status.LIVE
        session.started_at = now
        session.save(update_fields=["status", "started_at"])
        record(session, actor, "session.start", now)
        send_event_on_commit(session.pk, SessionStatusEvent(status=Status.LIVE), to="everyone")


def do_end_session(session_id: int, actor_id: int, now: datetime) -> None:
    """End for everyone: status goes out, every connection is closed with 4410, passes lapse."""
    with room_as_facilitator(session_id, actor_id) as (session, actor):
        if session.status == Status.ENDED:
            raise ActionError("not_live", _("This session has already ended."))
        session.status = Status.ENDED
        session.ended_at = now
        session.floor_holder = None
        session.floor_expires_at = None
        session.save(update_fields=["status", "ended_at", "floor_holder", "floor_expires_at"])
        # Unredeemed passes lapse with the session (the join view refuses them with 410).
        Participant.objects.filter(session=session).update(hand_raised_at=None)
        Connection.objects.filter(participant__session=session).delete()
        for hook in session_ended_hooks:  # e.g. facilitator: attendance spans and the floor turn end here
            hook(session, now)
        record(session, actor, "session.end", now)
        send_event_on_commit(
            session.pk, SessionStatusEvent(status=Status.ENDED), to="everyone", effect=f"close:{SESSION_ENDED}"
        )


def default_starts_at(now: datetime, starts_in_minutes: int) -> datetime:
    return (now + timedelta(minutes=starts_in_minutes)).replace(microsecond=0)
