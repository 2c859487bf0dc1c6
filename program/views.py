"""The program's pages: a series, cancelling a session, the attendance export, a member's own settings and
calendar feed. Thin adapters over program.actions and the read helpers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.actions import do_set_contact
from accounts.http import SignedInRequest
from accounts.models import Member, Role
from accounts.provisioning import ProvisioningError
from config.numbers import AsciiDateField
from program.actions import do_cancel_session, do_change_roster, series_sessions
from program.attendance_export import attendance_export_csv, export_rows
from program.calendar import do_turn_calendar_off, do_turn_calendar_on, feed, feed_member, feed_path
from program.charts import patient_attendance_chart
from program.models import ChangeKind, Series, SeriesMember, SessionChange
from program.rules import weekday_numbers
from rooms.access import facilitator_or_404
from rooms.errors import ActionError
from rooms.models import GroupSession, Status


def series_or_404(request: SignedInRequest, series_id: int) -> Series:
    """The series, for its facilitators only; anyone else gets 404 (no hint that it exists)."""
    series = Series.objects.filter(
        pk=series_id, members__member=request.user, members__role=Role.FACILITATOR
    ).first()
    if series is None:
        raise Http404("No such series among yours.")
    return series


class RosterChangeForm(forms.Form):
    op = forms.ChoiceField(choices=[("add", _("Add")), ("remove", _("Remove"))], label=_("Change"))
    username = forms.ChoiceField(label=_("Patient"))
    from_date = AsciiDateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, patients: list[Member], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice = cast(forms.ChoiceField, self.fields["username"])  # declared above
        choice.choices = [(m.username, m.display_name) for m in patients]


@dataclass(frozen=True)
class SeriesRow:
    session: GroupSession
    cancellation: SessionChange | None


@login_required
@require_http_methods(["GET", "POST"])
def series_page(request: SignedInRequest, series_id: int) -> HttpResponse:
    """The standing roster, the sessions past and coming, a roster change from a date on, and each patient's weeks."""
    series = series_or_404(request, series_id)
    patients = list(Member.objects.filter(role=Role.PATIENT, is_active=True).order_by("display_name", "username"))
    now = timezone.now()
    zone = ZoneInfo(series.time_zone)
    form = RosterChangeForm(request.POST or None, patients=patients, initial={"from_date": now.astimezone(zone).date()})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                do_change_roster(
                    series.pk, data["username"], add=data["op"] == "add", from_date=data["from_date"], now=now,
                    actor=request.user,
                )
                return redirect(request.path)
            except ProvisioningError as error:
                form.add_error(None, str(error))
        status = 400
    roster = list(SeriesMember.objects.filter(series=series).select_related("member"))
    sessions = series_sessions(series)
    changes = {c.session_id: c for c in SessionChange.objects.filter(session__in=sessions, kind=ChangeKind.CANCELLED)}
    rows = [SeriesRow(s, changes.get(s.pk)) for s in sessions]
    charts = [
        {"member": seat.member, "chart": patient_attendance_chart(seat.member, series=series)}
        for seat in roster
        if seat.role == Role.PATIENT
    ]
    context = {
        "series": series,
        "days": series_days(series),
        "roster": roster,
        "past": [r for r in rows if r.session.starts_at <= now or r.session.status == Status.ENDED],
        "coming": [r for r in rows if r.session.starts_at > now and r.session.status != Status.ENDED],
        "form": form,
        "charts": charts,
    }
    return render(request, "program/series.html", context, status=status)


def series_days(series: Series) -> str:
    names = [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")]
    return ", ".join(str(names[n]) for n in weekday_numbers(series.weekdays))


@login_required
@require_http_methods(["GET", "POST"])
def cancel_page(request: SignedInRequest, session_id: int) -> HttpResponse:
    """Cancel a coming session with a reason (its facilitators only): the roster is sent a notice."""
    session, _seat = facilitator_or_404(request, session_id)
    error = ""
    if request.method == "POST":
        try:
            do_cancel_session(session.pk, request.POST.get("reason", ""), timezone.now(), actor=request.user)
            return redirect("/")
        except ActionError as refused:
            error = str(refused.message)
    status = 400 if error else 200
    return render(request, "program/cancel.html", {"session": session, "error": error}, status=status)


class ExportForm(forms.Form):
    start = AsciiDateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = AsciiDateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError(_("The first day must come before the last."))
        return data


@login_required
@require_GET
def attendance_export(request: SignedInRequest) -> HttpResponse:
    """/attendance/?from=&to=&format=csv: one row per roster seat of the facilitator's own sessions."""
    if request.user.role != Role.FACILITATOR:
        raise Http404("For facilitators.")
    given = "from" in request.GET or "to" in request.GET
    form = ExportForm({"start": request.GET.get("from", ""), "end": request.GET.get("to", "")} if given else None)
    if given and form.is_valid():
        rows = export_rows(request.user, form.cleaned_data["start"], form.cleaned_data["end"])
        if request.GET.get("format") == "csv":
            response = HttpResponse(attendance_export_csv(rows), content_type="text/csv; charset=utf-8")
            name = f"attendance-{form.cleaned_data['start']}-{form.cleaned_data['end']}.csv"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
        return render(request, "program/attendance_export.html", {"form": form, "rows": rows, "query": request.GET})
    status = 400 if given else 200
    return render(request, "program/attendance_export.html", {"form": form or ExportForm()}, status=status)


class ContactForm(forms.Form):
    email = forms.EmailField(required=False, label=_("Email address"))
    reminders = forms.BooleanField(required=False, label=_("Send me reminders and notices by email"))


@login_required
@require_http_methods(["GET", "POST"])
def settings_page(request: SignedInRequest) -> HttpResponse:
    """A member's own settings: email and reminders, and the private calendar feed (on, replace, off)."""
    member = request.user
    op = request.POST.get("op", "")
    form = ContactForm(
        request.POST if op == "contact" else None, initial={"email": member.email, "reminders": member.reminders}
    )
    feed_url = ""
    status = 200
    if op == "contact":
        if form.is_valid():
            do_set_contact(member, form.cleaned_data["email"], form.cleaned_data["reminders"])
            return redirect(request.path)
        status = 400
    elif op == "calendar_on":
        # Shown on this answer only: the token is not kept, and a reload does not show it again.
        feed_url = f"{settings.SITE_URL}{feed_path(do_turn_calendar_on(member))}"
    elif op == "calendar_off":
        do_turn_calendar_off(member)
        return redirect(request.path)
    context = {"form": form, "feed_on": bool(member.calendar_token_hash), "feed_url": feed_url}
    return render(request, "program/settings.html", context, status=status)


@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The feed behind a token; an unknown or replaced token: 404."""
    member = feed_member(token)
    if member is None:
        raise Http404("No such calendar.")
    response = HttpResponse(feed(member, timezone.now()), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="circle.ics"'
    return response

