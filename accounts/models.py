from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.language import default_language
from config.text import clean_line, has_visible_text


class Role(models.TextChoices):
    FACILITATOR = "facilitator", _("Facilitator")
    PATIENT = "patient", _("Patient")


class Member(AbstractUser):
    """A clinic account: a facilitator or a patient.

    Other participants only ever see `display_name`; the username, real name and
    e-mail stay with clinic staff.
    """

    role = models.CharField(max_length=16, choices=Role.choices)
    display_name = models.CharField(max_length=60)
    # The language of every page, email, reminder and calendar feed they get (issue 26;
    # accounts.language): one of settings.LANGUAGES, LANGUAGE_CODE's until they choose.
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default=default_language)
    # Session reminders by e-mail (program.reminders): sent only when this is on and `email` is set.
    reminders = models.BooleanField(default=True)
    # The SHA-256 of the member's private calendar feed token (program.calendar), never the token;
    # null while the feed is off. Turning it on again replaces it, so the old address stops working.
    calendar_token_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)

    def clean(self) -> None:
        """The admin's forms: the display name as every other way in stores it (config.text)."""
        super().clean()
        self.display_name = clean_line(self.display_name)
        if not has_visible_text(self.display_name):
            raise ValidationError({"display_name": "Give a name the group can see."})

    @property
    def is_facilitator(self) -> bool:
        return self.role == Role.FACILITATOR

    def __str__(self) -> str:
        return f"{self.display_name} ({self.username}, {self.role})"


class SecurityEvent(models.Model):
    """Append-only log of sign-in security events (HIPAA 164.312(b), audit controls).

    Room actions go to moderation.AuditEntry; what happens before anyone is in a
    room (sign-in, lockout, second factor, logout, idle timeout) is kept here.
    Never holds a password, a cookie or a token; `username` is what was typed.
    """

    class Kind(models.TextChoices):
        LOGIN_SUCCEEDED = "login.succeeded", "Signed in"
        LOGIN_FAILED = "login.failed", "Wrong username or password"
        LOGIN_LOCKED = "login.locked", "Refused: too many failures"
        LOGOUT = "logout", "Signed out"
        IDLE_TIMEOUT = "idle.timeout", "Signed out after inactivity"
        SESSION_EXPIRED = "session.expired", "Signed out: sign-in too old"
        OTP_SUCCEEDED = "otp.succeeded", "Second factor passed"
        OTP_FAILED = "otp.failed", "Second factor failed"
        OTP_ENROLLED = "otp.enrolled", "Second factor enrolled"

    kind = models.CharField(max_length=24, choices=Kind.choices)
    username = models.CharField(max_length=150, blank=True)
    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    address = models.GenericIPAddressField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["username", "kind", "created_at"], name="security_event_user_recent"),
            models.Index(fields=["address", "kind", "created_at"], name="security_event_addr_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.kind} {self.username or '-'} {self.address or '-'}"
