"""Writing members: the only place that creates clinic accounts."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import Member, Role
from rooms.errors import ProvisioningError


def check_new_member(username: str, role: str, display_name: str, password: str) -> None:
    if not username.strip():
        raise ProvisioningError("username must not be empty")
    if role not in Role.values:
        raise ProvisioningError(f"role must be one of {', '.join(Role.values)}, not {role!r}")
    if not display_name.strip():
        raise ProvisioningError("display name must not be empty")
    if len(display_name) > 60:
        raise ProvisioningError("display name must be at most 60 characters")
    if Member.objects.filter(username__iexact=username).exists():
        raise ProvisioningError(f"a member named {username!r} already exists")
    try:
        validate_password(password, Member(username=username, display_name=display_name))
    except ValidationError as exc:
        raise ProvisioningError("password refused: " + " ".join(exc.messages)) from None


@transaction.atomic
def do_create_member(username: str, role: str, display_name: str, password: str) -> Member:
    check_new_member(username, role, display_name, password)
    return Member.objects.create_user(
        username=username, password=password, role=role, display_name=display_name.strip()
    )
