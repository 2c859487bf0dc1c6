"""Who may open a facilitator's page: one lookup for every such view."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from rooms.models import GroupSession, Participant, ParticipantRole


def facilitator_seat(request: HttpRequest, session_id: int) -> Participant | None:
    """The signed-in member's facilitator seat in this session, if they hold one."""
    if not request.user.is_authenticated:
        return None
    return (
        Participant.objects.select_related("session", "guest_of")
        .filter(session_id=session_id, member=request.user, role=ParticipantRole.FACILITATOR, removed_at__isnull=True)
        .first()
    )


def facilitator_or_404(request: HttpRequest, session_id: int) -> tuple[GroupSession, Participant]:
    """For tools of one's own sessions: anyone else gets 404, no hint that the session exists."""
    seat = facilitator_seat(request, session_id)
    if seat is None:
        raise Http404("No such session among yours.")
    return seat.session, seat


def facilitator_record_access(
    request: HttpRequest, session_id: int, forbidden_template: str
) -> tuple[GroupSession, Participant] | HttpResponse:
    """For a session's records: sign in first (a guest's cookie is not a sign-in, and an
    anonymous visitor learns nothing, not even whether the session exists), then 404 or 403."""
    if not request.user.is_authenticated:
        return redirect(f"/accounts/login/?next={request.path}")
    session = GroupSession.objects.filter(pk=session_id).first()
    if session is None:
        raise Http404("No such session.")
    seat = facilitator_seat(request, session_id)
    if seat is None:
        return render(request, forbidden_template, {"session": session}, status=403)
    return session, seat


RecordView = Callable[[HttpRequest, GroupSession, Participant], HttpResponse]


def facilitator_record_page(forbidden_template: str) -> Callable[[RecordView], Callable[..., HttpResponse]]:
    """Decorate a record page `view(request, session, seat)` with facilitator_record_access."""

    def decorate(view: RecordView) -> Callable[..., HttpResponse]:
        @wraps(view)
        def page(request: HttpRequest, session_id: int) -> HttpResponse:
            found = facilitator_record_access(request, session_id, forbidden_template)
            if isinstance(found, HttpResponse):
                return found
            return view(request, *found)

        return page

    return decorate
