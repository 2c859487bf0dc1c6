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
