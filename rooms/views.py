"""HTTP pages: thin adapters over the actions and read helpers."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django import forms
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from accounts.http import SignedInRequest
from rooms.actions.guests import RELATIONSHIPS, PassGone, PassUnknown, check_pass_usable, do_redeem_pass, find_pass
from rooms.dashboard_views import dashboard_context, is_upcoming
from rooms.extensions import dashboard_sections
from rooms.faults import OUTAGE_ERRORS
from rooms.guest_views import DisplayNameField, agreement_text, guest_cookie_expiry, guest_session_over
from rooms.models import GroupSession, Participant, Status
from rooms.room_context import room_page_context
from rooms.ws_auth import GUEST_SESSION_KEY

logger = logging.getLogger(__name__)


def guest_of_request(request: HttpRequest) -> dict[str, int] | None:
    guest = request.session.get(GUEST_SESSION_KEY)
    return guest if isinstance(guest, dict) else None


@login_required
def dashboard(request: SignedInRequest) -> HttpResponse:
    participations = (
        Participant.objects.filter(member=request.user, removed_at__isnull=True)
        .select_related("session")
        .order_by("session__starts_at")
    )
    sessions = [p.session for p in participations]
    now = timezone.now()
    return render(
        request,
        "rooms/dashboard.html",
        {
            "live": [s for s in sessions if s.status == Status.LIVE],
            "upcoming": [s for s in sessions if is_upcoming(s, now)],
            "ended": [s for s in sessions if s.status == Status.ENDED][-10:],
            "sections": [section for contributor in dashboard_sections if (section := contributor(request.user, now))],
            **dashboard_context(request.user),
        },
    )


def room(request: HttpRequest, session_id: int) -> HttpResponse:
    """The live room page; who may actually enter is decided again by the WebSocket."""
    session = GroupSession.objects.filter(pk=session_id).first()
    if session is None:
        raise Http404("No such session.")
    guest = guest_of_request(request)
    if request.user.is_authenticated:
        participant = Participant.objects.filter(session=session, member=request.user).first()
    elif guest is not None and guest.get("session_id") == session.pk:
        participant = Participant.objects.filter(pk=guest["participant_id"], session=session).first()
        if session.status == Status.ENDED:
            return guest_session_over(request, session)  # the guest cookie expires with its session
    else:
        return redirect(f"/accounts/login/?next=/sessions/{session_id}/")
    if participant is None or participant.removed_at is not None:
        return render(request, "rooms/not_on_roster.html", {"session": session}, status=403)
    return render(
        request,
        "rooms/room.html",
        {"session": session, "participant": participant, **room_page_context(session, participant)},
    )


# How the guest knows the patient, as the join page offers it (the stored value stays English).
RELATIONSHIP_LABELS = {
    "spouse": _("Spouse or partner"),
    "parent": _("Parent"),
    "child": _("Child"),
    "sibling": _("Brother or sister"),
    "friend": _("Friend"),
    "other": _("Other"),
}
RELATIONSHIP_CHOICES = [(relationship, RELATIONSHIP_LABELS[relationship]) for relationship in RELATIONSHIPS]


class JoinForm(forms.Form):
    display_name = DisplayNameField(max_length=60, label=_("Your name, as the group will see it"))
    relationship = forms.ChoiceField(
        choices=RELATIONSHIP_CHOICES, initial="other", required=False
    )
    accept_rules = forms.BooleanField(
        required=True, label=_("I have read the group's agreement above, and I accept it.")
    )


def join(request: HttpRequest, token: str) -> HttpResponse:
    try:
        guest_pass = find_pass(token)
        check_pass_usable(guest_pass)
    except PassUnknown:
        raise Http404("This invitation link is not valid.") from None
    except PassGone:
        return render(request, "rooms/join_gone.html", status=410)
    form = JoinForm(request.POST or None, initial={"display_name": guest_pass.name})
    language = translation.get_language()
    if request.method == "POST" and form.is_valid():
        try:
            guest = do_redeem_pass(
                token,
                form.cleaned_data["display_name"],
                form.cleaned_data["relationship"] or "other",
                timezone.now(),
                # The agreement as the join page showed it: in the guest's language (issue 26).
                agreement=agreement_text(language),
                agreement_language=language,
            )
        except PassGone:
            return render(request, "rooms/join_gone.html", status=410)
        # A fresh session: a guest cookie opens this one room and nothing else.
        request.session.flush()
        request.session[GUEST_SESSION_KEY] = {"participant_id": guest.pk, "session_id": guest.session_id}
        request.session.set_expiry(guest_cookie_expiry(guest.session, timezone.now()))
        return redirect(f"/sessions/{guest.session_id}/")
    return render(
        request, "rooms/join.html", {"form": form, "guest_pass": guest_pass, "agreement": agreement_text(language)}
    )


def database_answers() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        return cursor.fetchone() == (1,)


async def channel_layer_answers() -> bool:
    layer = get_channel_layer()
    if layer is None:  # config.env always configures one (in memory without REDIS_URL)
        return False
    # A round trip through Redis on a process-local channel (channels-redis's own receive:
    # rooms.core_layer batches only the hub's plain lane channels).
    channel = await layer.new_channel()
    await layer.send(channel, {"type": "healthz.ping"})
    reply = await layer.receive(channel)
    return reply.get("type") == "healthz.ping"


@require_GET
async def healthz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, Any] = {}
    try:
        # database_sync_to_async hands the connection back to the pool afterwards;
        # plain sync_to_async would leave it held by the executor thread.
        checks["database"] = await asyncio.wait_for(
            database_sync_to_async(database_answers, thread_sensitive=False)(), 3
        )
    except Exception as error:  # an outage is one line; anything else keeps its traceback
        logger.warning("healthz: database check failed (%r)", error, exc_info=not isinstance(error, OUTAGE_ERRORS))
        checks["database"] = False
    try:
        checks["channel_layer"] = await asyncio.wait_for(channel_layer_answers(), 3)
    except Exception as error:
        logger.warning("healthz: channel layer check failed (%r)", error, exc_info=not isinstance(error, OUTAGE_ERRORS))
        checks["channel_layer"] = False
    healthy = all(checks.values())
    return JsonResponse({"status": "ok" if healthy else "unavailable", **checks}, status=200 if healthy else 503)
