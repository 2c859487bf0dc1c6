"""The facilitator's session report: transcript (page and .txt) and audit log. Facilitators of the session only.

Thin: who may see it is decided here (`session_facilitator`), what is shown in
moderation.reports, and the one write (the access to the transcript is
audited) in moderation.actions.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from moderation.actions import do_record_transcript_access
from moderation.notices import PART2_NOTICE, PART2_NOTICE_CLOSING, PART2_NOTICE_CONDITIONS, PART2_NOTICE_TITLE
from moderation.reports import audit_entries, build_transcript, transcript_text
from rooms.models import GroupSession, Participant

NOTICE = {
    "title": PART2_NOTICE_TITLE,
    "text": PART2_NOTICE,
    "conditions": PART2_NOTICE_CONDITIONS,
    "closing": PART2_NOTICE_CLOSING,
}


def session_facilitator(request: HttpRequest, session_id: int) -> tuple[GroupSession, Participant] | HttpResponse:
    """The session and the viewer's facilitator seat in it, or the response that refuses them."""
    session = GroupSession.objects.filter(pk=session_id).first()
    if session is None:
        raise Http404("No such session.")
    if not request.user.is_authenticated:
        # A guest's cookie is not a sign-in: guests never reach the record.
        return redirect(f"/accounts/login/?next={request.path}")
    seat = (
        Participant.objects.filter(session=session, member=request.user, role="facilitator", removed_at__isnull=True)
        .select_related("guest_of")
        .first()
    )
    if seat is None:
        return render(request, "moderation/forbidden.html", {"session": session}, status=403)
    return session, seat


@never_cache
@require_GET
def transcript(request: HttpRequest, session_id: int) -> HttpResponse:
    found = session_facilitator(request, session_id)
    if isinstance(found, HttpResponse):
        return found
    session, seat = found
    now = timezone.now()
    as_text = request.GET.get("format") == "txt"
    do_record_transcript_access(session.pk, seat.pk, "txt" if as_text else "html", now)
    record = build_transcript(session, seat, now)
    if as_text:
        response = HttpResponse(transcript_text(record), content_type="text/plain; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="circle-session-{session.pk}-transcript.txt"'
        return response
    return render(request, "moderation/transcript.html", {"transcript": record, "session": session, "notice": NOTICE})


@never_cache
@require_GET
def audit(request: HttpRequest, session_id: int) -> HttpResponse:
    found = session_facilitator(request, session_id)
    if isinstance(found, HttpResponse):
        return found
    session, _seat = found
    return render(
        request, "moderation/audit.html", {"session": session, "entries": audit_entries(session), "notice": NOTICE}
    )
