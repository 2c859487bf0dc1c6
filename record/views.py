"""The record's pages: a session's progress notes (its facilitators) and a patient's record (their care team).

Thin: who may see what is decided by rooms.access (the session's facilitators) and record.care_team (the
patient's care team: anyone else gets 404, as for an unknown patient); what is shown by record.reads; every
write by record.actions.
"""

from __future__ import annotations

from datetime import datetime

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from moderation.notices import part2_notice_text
from moderation.reports import entry_lines, stamp
from moderation.views import NOTICE
from program.charts import patient_attendance_chart
from record import actions
from record.care_team import patient_for
from record.models import NOTE_FIELD_MAX, NoteFormat, ProgressNote
from record.reads import NoteRow, chart_series, goals_with_reviews, note_rows, patient_notes, patient_sessions
from record.rules import CHART_HEIGHT, CHART_WIDTH, FIELD_LABELS, gridlines, note_fields, plot
from rooms.access import facilitator_record_access, facilitator_record_page
from rooms.errors import ActionError
from rooms.models import GroupSession, Participant

FORBIDDEN = "moderation/forbidden.html"


def render_notes(
    request: HttpRequest, session: GroupSession, rows: list[NoteRow], *, status: int = 200, problem: str = ""
) -> HttpResponse:
    context = {
        "session": session,
        "rows": rows,
        "formats": NoteFormat.choices,
        "labels": FIELD_LABELS,
        "notice": NOTICE,
        "problem": problem,
    }
    return render(request, "record/notes.html", context, status=status)


@require_http_methods(["GET", "POST"])
@facilitator_record_page(FORBIDDEN)
def notes(request: HttpRequest, session: GroupSession, seat: Participant) -> HttpResponse:
    now = timezone.now()
    if request.method == "GET" and request.GET.get("format") == "txt":
        response = HttpResponse(signed_notes_text(session), content_type="text/plain; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="circle-session-{session.pk}-notes.txt"'
        return response
    rows = note_rows(session, now)
    if request.method == "GET":
        # ?as=soap&for=<participant_id or empty>: show one draft's form in another format
        wanted = request.GET.get("as")
        if wanted in NoteFormat.values:
            for row in rows:
                if row.key == request.GET.get("for", "") and not (row.note and row.note.signed):
                    row.show(NoteFormat(wanted))
        return render_notes(request, session, rows)
    return save_note(request, session, seat, rows, now)


def save_note(
    request: HttpRequest, session: GroupSession, seat: Participant, rows: list[NoteRow], now: datetime
) -> HttpResponse:
    key = request.POST.get("participant_id", "")
    row = next((r for r in rows if r.key == key), None)
    if row is None:
        return render_notes(request, session, rows, status=400, problem=_("There is no such note in this session."))
    if row.note is not None and row.note.signed:
        return render_notes(request, session, rows, status=409, problem=_("This note is signed: add an amendment."))
    wanted = request.POST.get("format", "")
    if wanted not in NoteFormat.values:
        row.errors.append(_("Choose a format: DAP, SOAP or free text."))
        return render_notes(request, session, rows, status=400)
    row.show(NoteFormat(wanted))
    row.values = {name: request.POST.get(name, "") for name in note_fields(row.format)}
    for name, value in row.values.items():
        if len(value) > NOTE_FIELD_MAX:
            row.errors.append(
                _("%(field)s is longer than %(max)d characters.") % {"field": FIELD_LABELS[name], "max": NOTE_FIELD_MAX}
            )
    sign = request.POST.get("sign") == "1"
    if sign and not any(value.strip() for value in row.values.values()):
        row.errors.append(_("An empty note cannot be signed."))
    if row.errors:
        return render_notes(request, session, rows, status=400)
    try:
        actions.do_save_note(session, seat, row.seat, row.format, row.values, now, sign=sign)
    except actions.NoteLocked:
        return render_notes(request, session, note_rows(session, now), status=409, problem=_("This note is signed."))
    return redirect(f"/sessions/{session.pk}/notes/#note-{key or 'group'}")


@require_POST
def amend(request: HttpRequest, session_id: int, note_id: int) -> HttpResponse:
    found = facilitator_record_access(request, session_id, FORBIDDEN)
    if isinstance(found, HttpResponse):
        return found
    session, seat = found
    now = timezone.now()
    try:
        actions.do_amend_note(session, seat, note_id, request.POST.get("text", ""), now)
    except actions.NoteLocked:
        return render_notes(
            request, session, note_rows(session, now), status=409, problem=_("A draft is edited, not amended.")
        )
    except ActionError as error:
        if error.code == "not_found":
            raise Http404("No such note in this session.") from None
        return render_notes(request, session, note_rows(session, now), status=400, problem=str(error.message))
    return redirect(f"/sessions/{session.pk}/notes/#amend-{note_id}")


def signed_notes_text(session: GroupSession) -> str:
    """The signed notes and their amendments, headed by the Part 2 notice; each field's lines after its first
    are indented (moderation.reports.entry_lines), so no line of a note can pass for a heading."""
    title = _("Progress notes: %(title)s (session %(id)d)") % {"title": session.title, "id": session.pk}
    out = [part2_notice_text(), *entry_lines(title)]
    signed = ProgressNote.objects.filter(session=session, signed_at__isnull=False).prefetch_related("amendments")
    for note in signed.order_by("patient_label", "pk"):
        out.append("")
        heading = note.patient_label or _("Group summary")
        out.extend(entry_lines(f"== {heading} ({note.get_format_display()})"))
        for name in note_fields(NoteFormat(note.format)):
            out.extend(entry_lines(f"{FIELD_LABELS[name]}: {note.fields.get(name, '')}", indent="  "))
        signature = _("Signed by %(who)s at %(when)s") % {"who": note.signed_by_label, "when": stamp(note.signed_at)}
        out.extend(entry_lines(signature, indent="  "))
        for amendment in note.amendments.all():
            out.extend(
                entry_lines(
                    _("Amendment by %(who)s at %(when)s: %(text)s")
                    % {"who": amendment.author_label, "when": stamp(amendment.at), "text": amendment.text},
                    indent="  ",
                )
            )
    return "\n".join(out) + "\n"


def patient_record(request: HttpRequest, username: str) -> HttpResponse:
    patient = patient_for(request.user, username)
    if patient is None:
        raise Http404("No such patient.")
    goals = goals_with_reviews(patient)
    series = chart_series(goals)
    moments = [point.at for one in series for point in one.points]
    plotted = plot(series, min(moments), max(moments)) if moments else []
    context = {
        "patient": patient,
        "sessions": patient_sessions(patient),
        "goals": goals,
        "chart": {"series": plotted, "width": CHART_WIDTH, "height": CHART_HEIGHT, "grid": gridlines()},
        "points": sorted(
            ((point.at, one.label, point.value) for one in series for point in one.points), key=lambda p: p[0]
        ),
        "notes": patient_notes(patient),
        "attendance_chart": patient_attendance_chart(patient),
        "labels": FIELD_LABELS,
    }
    return render(request, "record/patient.html", context)
