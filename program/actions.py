"""The program's actions: series, roster changes from a date, cancel and reschedule (Zulip style: check, then do)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q

from accounts.models import Member, Role
from accounts.provisioning import ProvisioningError
from config.text import clean_line
from program.models import ChangeKind, Series, SeriesMember, SeriesSession, SessionChange
from program.rules import ScheduleError, check_series_size, series_starts
from rooms.actions import lock_room
from rooms.actions.lifecycle import check_schedule, do_schedule_session
from rooms.actions.sign_out import do_recheck_sockets_of
from rooms.audit import record
from rooms.broadcast import send_event_on_commit
from rooms.errors import SESSION_ENDED, ActionError
from rooms.models import Connection, GroupSession, Kind, Participant, ParticipantRole, Status
from rooms.schemas import SessionStatusEvent

REASON_MAX_CHARS = 300


def clinic_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


@transaction.atomic
def do_schedule_series(
    *,
    title: str,
    facilitator: str,
    co_facilitators: Sequence[str],
    patients: Sequence[str],
    weekdays: Sequence[int],
    at: time,
    first_date: date,
    weeks: int,
    duration_minutes: int = 60,
    allow_guests: bool = False,
) -> tuple[Series, list[GroupSession]]:
    """Every session of the series, each with the whole roster; all or nothing."""
    try:
        check_series_size(weeks, duration_minutes)
        zone = clinic_zone()
        starts = series_starts(first_date, weekdays, at, weeks, zone)
    except ScheduleError as error:
        raise ProvisioningError(str(error)) from None
    facilitators, roster = check_schedule(
        title, facilitator, list(patients), Kind.GROUP, duration_minutes, co_facilitators
    )
    series = Series.objects.create(
        title=clean_line(title),
        weekdays=",".join(str(n) for n in weekdays),
        local_time=at,
        time_zone=zone.key,
        duration_minutes=duration_minutes,
        first_date=first_date,
        weeks=weeks,
        allow_guests=allow_guests,
    )
    SeriesMember.objects.bulk_create(
        SeriesMember(series=series, member=m, role=m.role, position=i) for i, m in enumerate([*facilitators, *roster])
    )
    sessions = [
        do_schedule_session(
            title=title,
            facilitator=facilitator,
            co_facilitators=co_facilitators,
            patients=list(patients),
            starts_at=starts_at,
            duration_minutes=duration_minutes,
            allow_guests=allow_guests,
        )
        for starts_at in starts
    ]
    SeriesSession.objects.bulk_create(SeriesSession(series=series, session=s) for s in sessions)
    return series, sessions


def series_sessions(series: Series) -> list[GroupSession]:
    """The series' sessions in time order, each with `patient_count` (its patient seats)."""
    return list(
        GroupSession.objects.filter(series_link__series=series)
        .annotate(patient_count=Count("participants", filter=Q(participants__role=ParticipantRole.PATIENT)))
        .order_by("starts_at", "pk")
    )


def coming_from(series: Series, from_date: date, now: datetime) -> list[GroupSession]:
    """The series' sessions a roster change touches: on or after `from_date` (local), not started, not cancelled.

    Past ones never change: their roster is the record of who was expected then.
    """
    zone = ZoneInfo(series.time_zone)
    return [
        s
        for s in series_sessions(series)
        if s.status == Status.SCHEDULED and s.starts_at > now and s.starts_at.astimezone(zone).date() >= from_date
    ]


