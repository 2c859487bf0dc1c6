"""Facilitator-only pages: planning a session's agenda, and the attendance sheet of one session
(HTML, or CSV with ?format=csv)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from config.numbers import ascii_int
from facilitator.actions.attendance import do_correct_seat_status
from facilitator.actions.prompts_agenda import do_add_agenda_item, do_move_agenda_item, do_remove_agenda_item
from facilitator.attendance import attendance_csv, attendance_report
from facilitator.models import AgendaItem, SeatStatus
from rooms.access import facilitator_or_404, facilitator_record_page
from rooms.errors import ActionError
from rooms.models import GroupSession, Participant, Status
from rooms.room_context import prompt_categories, prompt_library


@require_http_methods(["GET", "POST"])
@facilitator_record_page("facilitator/not_yours.html")
def attendance(request: HttpRequest, session: GroupSession, seat: Participant) -> HttpResponse:
    """The attendance sheet; POST excuses or corrects one patient's status (`participant_id`, `status`, `reason`)."""
    error = ""
    if request.method == "POST":
        try:
            do_correct_seat_status(
                session.pk,
                seat.pk,
                ascii_int(request.POST.get("participant_id")) or 0,
                request.POST.get("status", ""),
                request.POST.get("reason", ""),
                timezone.now(),
            )
            return redirect(request.path)
        except ActionError as refused:
            error = str(refused.message)
    rows = attendance_report(session, timezone.now())
    if request.GET.get("format") == "csv":
        response = HttpResponse(attendance_csv(session, rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="attendance-session-{session.pk}.csv"'
        return response
    context = {"session": session, "rows": rows, "statuses": SeatStatus.choices, "error": error}
    return render(request, "facilitator/attendance.html", context, status=400 if error else 200)


@login_required
@require_http_methods(["GET", "POST"])
def agenda(request: HttpRequest, session_id: int) -> HttpResponse:
    """Plan a session's prompts before it starts (the console edits the same agenda live)."""
    session, me = facilitator_or_404(request, session_id)
    if request.method == "POST":
        now = timezone.now()
        op = request.POST.get("op")
        try:
            if op == "add":
                add_agenda_item(session, me, request.POST, now)
            elif op in {"remove", "up", "down"}:
                item_id = ascii_int(request.POST.get("item"))
                item = AgendaItem.objects.filter(session=session, pk=item_id).first() if item_id is not None else None
                if item is None:
                    raise ActionError("not_found", _("That prompt is no longer on the agenda."))
                if op == "remove":
                    do_remove_agenda_item(session.pk, me.pk, item.pk, now)
                else:
                    position = max(item.position + (-1 if op == "up" else 1), 0)
                    do_move_agenda_item(session.pk, me.pk, item.pk, position, now)
            else:
                raise ActionError("invalid", _("Unknown change."))
        except ActionError as error:
            messages.error(request, error.message)
        return redirect(f"/sessions/{session.pk}/agenda/")
    items = list(AgendaItem.objects.filter(session=session).select_related("prompt").order_by("position", "pk"))
    return render(
        request,
        "facilitator/agenda.html",
        {
            "session": session,
            "items": items,
            "prompts": prompt_library(),
            "categories": prompt_categories(),
            "editable": session.status != Status.ENDED,
        },
    )


def add_agenda_item(session: GroupSession, me: Participant, post: Any, now: datetime) -> None:
    prompt_id = ascii_int(post.get("prompt_id"))
    text = (post.get("text") or "").strip()
    if text:
        category = post.get("category") or ""
        if category not in {c["key"] for c in prompt_categories()}:
            raise ActionError("invalid", _("Choose a category for your own prompt."))
        do_add_agenda_item(session.pk, me.pk, now, category=category, text=text[:500])
    elif prompt_id is not None:
        do_add_agenda_item(session.pk, me.pk, now, prompt_id=prompt_id)
    else:
        raise ActionError("invalid", _("Choose a prompt from the library or write your own."))
