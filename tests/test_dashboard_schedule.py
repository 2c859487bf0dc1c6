"""Scheduling from the dashboard (POST /sessions/new/, rooms.dashboard_views.schedule): facilitators only,
with the same rules as the schedule_session command."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from rooms.models import GroupSession, ParticipantRole

pytestmark = pytest.mark.django_db


def signed_in(member):
    client = Client()
    client.force_login(member)
    return client


def form(**changes):
    starts = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    fields = {"title": "Thursday group", "kind": "group", "starts_at": starts, "duration": 60}
    return fields | {"patients": ["alex", "sam"]} | changes


def test_a_facilitator_schedules_a_session_with_the_chosen_roster(dana, alex, sam):
    response = signed_in(dana).post("/sessions/new/", form(allow_guests="on"))
    assert response.status_code == 302 and response["Location"] == "/"
    session = GroupSession.objects.get(title="Thursday group")
    assert session.allow_guests and session.duration_minutes == 60
    roster = session.participants.order_by("roster_position").values_list("member__username", "role")
    assert list(roster) == [("dana", ParticipantRole.FACILITATOR), ("alex", "patient"), ("sam", "patient")]


def test_the_form_refuses_an_individual_session_for_two_and_a_patient_may_not_schedule(dana, alex, sam):
    refused = signed_in(dana).post("/sessions/new/", form(kind="individual"))
    assert refused.status_code == 400 and b"An individual session has exactly one patient." in refused.content
    assert signed_in(alex).post("/sessions/new/", form()).status_code == 404
    assert not GroupSession.objects.filter(title="Thursday group").exists()
