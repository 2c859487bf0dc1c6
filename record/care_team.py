"""Who may read a patient's record: their care team, and nobody else.

A patient's care team is every facilitator (co-facilitators included: each is a facilitator
participant of the session) of any session the patient is or was on the roster of. Everyone
else (another patient, a facilitator outside the team, a guest, someone signed out) is told
there is no such patient (404), so the record's existence is not disclosed either.
"""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import Member, Role
from rooms.models import GroupSession, Participant, ParticipantRole


def sessions_of_patient(patient: Member) -> QuerySet[GroupSession]:
    """Every session the patient is or was on the roster of (removed seats included), of either kind."""
    return GroupSession.objects.filter(participants__member=patient, participants__role=ParticipantRole.PATIENT)


def care_team(patient: Member) -> QuerySet[Member]:
    return Member.objects.filter(
        participations__role=ParticipantRole.FACILITATOR,
        participations__session__in=sessions_of_patient(patient),
    ).distinct()


def in_care_team(member: Member, patient: Member) -> bool:
    return Participant.objects.filter(
        member=member, role=ParticipantRole.FACILITATOR, session__in=sessions_of_patient(patient)
    ).exists()


def patient_for(viewer: object, username: str) -> Member | None:
    """The patient `username` if `viewer` (request.user) is on their care team; None for anyone else."""
    if not isinstance(viewer, Member) or not viewer.is_active or viewer.role != Role.FACILITATOR:
        return None
    patient = Member.objects.filter(username=username, role=Role.PATIENT).first()
    if patient is None or not in_care_team(viewer, patient):
        return None
    return patient
