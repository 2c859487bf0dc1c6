from django.db import models


class PromptCategory(models.TextChoices):
    STRESS = "stress", "Stress"
    TRIGGERS = "triggers", "Triggers"
    MEDICATION = "medication", "Medication"
    MENTAL_HEALTH = "mental_health", "Mental health"
    COPING = "coping", "Coping"
    FAMILY = "family", "Family and relationships"
    GOALS = "goals", "Goals"


class Prompt(models.Model):
    """A topic the facilitator puts to the group.

    Library prompts (session is null) are seeded by a data migration and edited
    in the admin; a custom prompt typed during a session belongs to that session.
    """

    category = models.CharField(max_length=20, choices=PromptCategory.choices)
    text = models.CharField(max_length=500)
    session = models.ForeignKey(
        "rooms.GroupSession", null=True, blank=True, on_delete=models.CASCADE, related_name="custom_prompts"
    )
    active = models.BooleanField(default=True, help_text="Inactive prompts are hidden from the picker.")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["category", "position", "id"]

    def __str__(self) -> str:
        return f"[{self.category}] {self.text[:60]}"


class AgendaItem(models.Model):
    """One planned prompt in a session's agenda; `agenda.next` posts the first one not yet posted."""

    session = models.ForeignKey("rooms.GroupSession", on_delete=models.CASCADE, related_name="agenda_items")
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="agenda_items")
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


class RoomClock(models.Model):
    """A per-room counter bumped under the room lock for every floor or queue change.

    `floor.changed` and `queue.updated` carry it as `version` (and `session.state`
    too), so a client that hears two workers' events out of order keeps the newer one.
    """

    session = models.OneToOneField(
        "rooms.GroupSession", on_delete=models.CASCADE, primary_key=True, related_name="clock"
    )
    version = models.PositiveBigIntegerField(default=0)