@transaction.atomic
def do_change_roster(
    series_id: int, username: str, *, add: bool, from_date: date, now: datetime, actor: Member | None
) -> list[GroupSession]:
    """Add a patient to (or remove one from) the standing roster and every coming session from a date on."""
    series = Series.objects.select_for_update().filter(pk=series_id).first()
    if series is None:
        raise ProvisioningError(f"no series {series_id}")
    patient = Member.objects.filter(username=username).first()
    if patient is None:
        raise ProvisioningError(f"no member named {username!r}")
    if patient.role != Role.PATIENT:
        raise ProvisioningError(f"{username!r} is a {patient.role}, not a patient")
    on_roster = SeriesMember.objects.filter(series=series, member=patient)
    if add and on_roster.exists():
        raise ProvisioningError(f"{username!r} is already on this series' roster")
    if not add and not on_roster.exists():
        raise ProvisioningError(f"{username!r} is not on this series' roster")
    if add:
        last = SeriesMember.objects.filter(series=series).order_by("-position").first()
        position = (last.position + 1) if last else 0
        SeriesMember.objects.create(series=series, member=patient, role=Role.PATIENT, position=position)
    else:
        on_roster.delete()
    touched = coming_from(series, from_date, now)
    for session in touched:
        lock_room(session.pk)
        actor_seat = Participant.objects.filter(session=session, member=actor).first() if actor else None
        if add:
            last_seat = Participant.objects.filter(session=session).order_by("-roster_position").first()
            seat, _ = Participant.objects.get_or_create(
                session=session,
                member=patient,
                defaults={
                    "role": ParticipantRole.PATIENT,
                    "display_name": patient.display_name,
                    "roster_position": (last_seat.roster_position + 1) if last_seat else 0,
                },
            )
            record(session, actor_seat, "roster.add", now, target=seat, series_id=series.pk)
        else:
            leaving = Participant.objects.filter(session=session, member=patient).first()
            if leaving is not None:
                # A session that has not started holds nothing of the seat worth keeping (no
                # messages, no attendance): the seat goes, so its reminders and feed entry go too.
                record(session, actor_seat, "roster.remove", now, target=leaving, series_id=series.pk)
                # Someone of them in the room now (waiting for the start) is closed with 4403 once this commits.
                do_recheck_sockets_of(participant_ids=[leaving.pk])
                leaving.delete()
    return touched


def check_coming(session: GroupSession, what: str) -> None:
    if session.status != Status.SCHEDULED:
        raise ActionError("not_live", f"Only a session that has not started can be {what}.")


def load_for_change(session_id: int, actor: Member | None) -> tuple[GroupSession, Participant | None]:
    """Lock the room; from a page the actor must be one of its facilitators (anyone else: no such session)."""
    try:
        session = lock_room(session_id)
    except ActionError:
        raise ActionError("not_found", f"no session {session_id}") from None
    if actor is None:
        return session, None
    seat = Participant.objects.filter(
        session=session, member=actor, role=ParticipantRole.FACILITATOR, removed_at__isnull=True
    ).first()
    if seat is None:
        raise ActionError("not_found", f"no session {session_id}")
    return session, seat


@transaction.atomic
def do_cancel_session(session_id: int, reason: str, now: datetime, actor: Member | None = None) -> SessionChange:
    """Cancel a coming session: anyone connected hears `session.status cancelled` and is closed with 4410;
    the roster is sent a notice (program.reminders)."""
    session, seat = load_for_change(session_id, actor)
    check_coming(session, "cancelled")
    reason = clean_line(reason)[:REASON_MAX_CHARS]
    session.status = Status.CANCELLED
    session.save(update_fields=["status"])
    Connection.objects.filter(participant__session=session).delete()
    change = SessionChange.objects.create(
        session=session,
        kind=ChangeKind.CANCELLED,
        reason=reason,
        previous_starts_at=session.starts_at,
        starts_at=session.starts_at,
        changed_at=now,
    )
    record(session, seat, "session.cancel", now, reason=reason)
    send_event_on_commit(
        session.pk, SessionStatusEvent(status=Status.CANCELLED), to="everyone", effect=f"close:{SESSION_ENDED}"
    )
    return change


@transaction.atomic
def do_reschedule_session(
    session_id: int, starts_at: datetime, now: datetime, actor: Member | None = None
) -> SessionChange:
    """Move a session that has not started; the roster is sent a notice, and reminders follow the new time."""
    session, seat = load_for_change(session_id, actor)
    check_coming(session, "moved")
    if starts_at.tzinfo is None:
        raise ActionError("invalid", "give the new start with its offset or in the clinic's time zone")
    previous = session.starts_at
    session.starts_at = starts_at
    session.save(update_fields=["starts_at"])
    change = SessionChange.objects.create(
        session=session, kind=ChangeKind.MOVED, previous_starts_at=previous, starts_at=starts_at, changed_at=now
    )
    record(session, seat, "session.reschedule", now, previous=previous.isoformat(), starts_at=starts_at.isoformat())
    return change
