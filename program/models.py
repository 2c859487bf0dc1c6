"""The program: recurring series of sessions, what changed in them, and the mail sent about them.

The core knows nothing of these: a series reaches its sessions through SeriesSession, a
program-side table, so rooms.GroupSession has no field of the program.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Series(models.Model):
    """A standing group: the same people on the same weekdays at the same wall-clock time."""

    title = models.CharField(max_length=120)
    # Weekday numbers, Monday 0, as "0,1,3": read with program.rules.weekday_numbers.
    weekdays = models.CharField(max_length=20)
    local_time = models.TimeField()
    # The clinic's TIME_ZONE when scheduled: the wall-clock time kept across daylight-saving changes.
    time_zone = models.CharField(max_length=64)
    duration_minutes = models.PositiveIntegerField(default=60)
    first_date = models.DateField()
    weeks = models.PositiveIntegerField()
    allow_guests = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "series"

    def __str__(self) -> str:
        return self.title


class SeriesMember(models.Model):
    """Someone on the standing roster: a facilitator (lead or co-facilitator) or a patient."""

    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="members")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=16)  # accounts.models.Role
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["series", "member"], name="one_series_seat_per_member")]


class SeriesSession(models.Model):
    """One session of a series (the program-side link; the core has none)."""

    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="links")
    session = models.OneToOneField("rooms.GroupSession", on_delete=models.CASCADE, related_name="series_link")


class ChangeKind(models.TextChoices):
    CANCELLED = "cancelled", "Cancelled"
    MOVED = "moved", "Moved"


class SessionChange(models.Model):
    """A session was cancelled or moved: shown on its pages, and the notice the roster is sent."""

    session = models.ForeignKey("rooms.GroupSession", on_delete=models.CASCADE, related_name="changes")
    kind = models.CharField(max_length=16, choices=ChangeKind.choices)
    reason = models.CharField(max_length=300, blank=True)
    # Moved: the old and new start; cancelled: the start it had.
    previous_starts_at = models.DateTimeField()
    starts_at = models.DateTimeField()
    changed_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["changed_at", "id"]


class Delivery(models.Model):
    """One mail, claimed once: the row is inserted (unique `key`) before the mail is sent.

    Two runs of send_reminders at the same time on two workers both try the INSERT; the
    unique index lets one through and the other gets an IntegrityError and skips it, so a
    reminder goes out at most once. The address is not kept (it is the member's, and a log
    of addresses is a list of the clinic's patients).
    """

    key = models.CharField(max_length=120, unique=True)
    member = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    session = models.ForeignKey("rooms.GroupSession", null=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=24)
    claimed_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    failed = models.BooleanField(default=False)
