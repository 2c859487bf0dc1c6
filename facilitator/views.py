"""Facilitator-only pages: the attendance sheet of one session (HTML, or CSV with ?format=csv)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from facilitator.attendance import attendance_csv, attendance_report
from rooms.access import facilitator_record_page
from rooms.models import GroupSession, Participant


@require_GET
@facilitator_record_page("facilitator/not_yours.html")
def attendance(request: HttpRequest, session: GroupSession, seat: Participant) -> HttpResponse:
    rows = attendance_report(session, timezone.now())
    if request.GET.get("format") == "csv":
        response = HttpResponse(attendance_csv(session, rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="attendance-session-{session.pk}.csv"'
        response["Cache-Control"] = "no-store"
        return response
    response = render(request, "facilitator/attendance.html", {"session": session, "rows": rows})
    response["Cache-Control"] = "no-store"
    return response
