"""Facilitation's own records; the prompts and the room clock it uses are core models (rooms.models)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AgendaItem(models.Model):
    """One planned prompt in a session's agenda; `agenda.next` posts the first one not yet posted."""

    session = models.ForeignKey("rooms.GroupSession", on_delete=models.CASCADE, related_name="agenda_items")
    prompt = models.ForeignKey("rooms.Prompt", on_delete=models.CASCADE, related_name="agenda_items")
    position = models.PositiveIntegerField(default=0)
    posted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.position}. {self.prompt.text[:60]}"


class Attendance(models.Model):
    """One presence span: from someone's first open connection to their last one closing.

    Kept after the session ends (the attendance page and its CSV read it).
    """

    session = models.ForeignKey("rooms.GroupSession", on_delete=models.CASCADE, related_name="attendance")
    participant = models.ForeignKey("rooms.Participant", on_delete=models.CASCADE, related_name="attendance")
    joined_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["joined_at", "id"]
        indexes = [models.Index(fields=["participant", "left_at"], name="attendance_open_span")]

    def __str__(self) -> str:
        return f"{self.participant_id}: {self.joined_at:%H:%M:%S} - {self.left_at or 'now'}"


class FloorTurn(models.Model):
    """One spell holding the floor: participation stats add these up."""

    session = models.ForeignKey("rooms.GroupSession", on_delete=models.CASCADE, related_name="floor_turns")
    participant = models.ForeignKey("rooms.Participant", on_delete=models.CASCADE, related_name="floor_turns")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["started_at", "id"]


class SeatStatus(models.TextChoices):
    """A roster seat's attendance once the session ended: derived from the presence spans
    (facilitator.attendance.seat_status), or set by a facilitator (SeatStatusCorrection)."""

    PRESENT = "present", _("Present")
    LATE = "late", _("Late")
    LEFT_EARLY = "left_early", _("Left early")
    ABSENT = "absent", _("Absent")
    # Only ever set by a facilitator, never derived.
    EXCUSED = "excused", _("Excused")


class SeatStatusCorrection(models.Model):
    """A facilitator's excuse or correction of one seat's derived status; the latest one counts.

    Kept as rows (never updated) so that every correction stays visible beside its audit entry.
    """

    session = models.ForeignKey("rooms.GroupSession", on_delete=models.CASCADE, related_name="seat_corrections")
    participant = models.ForeignKey("rooms.Participant", on_delete=models.CASCADE, related_name="seat_corrections")
    status = models.CharField(max_length=16, choices=SeatStatus.choices)
    reason = models.CharField(max_length=500)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    set_at = models.DateTimeField()

    class Meta:
        ordering = ["set_at", "id"]

    def __str__(self) -> str:
        return f"{self.participant_id}: {self.status}"
