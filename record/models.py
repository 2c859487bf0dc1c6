"""The clinical record: goals that carry across sessions, their reviews, and signed progress notes.

The record is not chat: it outlives the retention purge of message text (rooms.actions.retention) and
goes only after RECORD_RETENTION_DAYS since the patient's last session (record.retention). So no row
here is deleted with a room's rows: a session or a member with a record cannot be deleted (PROTECT),
and the people who wrote it are also kept by name (`*_label`), should their account go.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from rooms.models import GoalStatus

GOAL_TEXT_MAX = 300
GOAL_WHY_MAX = 500
REVIEW_NOTE_MAX = 2000
AMENDMENT_MAX = 5000
NOTE_FIELD_MAX = 10000
SCALE_MAX = 10  # progress, importance and confidence run from 0 to 10


class Goal(models.Model):
    """One goal of one patient, in the patient's words; it carries across sessions of either kind."""

    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="goals")
    text = models.CharField(max_length=GOAL_TEXT_MAX)
    why = models.CharField(max_length=GOAL_WHY_MAX, blank=True)
    status = models.CharField(max_length=16, choices=GoalStatus.choices, default=GoalStatus.ACTIVE)
    set_in = models.ForeignKey("rooms.GroupSession", on_delete=models.PROTECT, related_name="goals_set")
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    set_by_label = models.CharField(max_length=120)
    set_at = models.DateTimeField()

    class Meta:
        ordering = ["set_at", "pk"]

    def __str__(self) -> str:
        return f"goal {self.pk} of member {self.patient_id}"


class GoalReview(models.Model):
    """Progress on a goal as reviewed in one session; importance and confidence are the readiness ruler."""

    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="reviews")
    session = models.ForeignKey("rooms.GroupSession", on_delete=models.PROTECT, related_name="goal_reviews")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    by_label = models.CharField(max_length=120)
    progress = models.PositiveSmallIntegerField()
    note = models.TextField(max_length=REVIEW_NOTE_MAX, blank=True)
    importance = models.PositiveSmallIntegerField(null=True, blank=True)
    confidence = models.PositiveSmallIntegerField(null=True, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]


class NoteFormat(models.TextChoices):
    DAP = "dap", _("DAP (data, assessment, plan)")
    SOAP = "soap", _("SOAP (subjective, objective, assessment, plan)")
    FREE = "free", _("Free text")


class ProgressNote(models.Model):
    """A session's note on one patient (patient set) or its group summary (patient null): a draft until signed,
    then locked; what follows a signature is an amendment."""

    session = models.ForeignKey("rooms.GroupSession", on_delete=models.PROTECT, related_name="progress_notes")
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="progress_notes"
    )
    patient_label = models.CharField(max_length=120, blank=True)
    format = models.CharField(max_length=8, choices=NoteFormat.choices, default=NoteFormat.DAP)
    fields = models.JSONField(default=dict)  # the format's fields by name: {"data": ..., "assessment": ...}
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    author_label = models.CharField(max_length=120)
    updated_at = models.DateTimeField()
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    signed_by_label = models.CharField(max_length=120, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["session_id", "patient_label", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "patient"], condition=models.Q(patient__isnull=False), name="one_note_per_patient"
            ),
            models.UniqueConstraint(
                fields=["session"], condition=models.Q(patient__isnull=True), name="one_group_summary"
            ),
        ]

    @property
    def signed(self) -> bool:
        return self.signed_at is not None


class NoteAmendment(models.Model):
    """Text appended to a signed note: who, when, what. Never edited."""

    note = models.ForeignKey(ProgressNote, on_delete=models.CASCADE, related_name="amendments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    author_label = models.CharField(max_length=120)
    text = models.TextField(max_length=AMENDMENT_MAX)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]
