"""Sign-in and sign-out side effects: security events, the idle clock, and `signed_out` for the room sockets."""

from __future__ import annotations

import time
from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.db.models.signals import post_save, pre_save
from django.dispatch import Signal, receiver
from django.http import HttpRequest
from django.utils import timezone

from accounts.actions import do_record_security_event
from accounts.backends import client_address
from accounts.idle import GUEST_SESSION_KEY, LAST_ACTIVITY_KEY, SIGNED_IN_AT_KEY
from accounts.models import Member, SecurityEvent

# A person signed out, or their sign-in ended idle or expired: sent with `member_id` (a member)
# or `guest_participant_id` (a guest; the other is None) and `reason` ("logout", "idle",
# "expired"). accounts sits below the room core and does not import it: rooms connects its
# receiver (closing that person's room sockets) in RoomsConfig.ready().
signed_out = Signal()

# A member's account changed in a way that may end their sign-ins (deactivated, password or account role
# changed): sent with `member_id` once the change is committed. rooms re-checks that person's open room
# sockets on every worker (RoomsConfig.ready()), instead of every socket polling for it.
sign_in_changed = Signal()
# The Member fields that decide whether a session still signs its member in (rooms.socket_guard).
SIGN_IN_FIELDS = ("is_active", "password", "role")

SIGN_OUT_KINDS = {"idle": SecurityEvent.Kind.IDLE_TIMEOUT, "expired": SecurityEvent.Kind.SESSION_EXPIRED}


@receiver(user_logged_in, dispatch_uid="circle-logged-in")
def on_logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is None:
        return
    request.session[LAST_ACTIVITY_KEY] = request.session[SIGNED_IN_AT_KEY] = time.time()
    do_record_security_event(
        SecurityEvent.Kind.LOGIN_SUCCEEDED, timezone.now(), member=user, address=client_address(request)
    )


@receiver(user_login_failed, dispatch_uid="circle-login-failed")
def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # Django has already masked the password in `credentials`; only the username is kept.
    lock = getattr(request, "circle_login_lock", None)
    detail = {"until": lock.until.isoformat(), "scope": lock.scope} if lock else {}
    do_record_security_event(
        SecurityEvent.Kind.LOGIN_LOCKED if lock else SecurityEvent.Kind.LOGIN_FAILED,
        timezone.now(),
        username=str(credentials.get("username") or ""),
        address=client_address(request),
        **detail,
    )


@receiver(user_logged_out, dispatch_uid="circle-logged-out")
def on_logged_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """Signing out (or the idle timeout) closes that person's open room sockets at once, with 4401."""
    reason = getattr(request, "circle_signout_reason", "logout")
    member_id = user.pk if user is not None and getattr(user, "is_authenticated", False) else None
    guest = request.session.get(GUEST_SESSION_KEY) if request is not None else None
    guest_id = guest.get("participant_id") if isinstance(guest, dict) else None
    if member_id is None and not isinstance(guest_id, int):
        return
    signed_out.send(
        sender=on_logged_out,
        member_id=member_id,
        guest_participant_id=guest_id if member_id is None else None,
        reason=reason,
    )
    do_record_security_event(
        SIGN_OUT_KINDS.get(reason, SecurityEvent.Kind.LOGOUT),
        timezone.now(),
        member=user if member_id is not None else None,
        address=client_address(request),
        **({"guest_participant_id": guest_id} if member_id is None else {}),
    )


@receiver(pre_save, sender=Member, dispatch_uid="circle-member-sign-in-fields")
def on_member_saving(sender: Any, instance: Member, update_fields: Any = None, **kwargs: Any) -> None:
    """Note whether this save changes what signs the member in (one read, and only for a save that may)."""
    if instance.pk is None or (update_fields is not None and not set(update_fields) & set(SIGN_IN_FIELDS)):
        return
    stored = Member.objects.filter(pk=instance.pk).values(*SIGN_IN_FIELDS).first()
    changed = stored is not None and any(stored[name] != getattr(instance, name) for name in SIGN_IN_FIELDS)
    instance._circle_sign_in_changed = changed  # type: ignore[attr-defined]


@receiver(post_save, sender=Member, dispatch_uid="circle-member-sign-in-changed")
def on_member_saved(sender: Any, instance: Member, **kwargs: Any) -> None:
    if getattr(instance, "_circle_sign_in_changed", False):
        instance._circle_sign_in_changed = False  # type: ignore[attr-defined]
        member_id = instance.pk
        transaction.on_commit(lambda: sign_in_changed.send(sender=Member, member_id=member_id), robust=True)
