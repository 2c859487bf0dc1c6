"""The facilitator's session report: transcript (page and .txt) and audit log. Facilitators of the session only.

Thin: who may see it is decided by `rooms.access.facilitator_record_page`, what is shown in
moderation.reports, and the one write (the access to the transcript is
audited) in moderation.actions.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from moderation.actions import do_record_transcript_access
from moderation.notices import PART2_NOTICE, PART2_NOTICE_CLOSING, PART2_NOTICE_CONDITIONS, PART2_NOTICE_TITLE
from moderation.reports import audit_entries, build_transcript, transcript_text
from rooms.access import facilitator_record_page
from rooms.models import GroupSession, Participant

NOTICE = {
    "title": PART2_NOTICE_TITLE,
    "text": PART2_NOTICE,
    "conditions": PART2_NOTICE_CONDITIONS,
    "closing": PART2_NOTICE_CLOSING,
}


@require_GET
@facilitator_record_page("moderation/forbidden.html")
def transcript(request: HttpRequest, session: GroupSession, seat: Participant) -> HttpResponse:
    now = timezone.now()
    as_text = request.GET.get("format") == "txt"
    do_record_transcript_access(session.pk, seat.pk, "txt" if as_text else "html", now)
    record = build_transcript(session, seat, now)
    if as_text:
        response = HttpResponse(transcript_text(record), content_type="text/plain; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="circle-session-{session.pk}-transcript.txt"'
        return response
    return render(request, "moderation/transcript.html", {"transcript": record, "session": session, "notice": NOTICE})


@require_GET
@facilitator_record_page("moderation/forbidden.html")
def audit(request: HttpRequest, session: GroupSession, seat: Participant) -> HttpResponse:
    return render(
        request, "moderation/audit.html", {"session": session, "entries": audit_entries(session), "notice": NOTICE}
    )
