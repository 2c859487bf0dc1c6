"""Every write of the clinical record. `check_*` authorizes and loads, `do_*` writes, audits and sends on commit.

Goals (over the room's socket) are written with the room locked like every room action, so a goal's event
leaves in the room's order; its audience is the session's facilitators and that patient on all their
connections (`to="facilitators"` plus the patient's seat: rooms.broadcast.is_recipient), nobody else.
Notes (pages) are written in a transaction of their own; signing and amending are audited.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from config.text import clean_line, clean_text, has_visible_text
from record.models import Goal, GoalReview, NoteAmendment, NoteFormat, ProgressNote
from record.rules import note_fields
from record.serializers import goal_out
from rooms.actions import check_facilitator, lock_room, room_as_participant
from rooms.audit import record
from rooms.broadcast import send_event_on_commit
from rooms.errors import ActionError
from rooms.models import GoalStatus, GroupSession, Participant, ParticipantRole
from rooms.schemas import GoalUpdated


def writer_label(participant: Participant) -> str:
    return f"{participant.display_name} ({participant.role})"


# ------------------------------------------------------------------ goals


def check_goal_patient(session: GroupSession, actor: Participant, participant_id: int) -> tuple[Participant, int]:
    """Whose goal this may be (their seat here and their member id): a facilitator names a patient on the
    roster, a patient only themselves."""
    if actor.role == ParticipantRole.PATIENT:
        if participant_id != actor.pk or actor.member_id is None:
            raise ActionError("not_allowed", _("You can set goals for yourself only."))
        return actor, actor.member_id
    check_facilitator(actor)
    patient = Participant.objects.filter(
        pk=participant_id, session=session, role=ParticipantRole.PATIENT, removed_at__isnull=True
    ).first()
    if patient is None or patient.member_id is None:
        raise ActionError("not_found", _("No such patient on this session's roster."))
    return patient, patient.member_id


def check_goal(session: GroupSession, actor: Participant, goal_id: int) -> tuple[Goal, Participant]:
    """The goal and its patient's seat here: it must be a goal of a patient on this session's roster, and a
    patient may touch only their own."""
    goal = Goal.objects.filter(pk=goal_id).first()
    if goal is None:
        raise ActionError("not_found", _("No such goal."))
    if actor.role == ParticipantRole.PATIENT:
        if goal.patient_id != actor.member_id:
            raise ActionError("not_allowed", _("You can review only your own goals."))
        return goal, actor
    check_facilitator(actor)
    patient = Participant.objects.filter(
        session=session, member_id=goal.patient_id, role=ParticipantRole.PATIENT, removed_at__isnull=True
    ).first()
    if patient is None:
        raise ActionError("not_found", _("No such goal of a patient on this session's roster."))
    return goal, patient


def check_goal_text(text: str, why: str | None) -> tuple[str, str]:
    text = clean_line(text)
    if not has_visible_text(text):
        raise ActionError("invalid", _("A goal needs some words: what does the patient want to do?"))
    return text, clean_text(why or "")


def announce_goal(session: GroupSession, goal: Goal, patient: Participant) -> None:
    """goal.updated, on commit, to the session's facilitators and to this patient's connections only."""
    event = GoalUpdated(goal=goal_out(goal, patient.pk, goal.reviews.order_by("at", "pk")))
    send_event_on_commit(session.pk, event, to="facilitators", ids=[patient.pk])


def do_set_goal(
    session_id: int, actor_id: int, participant_id: int, text: str, why: str | None, now: datetime
) -> Goal:
    text, why = check_goal_text(text, why)
    with room_as_participant(session_id, actor_id) as (session, actor):
        patient, member_id = check_goal_patient(session, actor, participant_id)
        goal = Goal.objects.create(
            patient_id=member_id,
            text=text,
            why=why,
            set_in=session,
            set_by_id=actor.member_id,
            set_by_label=writer_label(actor),
            set_at=now,
        )
        record(session, actor, "goal.set", now, target=patient, goal_id=goal.pk)
        announce_goal(session, goal, patient)
        return goal


def do_review_goal(
    session_id: int,
    actor_id: int,
    goal_id: int,
    now: datetime,
    *,
    progress: int,
    note: str | None = None,
    importance: int | None = None,
    confidence: int | None = None,
) -> GoalReview:
    with room_as_participant(session_id, actor_id) as (session, actor):
        goal, patient = check_goal(session, actor, goal_id)
        if goal.status == GoalStatus.DROPPED:
            raise ActionError("invalid", _("This goal was dropped; set a new one instead."))
        review = GoalReview.objects.create(
            goal=goal,
            session=session,
            by_id=actor.member_id,
            by_label=writer_label(actor),
            progress=progress,
            note=clean_text(note or ""),
            importance=importance,
            confidence=confidence,
            at=now,
        )
        record(session, actor, "goal.review", now, target=patient, goal_id=goal.pk, review_id=review.pk)
        announce_goal(session, goal, patient)
        return review


def do_set_goal_status(session_id: int, actor_id: int, goal_id: int, status: GoalStatus, now: datetime) -> Goal:
    with room_as_participant(session_id, actor_id) as (session, actor):
        check_facilitator(actor)
        goal, patient = check_goal(session, actor, goal_id)
        goal.status = status
        goal.save(update_fields=["status"])
        record(session, actor, "goal.status", now, target=patient, goal_id=goal.pk, status=str(status))
        announce_goal(session, goal, patient)
        return goal


# ------------------------------------------------------------------ progress notes


class NoteLocked(Exception):
    """The note is signed: it is not edited any more (the page answers 409), only amended."""


def check_note_patient(session: GroupSession, participant_id: int | None) -> Participant | None:
    """The roster patient a note is about (None: the group summary, which only a group session has)."""
    if participant_id is None:
        return None
    patient = Participant.objects.filter(
        pk=participant_id, session=session, role=ParticipantRole.PATIENT, member__isnull=False
    ).first()
    if patient is None:
        raise ActionError("not_found", _("No such patient on this session's roster."))
    return patient


def find_note(session: GroupSession, patient: Participant | None) -> ProgressNote | None:
    return ProgressNote.objects.filter(session=session, patient_id=patient.member_id if patient else None).first()


def do_save_note(
    session: GroupSession,
    author: Participant,
    patient: Participant | None,
    note_format: NoteFormat,
    fields: Mapping[str, str],
    now: datetime,
    *,
    sign: bool,
) -> ProgressNote:
    """Write a draft (or sign it); a signed note raises NoteLocked and is left as it was."""
    kept = {name: clean_text(fields.get(name, "")) for name in note_fields(note_format)}
    with transaction.atomic():
        # The room's lock orders two saves of one note (two tabs, two facilitators): the second finds the
        # first's row, or its signature, instead of failing on the one-note constraint.
        lock_room(session.pk)
        note = find_note(session, patient)
        if note is not None and note.signed:
            raise NoteLocked
        if note is None:
            note = ProgressNote(
                session=session,
                patient_id=patient.member_id if patient else None,
                patient_label=patient.display_name if patient else "",
            )
        note.format = note_format
        note.fields = kept
        note.author_id = author.member_id
        note.author_label = writer_label(author)
        note.updated_at = now
        if sign:
            note.signed_at = now
            note.signed_by_id = author.member_id
            note.signed_by_label = writer_label(author)
        note.save()
        if sign:
            record(session, author, "note.sign", now, target=patient, note_id=note.pk)
        return note


def do_amend_note(session: GroupSession, author: Participant, note_id: int, text: str, now: datetime) -> NoteAmendment:
    text = clean_text(text)
    if not has_visible_text(text):
        raise ActionError("invalid", _("An amendment needs some text."))
    with transaction.atomic():
        lock_room(session.pk)
        note = ProgressNote.objects.filter(pk=note_id, session=session).first()
        if note is None:
            raise ActionError("not_found", _("No such note in this session."))
        if not note.signed:
            raise NoteLocked  # a draft is edited, not amended (the page answers 409 too)
        amendment = NoteAmendment.objects.create(
            note=note, author_id=author.member_id, author_label=writer_label(author), text=text, at=now
        )
        target = (
            Participant.objects.filter(session=session, member_id=note.patient_id).first() if note.patient_id else None
        )
        record(session, author, "note.amend", now, target=target, note_id=note.pk, amendment_id=amendment.pk)
        return amendment
