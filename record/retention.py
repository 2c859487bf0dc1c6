"""The clinical record's own retention (RECORD_RETENTION_DAYS), applied by the core's purge (rooms.extensions).

The record is not chat: message text may go after RETENTION_DAYS (even at once with 0), while a patient's
goals, reviews, notes and amendments stay until RECORD_RETENTION_DAYS have passed since the patient's
last session (the latest start of any session, of either kind, they are or were on the roster of).
A patient with a session still to come keeps their record, however old the rest is.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Max, Q

from accounts.models import Member
from record.models import Goal, GoalReview, NoteAmendment, ProgressNote
from rooms.models import ParticipantRole


def expired_patients(now: datetime, record_days: int) -> list[int]:
    """Members whose last session started more than `record_days` before `now`."""
    cutoff = now - timedelta(days=record_days)
    as_patient = Q(participations__role=ParticipantRole.PATIENT)
    return list(
        Member.objects.annotate(last_session=Max("participations__session__starts_at", filter=as_patient))
        .filter(last_session__lt=cutoff)
        .filter(Q(goals__isnull=False) | Q(progress_notes__isnull=False))
        .values_list("pk", flat=True)
        .distinct()
    )


def purge_expired_records(now: datetime) -> Mapping[str, int]:
    patients = expired_patients(now, settings.RECORD_RETENTION_DAYS)
    if not patients:
        return {}
    notes = ProgressNote.objects.filter(patient_id__in=patients)
    amendments, _ = NoteAmendment.objects.filter(note__in=notes).delete()
    reviews, _ = GoalReview.objects.filter(goal__patient_id__in=patients).delete()
    goals, _ = Goal.objects.filter(patient_id__in=patients).delete()
    notes_deleted, _ = notes.delete()
    return {"goals": goals, "goal reviews": reviews, "progress notes": notes_deleted, "note amendments": amendments}
