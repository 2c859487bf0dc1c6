"""Sign-in pages: the throttled login form and the facilitators' second-factor step."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, gettext_lazy
from django_otp import devices_for_user, match_token, user_has_device
from django_otp import login as otp_login

from accounts.actions import LoginLock, do_record_security_event, login_lock
from accounts.backends import client_address
from accounts.http import SignedInRequest
from accounts.models import SecurityEvent


class ThrottledAuthenticationForm(AuthenticationForm):
    """Django's login form; a locked-out username or address gets a clear message instead."""

    locked: LoginLock | None = None

    def get_invalid_login_error(self) -> ValidationError:
        # The backend refused without checking (already locked), or this failure reached the limit.
        lock = getattr(self.request, "circle_login_lock", None) or login_lock(
            self.cleaned_data.get("username"), client_address(self.request), timezone.now()
        )
        if lock is None:
            return super().get_invalid_login_error()
        self.locked = lock
        return ValidationError(lock.message, code="locked")

    @property
    def locked_message(self) -> str:
        return self.locked.message if self.locked else ""


class LoginView(auth_views.LoginView):
    """/accounts/login/ (the contract's form: username, password, csrfmiddlewaretoken)."""

    authentication_form = ThrottledAuthenticationForm

    def form_invalid(self, form: Any) -> HttpResponse:
        response = super().form_invalid(form)
        if getattr(form, "locked", None) is not None:
            response.status_code = 429  # Too Many Requests; the page explains
        return response


class TokenForm(forms.Form):
    token = forms.CharField(
        label=gettext_lazy("Code from your authenticator app"),
        min_length=6,
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


def safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if allowed else "/"


def throttle_wait(user: Any) -> int:
    """Seconds until the user's authenticator accepts another try (django-otp's exponential back-off)."""
    waits = []
    for device in devices_for_user(user):
        allowed, data = device.verify_is_allowed()
        if not allowed:
            locked_until = (data or {}).get("locked_until")
            waits.append(max(1, int((locked_until - timezone.now()).total_seconds()) + 1) if locked_until else 1)
    return min(waits) if waits else 0


@login_required
def verify(request: SignedInRequest) -> HttpResponse:
    """The second step for facilitators (FACILITATOR_2FA=1): a TOTP code from their enrolled device."""
    user = request.user
    if getattr(user, "is_verified", lambda: False)():
        return HttpResponseRedirect(safe_next(request))
    enrolled = user_has_device(user)
    form = TokenForm(request.POST or None)
    status = 200
    if request.method == "POST" and enrolled and form.is_valid():
        now = timezone.now()
        wait = throttle_wait(user)
        if wait:
            too_many = gettext("Too many wrong codes: please wait {seconds} seconds, then try the current code.")
            form.add_error("token", too_many.format(seconds=wait))
            return render(
                request,
                "accounts/verify.html",
                {"form": form, "enrolled": enrolled, "next": safe_next(request)},
                status=429,
            )
        device = match_token(user, form.cleaned_data["token"].strip())
        if device is not None:
            otp_login(request, device)
            do_record_security_event(
                SecurityEvent.Kind.OTP_SUCCEEDED, now, member=user, address=client_address(request)
            )
            return HttpResponseRedirect(safe_next(request))
        do_record_security_event(SecurityEvent.Kind.OTP_FAILED, now, member=user, address=client_address(request))
        form.add_error("token", gettext("That code did not match. Codes change every 30 seconds; try the current one."))
        status = 400
    return render(
        request,
        "accounts/verify.html",
        {"form": form, "enrolled": enrolled, "next": safe_next(request)},
        status=status,
    )
