"""Facilitation's own records; the prompts and the room clock it uses are core models (rooms.models)."""

from django.db import models


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
