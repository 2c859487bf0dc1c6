"""Writing members and their sign-in security: accounts, throttling, second factor, sign-out.

The only place that creates clinic accounts, records SecurityEvents and enrolls
TOTP devices. Closing a person's room sockets when they sign out is the room
core's (rooms.actions.sign_out), told by the accounts.signals.signed_out signal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.language import default_language
from accounts.models import Member, Role, SecurityEvent
from accounts.provisioning import ProvisioningError
from config.text import clean_line, has_visible_text


def check_new_member(username: str, role: str, display_name: str, password: str) -> None:
    if not username.strip():
        raise ProvisioningError("username must not be empty")
    if role not in Role.values:
        raise ProvisioningError(f"role must be one of {', '.join(Role.values)}, not {role!r}")
    display_name = clean_line(display_name)
    if not has_visible_text(display_name):
        raise ProvisioningError("display name must not be empty")
    if len(display_name) > 60:
        raise ProvisioningError("display name must be at most 60 characters")
    if Member.objects.filter(username__iexact=username).exists():
        raise ProvisioningError(f"a member named {username!r} already exists")
    try:
        validate_password(password, Member(username=username, display_name=display_name))
    except ValidationError as exc:
        raise ProvisioningError("password refused: " + " ".join(exc.messages)) from None


def check_email(email: str) -> str:
    """An address as given, checked; empty: none (no reminders)."""
    email = email.strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise ProvisioningError("that is not an email address") from None
    return email


@transaction.atomic
def do_create_member(
    username: str, role: str, display_name: str, password: str, *, language: str | None = None, email: str = ""
) -> Member:
    check_new_member(username, role, display_name, password)
    return Member.objects.create_user(
        username=username,
        email=check_email(email),
        password=password,
        role=role,
        display_name=clean_line(display_name),
        language=language or default_language(),
    )


# ---------------------------------------------------------------- security events


def normalize_username(username: str | None) -> str:
    return (username or "").strip().lower()[:150]


def do_record_security_event(
    kind: str,
    now: datetime,
    *,
    username: str | None = "",
    member: Member | None = None,
    address: str | None = None,
    **detail: object,
) -> SecurityEvent:
    return SecurityEvent.objects.create(
        kind=kind,
        username=normalize_username(username or (member.username if member else "")),
        member=member,
        address=address or None,
        detail=detail,
        created_at=now,
    )


# ---------------------------------------------------------------- login throttling


@dataclass(frozen=True)
class LoginLock:
    scope: Literal["username", "address"]
    until: datetime

    @property
    def message(self) -> str:
        if self.scope == "username":
            paused = gettext("Too many failed sign-in attempts for this account.")
        else:
            paused = gettext("Too many failed sign-in attempts for this network address.")
        advice = gettext(
            "Sign-in is paused for up to {minutes} minutes; please wait and try again, or ask clinic staff "
            "for help. If this was not you, tell clinic staff."
        ).format(minutes=settings.LOGIN_LOCK_MINUTES)
        return f"{paused} {advice}"


def login_lock(username: str | None, address: str | None, now: datetime) -> LoginLock | None:
    """Locked when LOGIN_FAILURE_LIMIT failures for the username (since its last success), or
    LOGIN_ADDRESS_FAILURE_LIMIT failures from the address, fall within the last LOGIN_LOCK_MINUTES.

    While locked the password is not even checked, so guessing gains nothing; the lock
    lifts by itself as the failures age out of the window.
    """
    window = timedelta(minutes=settings.LOGIN_LOCK_MINUTES)
    failures = SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOGIN_FAILED, created_at__gt=now - window)
    name = normalize_username(username)
    if name:
        last_success = (
            SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOGIN_SUCCEEDED, username=name)
            .order_by("-created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        mine = failures.filter(username=name)
        if last_success is not None:
            mine = mine.filter(created_at__gt=last_success)
        lock = _lock_from(mine, settings.LOGIN_FAILURE_LIMIT, window, "username")
        if lock:
            return lock
    if address:
        return _lock_from(failures.filter(address=address), settings.LOGIN_ADDRESS_FAILURE_LIMIT, window, "address")
    return None


def _lock_from(
    failures: object, limit: int, window: timedelta, scope: Literal["username", "address"]
) -> LoginLock | None:
    times = list(failures.order_by("-created_at").values_list("created_at", flat=True)[:limit])  # type: ignore[attr-defined]
    if len(times) < limit:
        return None
    # Unlocked once the oldest of the last `limit` failures leaves the window.
    return LoginLock(scope, times[-1] + window)


# ---------------------------------------------------------------- second factor (TOTP)


def do_enroll_totp(username: str, now: datetime, *, replace: bool = False) -> str:
    """Give a facilitator a confirmed TOTP device; returns its otpauth:// URI (holds the secret)."""
    with transaction.atomic():
        member = Member.objects.filter(username=username).first()
        if member is None:
            raise ProvisioningError(f"no member named {username!r}")
        if member.role != Role.FACILITATOR:
            raise ProvisioningError(f"{username!r} is a {member.role}; only facilitators use a second factor")
        existing = TOTPDevice.objects.filter(user=member)
        if existing.exists():
            if not replace:
                raise ProvisioningError(f"{username!r} already has an authenticator; pass --replace to issue a new one")
            existing.delete()
        device = TOTPDevice.objects.create(user=member, name="authenticator", confirmed=True)
        do_record_security_event(SecurityEvent.Kind.OTP_ENROLLED, now, member=member, replaced=replace)
        return str(device.config_url)


# ---------------------------------------------------------------- signing out


def do_end_sign_in(
    session: SessionBase, reason: str, now: datetime, *, member_id: int | None, address: str | None = None
) -> None:
    """A session found idle (or too old) by a room socket: it ends, and the cookie stops working."""
    session.delete()
    member = Member.objects.filter(pk=member_id).first() if member_id is not None else None
    kind = SecurityEvent.Kind.SESSION_EXPIRED if reason == "expired" else SecurityEvent.Kind.IDLE_TIMEOUT
    do_record_security_event(kind, now, member=member, address=address, via="websocket")


def do_set_contact(member: Member, email: str, reminders: bool) -> None:
    """The member's own settings: the address for reminders and notices, and whether they want them."""
    member.email = check_email(email)
    member.reminders = reminders
    member.save(update_fields=["email", "reminders"])
