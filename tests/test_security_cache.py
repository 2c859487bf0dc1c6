"""No page with session content or a name is cached (issue 22, class 9; docs/security.md).

`/`, the room, the agenda and the join page were sent without `Cache-Control: no-store`.
One middleware (config.security.NoStoreMiddleware) now covers every page; this test walks
EVERY URL pattern of the project (a new page is covered or this test fails on it),
as each kind of visitor, with GET and POST, and checks every answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern
from django.utils import timezone

from rooms.actions.guests import do_create_invite
from rooms.models import Participant
from tests.conftest import participant
from tests.moderation_support import guest_cookie, make_guest

pytestmark = pytest.mark.django_db


def routes(resolver: URLResolver | None = None, prefix: str = "") -> Iterator[str]:
    """Every route of the URLconf as a path template ("sessions/<int:session_id>/")."""
    for pattern in (resolver or get_resolver()).url_patterns:
        route = prefix + str(pattern.pattern)
        if route.startswith("admin/"):
            continue  # Django's own admin (never_cache by itself); its index is checked below
        if isinstance(pattern, URLResolver):
            yield from routes(pattern, route)
        elif isinstance(pattern, URLPattern):
            assert isinstance(pattern.pattern, RoutePattern), f"a regex route this test cannot fill: {route}"
            yield route


def fill(route: str, values: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in values, f"no value for <{name}> in {route}: add one to this test"
        return values[name]

    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", value, route)


def no_store(response) -> bool:
    return "no-store" in response.get("Cache-Control", "") and "private" in response.get("Cache-Control", "")


@pytest.fixture
def visitors(live_group, dana, alex, outsider):
    lead, patient = participant(live_group, dana), participant(live_group, alex)
    live_group.allow_guests = True
    live_group.save(update_fields=["allow_guests"])
    invite, token = do_create_invite(live_group.pk, lead.pk, patient.pk, "Pat", timezone.now())
    guest = make_guest(live_group, alex, "Maria")
    values = {
        "session_id": str(live_group.pk),
        "invite_id": str(invite.pk),
        "token": token,
        "username": "alex",
        "note_id": "1",
        "series_id": "1",
        "id": "1",
    }
    people = {"anonymous": Client(), "facilitator": Client(), "patient": Client(), "outsider": Client()}
    people["facilitator"].force_login(dana)
    people["patient"].force_login(alex)
    people["outsider"].force_login(outsider)
    people["guest"] = Client(HTTP_COOKIE=guest_cookie(guest))
    return values, people


def test_every_page_of_every_route_is_no_store_for_everyone(visitors):
    values, people = visitors
    paths = sorted({fill(route, values) for route in routes()})
    assert {"/", "/join/" + values["token"] + "/"} <= set(paths)
    paths += [f"/sessions/{values['session_id']}/transcript/?format=txt",
              f"/sessions/{values['session_id']}/attendance/?format=csv", "/admin/", "/no-such-page/"]
    # Signing out last, so that each visitor stays who they are for every other request.
    paths.sort(key=lambda path: path == "/accounts/logout/")
    cached = []
    for who, client in people.items():
        for method in ("get", "post"):
            for path in paths:
                response = getattr(client, method)(path)
                if not no_store(response):
                    cached.append(f"{who} {method.upper()} {path} -> {response.status_code}")
    assert cached == []


@pytest.mark.parametrize("path", ["/", "/sessions/{session_id}/", "/sessions/{session_id}/agenda/",
                                  "/join/{token}/", "/sessions/{session_id}/invites/",
                                  "/sessions/{session_id}/attendance/", "/sessions/{session_id}/transcript/",
                                  "/sessions/{session_id}/audit/"])
def test_the_pages_that_show_names_are_no_store_with_their_content(visitors, path):
    values, people = visitors
    viewer = people["anonymous"] if path.startswith("/join/") else people["facilitator"]
    response = viewer.get(path.format(**values))
    assert response.status_code == 200
    assert no_store(response) and "max-age=0" in response["Cache-Control"]


def test_static_files_stay_cacheable(visitors):
    _, people = visitors
    response = people["anonymous"].get("/static/circle/circle.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


def test_the_guest_sees_the_room_uncached(visitors, live_group):
    _, people = visitors
    response = people["guest"].get(f"/sessions/{live_group.pk}/")
    assert response.status_code == 200 and no_store(response)
    assert Participant.objects.filter(role="guest").exists()
