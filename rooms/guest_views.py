"""Family guests' pages: the facilitator's invitations page, and helpers for the join view.

Thin adapters over rooms.actions.guests; what an invitation's state is comes
from the same read helper the WebSocket's session.state uses.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from config.text import clean_line, has_visible_text
from rooms.access import facilitator_or_404
from rooms.actions import guests
from rooms.errors import ActionError
from rooms.models import GroupSession, Participant, ParticipantRole, Status
from rooms.visibility import visible_invites

# ------------------------------------------------------------------ the join page's helpers


# The agreement in a language other than LANGUAGE_CODE's: the setting that holds it (issue 26).
AGREEMENT_BY_LANGUAGE = {"es": "CONFIDENTIALITY_AGREEMENT_ES"}


def agreement_text(language: str) -> str:
    """The group's confidentiality agreement as guests read and accept it, in `language`
    (CONFIDENTIALITY_AGREEMENT_ES for Spanish), else CONFIDENTIALITY_AGREEMENT."""
    return str(getattr(settings, AGREEMENT_BY_LANGUAGE.get(language, "CONFIDENTIALITY_AGREEMENT")))


def guest_cookie_expiry(session: GroupSession, now: datetime) -> datetime:
    """A guest cookie lives until a while after the scheduled end (sessions may run over), never less.

    It is bound to the one session in any case: once the session has ended it
    opens nothing (the room page answers 410 and drops it, the socket 4410).
    """
    return max(session.ends_at, now) + timedelta(minutes=max(session.duration_minutes, 60))


def guest_session_over(request: HttpRequest, session: GroupSession) -> HttpResponse:
    request.session.flush()
    return render(request, "rooms/guest_ended.html", {"session": session}, status=410)


class DisplayNameField(forms.CharField):
    """A name others will see: one line (config.text.clean_line), with something visible in it."""

    def to_python(self, value: Any) -> str:
        return clean_line(super().to_python(value) or "")

    def validate(self, value: str) -> None:
        super().validate(value)
        if value and not has_visible_text(value):
            raise forms.ValidationError(_("Give a name the group can see."), code="invisible")


# ------------------------------------------------------------------ the facilitator's invitations page


class InviteForm(forms.Form):
    for_participant = forms.TypedChoiceField(coerce=int, label=_("Guest of"))
    name = DisplayNameField(max_length=60, label=_("Guest's name"))
    email = forms.EmailField(required=False, max_length=254, label=_("Guest's email (optional: the link is mailed)"))

    def __init__(self, session: GroupSession, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        patients = Participant.objects.filter(session=session, role=ParticipantRole.PATIENT, removed_at__isnull=True)
        for_participant = cast(forms.TypedChoiceField, self.fields["for_participant"])  # declared above
        for_participant.choices = [(p.pk, p.display_name) for p in patients]


def render_invites(
    request: HttpRequest,
    session: GroupSession,
    me: Participant,
    *,
    form: InviteForm | None = None,
    new_link: str | None = None,
    new_name: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "session": session,
        "form": form or InviteForm(session),
        "invites": visible_invites(me, session),
        "can_invite": session.allow_guests and session.status != Status.ENDED,
        "new_link": new_link,
        "new_name": new_name,
        "error": error,
    }
    return render(request, "rooms/invites.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def invites(request: HttpRequest, session_id: int) -> HttpResponse:
    """GET: the session's invitations and their state. POST: a new one; its link is shown this once."""
    session, me = facilitator_or_404(request, session_id)
    if request.method == "GET":
        return render_invites(request, session, me)
    form = InviteForm(session, request.POST)
    if not form.is_valid():
        return render_invites(request, session, me, form=form, status=400)
    try:
        guest_pass, token = guests.do_create_invite(
            session.pk,
            me.pk,
            form.cleaned_data["for_participant"],
            form.cleaned_data["name"],
            timezone.now(),
            form.cleaned_data["email"],
        )
    except ActionError as refused:
        status = 403 if refused.code == "not_allowed" else 400
        return render_invites(request, session, me, form=form, error=str(refused.message), status=status)
    session.refresh_from_db()
    return render_invites(
        request,
        session,
        me,
        new_link=request.build_absolute_uri(guests.join_path(token)),
        new_name=guest_pass.name,
        status=201,
    )


@login_required
@require_POST
def revoke_invite(request: HttpRequest, session_id: int, invite_id: int) -> HttpResponse:
    session, me = facilitator_or_404(request, session_id)
    try:
        guests.do_revoke_invite(session.pk, me.pk, invite_id, timezone.now())
    except ActionError as refused:
        if refused.code == "not_found":
            raise Http404(refused.message) from None
        return render_invites(request, session, me, error=str(refused.message), status=400)
    return redirect(f"/sessions/{session.pk}/invites/")
