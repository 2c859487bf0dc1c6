"""The agenda page (/sessions/<id>/agenda/, facilitator.views.agenda): a session's facilitator plans its
prompts before it starts, with the same actions as the console's agenda.* frames; nobody else sees it."""

import pytest
from django.test import Client
from django.utils.html import escape

from facilitator.models import AgendaItem
from rooms.models import Prompt

pytestmark = pytest.mark.django_db


@pytest.fixture
def dana_client(dana):
    client = Client()
    client.force_login(dana)
    return client


def agenda(session):
    items = AgendaItem.objects.filter(session=session).order_by("position", "pk")
    return list(items.values_list("prompt__text", flat=True))


def test_the_facilitator_plans_the_agenda_from_the_library_and_their_own_words(group, dana_client):
    path = f"/sessions/{group.pk}/agenda/"
    library = list(Prompt.objects.filter(session__isnull=True, active=True).order_by("category", "position", "id")[:2])
    page = dana_client.get(path)
    assert page.status_code == 200 and escape(library[0].text).encode() in page.content

    for prompt in library:
        assert dana_client.post(path, {"op": "add", "prompt_id": prompt.pk})["Location"] == path
    dana_client.post(path, {"op": "add", "category": "goals", "text": "One small goal for this week?"})
    assert agenda(group) == [library[0].text, library[1].text, "One small goal for this week?"]

    last = AgendaItem.objects.get(session=group, prompt__text="One small goal for this week?")
    dana_client.post(path, {"op": "up", "item": last.pk})
    assert agenda(group) == [library[0].text, "One small goal for this week?", library[1].text]
    dana_client.post(path, {"op": "remove", "item": last.pk})
    assert agenda(group) == [library[0].text, library[1].text]


def test_an_own_prompt_needs_a_category_and_nobody_but_the_facilitator_may_plan(group, dana_client, alex):
    path = f"/sessions/{group.pk}/agenda/"
    refused = dana_client.post(path, {"op": "add", "text": "No category given"}, follow=True)
    assert b"Choose a category for your own prompt." in refused.content
    assert agenda(group) == []

    patient = Client()
    patient.force_login(alex)
    assert patient.get(path).status_code == 404
    assert patient.post(path, {"op": "add", "category": "goals", "text": "Sneaked in?"}).status_code == 404
    assert agenda(group) == []
