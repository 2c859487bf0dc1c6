"""Facilitator-only pages: the attendance sheet of one session (HTML, or CSV with ?format=csv)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from facilitator.attendance import attendance_csv, attendance_report
from rooms.models import GroupSession, Participant


@require_GET
def attendance(request: HttpRequest, session_id: int) -> HttpResponse:
    # Guests carry no user, only a guest key in their session: they are sent to sign in, like anyone anonymous.
    if not request.user.is_authenticated:
        return redirect(f"/accounts/login/?next=/sessions/{session_id}/attendance/")
    session = GroupSession.objects.filter(pk=session_id).first()
    if session is None:
        raise Http404("No such session.")
    facilitates = Participant.objects.filter(
        session=session, member=request.user, role="facilitator", removed_at__isnull=True
    ).exists()
    if not facilitates:
        return render(request, "facilitator/not_yours.html", {"session": session}, status=403)
    rows = attendance_report(session, timezone.now())
    if request.GET.get("format") == "csv":
        response = HttpResponse(attendance_csv(session, rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="attendance-session-{session.pk}.csv"'
        response["Cache-Control"] = "no-store"
        return response
    response = render(request, "facilitator/attendance.html", {"session": session, "rows": rows})
    response["Cache-Control"] = "no-store"
    return response
