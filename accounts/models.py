from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    FACILITATOR = "facilitator", "Facilitator"
    PATIENT = "patient", "Patient"


class Member(AbstractUser):
    """A clinic account: a facilitator or a patient.

    Other participants only ever see `display_name`; the username, real name and
    e-mail stay with clinic staff.
    """

    role = models.CharField(max_length=16, choices=Role.choices)
    display_name = models.CharField(max_length=60)

    @property
    def is_facilitator(self) -> bool:
        return self.role == Role.FACILITATOR

    def __str__(self) -> str:
        return f"{self.display_name} ({self.username}, {self.role})"
