"""The contract's HTTP side: login, logout, the dashboard, /healthz, and static files
served by daphne itself after `migrate` alone, with DEBUG off."""

from __future__ import annotations

import json
import urllib.request

import pytest
from django.test import Client

from tests import e2e
from tests.conftest import PASSWORD

database = e2e.sqlite_db
daphne = e2e.daphne


@pytest.mark.django_db
def test_login_shows_the_form_and_signs_in(group, alex):
    client = Client()
    form = client.get("/accounts/login/")
    assert form.status_code == 200
    for field in (b'name="username"', b'name="password"', b'name="csrfmiddlewaretoken"'):
        assert field in form.content
    response = client.post("/accounts/login/", {"username": "alex", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"


@pytest.mark.django_db
def test_dashboard_lists_the_persons_sessions_and_needs_a_sign_in(group, alex, outsider):
    assert Client().get("/")["Location"].startswith("/accounts/login/")
    client = Client()
    client.force_login(alex)
    assert b"Tuesday group" in client.get("/").content
    stranger = Client()
    stranger.force_login(outsider)
    assert b"Tuesday group" not in stranger.get("/").content


@pytest.mark.django_db
def test_logout_is_a_post_and_ends_the_sign_in(alex):
    client = Client()
    client.force_login(alex)
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/")["Location"].startswith("/accounts/login/")


@pytest.mark.django_db(transaction=True)
def test_healthz_answers_json_when_database_and_layer_answer():
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": True, "channel_layer": True}


@pytest.mark.django_db(transaction=True)
def test_healthz_is_503_when_the_channel_layer_does_not_answer(monkeypatch):
    async def never(*args, **kwargs):
        raise ConnectionError("layer down")

    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    monkeypatch.setattr(layer, "send", never)
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["channel_layer"] is False and response.json()["status"] == "unavailable"


@pytest.mark.e2e
def test_daphne_serves_pages_and_static_files_after_migrate_alone(database, daphne):
    server = daphne(e2e.server_env(database), name="daphne-static")
    def get(path: str) -> tuple[int, bytes]:
        # base_url is http://127.0.0.1:PORT, built by the test itself.
        with urllib.request.urlopen(f"{server.base_url}{path}", timeout=10) as response:  # noqa: S310
            return response.status, response.read()

    status, css = get("/static/circle/circle.css")
    assert status == 200 and b"{" in css
    status, page = get("/accounts/login/")
    assert status == 200 and b'name="csrfmiddlewaretoken"' in page
    assert json.loads(get("/healthz")[1])["status"] == "ok"
    e2e.assert_no_traceback(server.log_text())
