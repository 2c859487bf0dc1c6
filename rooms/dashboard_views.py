"""The dashboards' extras: scheduling a session (facilitators), family invitations (patients).
Thin adapters over the actions, like rooms/views.py. (Planning an agenda is facilitator.views.agenda.)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from accounts.http import SignedInRequest
from accounts.models import Member, Role
from accounts.provisioning import ProvisioningError
from config.numbers import AsciiDateTimeField, AsciiIntegerField
from rooms.actions import guests
from rooms.actions.lifecycle import do_schedule_session
from rooms.errors import ActionError
from rooms.models import GroupSession, GuestPass, Kind, Participant, ParticipantRole, Status
from rooms.room_context import session_reports


def patient_choices() -> list[tuple[str, str]]:
    patients = Member.objects.filter(role=Role.PATIENT, is_active=True).order_by("display_name", "username")
    return [(m.username, m.display_name) for m in patients]


class ScheduleForm(forms.Form):
    title = forms.CharField(max_length=120, label=_("Title"))
    kind = forms.ChoiceField(choices=Kind.choices, initial=Kind.GROUP, label=_("Kind"))
    starts_at = AsciiDateTimeField(
        label=_("Starts"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    )
    duration = AsciiIntegerField(min_value=5, max_value=600, initial=60, label=_("Length (minutes)"))
    patients = forms.MultipleChoiceField(
        choices=patient_choices, label=_("Who is on the roster"), widget=forms.CheckboxSelectMultiple
    )
    allow_guests = forms.BooleanField(required=False, label=_("Family members may be invited"))
    # Filled by dashboard.js with the browser's Date#getTimezoneOffset(), so the
    # time typed is the facilitator's local time; without it, the server's zone.
    utc_offset = AsciiIntegerField(required=False, min_value=-900, max_value=900, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        starts = data.get("starts_at")
        if starts is not None:
            offset = data.get("utc_offset")
            if offset is not None:
                wall_clock = timezone.make_naive(starts)
                starts = wall_clock.replace(tzinfo=UTC) + timedelta(minutes=offset)
                data["starts_at"] = starts
            if starts < timezone.now() - timedelta(minutes=5):
                self.add_error("starts_at", _("Pick a time from now on."))
        if data.get("kind") == Kind.INDIVIDUAL and len(data.get("patients") or []) != 1:
            self.add_error("patients", _("An individual session has exactly one patient."))
        return data


def session_lists(user: Member) -> dict[str, list[GroupSession]]:
    """The same lists as rooms.views.dashboard (live, upcoming, the last ten ended)."""
    participations = (
        Participant.objects.filter(member=user, removed_at__isnull=True)
        .select_related("session")
        .order_by("session__starts_at")
    )
    sessions = [p.session for p in participations]
    return {
        "live": [s for s in sessions if s.status == Status.LIVE],
        "upcoming": [s for s in sessions if is_upcoming(s, timezone.now())],
        "ended": [s for s in sessions if s.status == Status.ENDED][-10:],
    }


def is_upcoming(session: GroupSession, now: datetime) -> bool:
    """Scheduled, or cancelled and not yet past its time: a cancelled session shows as cancelled, not as gone."""
    return session.status == Status.SCHEDULED or (session.status == Status.CANCELLED and session.starts_at > now)


def family_invitations(user: Member) -> list[GuestPass]:
    """Invitations made for this patient that still matter: the session has not ended, not revoked or declined."""
    return list(
        GuestPass.objects.filter(
            for_participant__member=user,
            for_participant__removed_at__isnull=True,
            revoked_at__isnull=True,
            declined=False,
            session__status__in=[Status.SCHEDULED, Status.LIVE],
        )
        .select_related("session", "guest")
        .order_by("session__starts_at", "created_at")
    )


def schedule_rows(user: Member) -> dict[str, list[dict[str, Any]]]:
    """A facilitator's sessions with their roster size and the record pages that exist."""
    led = (
        Participant.objects.filter(member=user, role=ParticipantRole.FACILITATOR, removed_at__isnull=True)
        .select_related("session")
        .annotate(
            patients=Count("session__participants", filter=Q(session__participants__role=ParticipantRole.PATIENT))
        )
        .order_by("session__starts_at", "session_id")
    )
    rows = [{"session": p.session, "patients": p.patients, "reports": session_reports(p.session)} for p in led]
    return {
        "live": [r for r in rows if r["session"].status == Status.LIVE],
        "upcoming": [r for r in rows if is_upcoming(r["session"], timezone.now())],
        "ended": [r for r in rows if r["session"].status == Status.ENDED][-10:][::-1],
    }


def dashboard_context(user: Member, *, form: ScheduleForm | None = None) -> dict[str, Any]:
    """What the dashboard shows besides the session lists, by role."""
    if user.role == Role.FACILITATOR:
        return {"is_facilitator": True, "schedule_form": form or ScheduleForm(), "schedule": schedule_rows(user)}
    return {"is_facilitator": False, "invitations": family_invitations(user), "decline_available": True}


@login_required
@require_POST
def schedule(request: SignedInRequest) -> HttpResponse:
    """POST the schedule form: do_schedule_session with this facilitator and the chosen roster."""
    if request.user.role != Role.FACILITATOR:
        raise Http404("Only facilitators schedule sessions.")
    form = ScheduleForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            session = do_schedule_session(
                title=data["title"],
                facilitator=request.user.username,
                patients=list(data["patients"]),
                kind=data["kind"],
                starts_at=data["starts_at"].replace(second=0, microsecond=0),
                duration_minutes=data["duration"],
                allow_guests=data["allow_guests"],
            )
        except ProvisioningError as error:
            form.add_error(None, str(error).capitalize() + ".")
        else:
            messages.success(request, gettext("“%(title)s” is scheduled.") % {"title": session.title})
            return redirect("/")
    context = {**session_lists(request.user), **dashboard_context(request.user, form=form), "form_open": True}
    return render(request, "rooms/dashboard.html", context, status=400)


@login_required
@require_POST
def decline_invitation(request: SignedInRequest, invite_id: int) -> HttpResponse:
    """A patient declines a family invitation made for them (the same action as invite.decline)."""
    guest_pass = (
        GuestPass.objects.select_related("for_participant", "session")
        .filter(pk=invite_id, for_participant__member=request.user)
        .first()
    )
    if guest_pass is None:
        raise Http404("No such invitation for you.")
    try:
        guests.do_decline_invite(guest_pass.session_id, guest_pass.for_participant_id, guest_pass.pk, timezone.now())
    except ActionError as error:
        messages.error(request, error.message)
    else:
        declined = _("You declined the invitation for {name}. Your facilitator has been told.")
        messages.success(request, declined.format(name=guest_pass.name))
    return redirect("/")
