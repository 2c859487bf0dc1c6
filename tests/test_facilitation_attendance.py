"""Attendance (issue 3): join and leave times per participant per session, kept, shown to facilitators only."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from facilitator.models import Attendance
from moderation.actions import do_remove_participant
from rooms.actions.lifecycle import do_end_session
from rooms.actions.presence import Identity, do_close_connection, do_open_connection
from rooms.models import GroupSession
from tests import facilitation_support
from tests.conftest import connect_all, make_member, participant
from tests.facilitation_support import guest_cookie, make_guest

in_process_layer = facilitation_support.in_process_layer


def open_at(session: GroupSession, member, connection_id: str, when) -> None:
    do_open_connection(session.pk, Identity(member_id=member.pk), connection_id, "worker-1", when)


@pytest.fixture
def attended(live_group, dana, alex, sam):
    """Alex came twice (the second time with two tabs); Sam once; Jordan and Riley never."""
    t0 = timezone.now() - timedelta(minutes=50)
    open_at(live_group, dana, "d1", t0)
    open_at(live_group, alex, "a1", t0 + timedelta(minutes=1))
    do_close_connection("a1", t0 + timedelta(minutes=11))
    open_at(live_group, alex, "a2", t0 + timedelta(minutes=20))
    open_at(live_group, alex, "a3", t0 + timedelta(minutes=25))  # a second tab: the same visit
    do_close_connection("a2", t0 + timedelta(minutes=26))
    do_close_connection("a3", t0 + timedelta(minutes=30))
    open_at(live_group, sam, "s1", t0 + timedelta(minutes=2))
    return t0


@pytest.mark.django_db
def test_a_removed_participants_visit_ends_when_they_are_removed(live_group, dana, sam, attended):
    removed_at = attended + timedelta(minutes=5)
    facilitator, target = participant(live_group, dana).pk, participant(live_group, sam).pk
    do_remove_participant(live_group.pk, facilitator, target, "", removed_at)
    span = Attendance.objects.get(participant=participant(live_group, sam))
    assert span.left_at == removed_at


@pytest.mark.django_db
def test_spans_are_recorded_per_visit_and_closed_at_session_end(live_group, dana, alex, sam, attended):
    t0 = attended
    spans = list(
        Attendance.objects.filter(participant=participant(live_group, alex)).values_list("joined_at", "left_at")
    )
    assert spans == [
        (t0 + timedelta(minutes=1), t0 + timedelta(minutes=11)),
        (t0 + timedelta(minutes=20), t0 + timedelta(minutes=30)),
    ]
    sam_span = Attendance.objects.get(participant=participant(live_group, sam))
    assert sam_span.left_at is None, "still here"

    end = t0 + timedelta(minutes=45)
    do_end_session(live_group.pk, participant(live_group, dana).pk, end)
    assert not Attendance.objects.filter(session=live_group, left_at__isnull=True).exists()
    assert Attendance.objects.get(participant=participant(live_group, sam)).left_at == end


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("in_process_layer")
async def test_real_connections_open_and_close_spans(connect, live_group, alex):
    (peer,) = await connect_all(connect, live_group, alex)
    span = await Attendance.objects.select_related("participant").aget(session=live_group)
    assert span.participant.display_name == "Alex" and span.left_at is None
    await peer.close()
    await span.arefresh_from_db()
    assert span.left_at is not None and span.left_at >= span.joined_at


@pytest.mark.django_db
def test_facilitator_gets_the_page_and_the_csv(live_group, dana, attended):
    client = Client()
    client.force_login(dana)
    page = client.get(f"/sessions/{live_group.pk}/attendance/")
    assert page.status_code == 200
    html = page.content.decode()
    for name in ("Dana", "Alex", "Sam", "Jordan", "Riley"):
        assert name in html
    assert "did not attend" in html and "still here" in html
    assert "20:00" in html, "Alex: two visits of ten minutes"

    response = client.get(f"/sessions/{live_group.pk}/attendance/?format=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    alex_rows = [r for r in rows if r["display_name"] == "Alex"]
    assert [r["span_seconds"] for r in alex_rows] == ["600", "600"]
    assert {r["total_seconds"] for r in alex_rows} == {"1200"}
    assert [r["joined_at"] for r in rows if r["display_name"] == "Jordan"] == [""]
    assert {r["role"] for r in rows} == {"facilitator", "patient"}


@pytest.mark.django_db
def test_csv_cells_cannot_become_formulas(live_group, dana, alex):
    from rooms.models import Participant

    Participant.objects.filter(session=live_group, member=alex).update(display_name="=HYPERLINK(1)")
    client = Client()
    client.force_login(dana)
    body = client.get(f"/sessions/{live_group.pk}/attendance/?format=csv").content.decode()
    assert "'=HYPERLINK(1)" in body


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["", "?format=csv"])
def test_nobody_else_gets_attendance(live_group, alex, attended, path):
    url = f"/sessions/{live_group.pk}/attendance/{path}"

    patient = Client()
    patient.force_login(alex)
    refused = patient.get(url)
    assert refused.status_code == 403
    assert b"Sam" not in refused.content and b"Jordan" not in refused.content, "no one else's attendance"

    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")

    # A facilitator, but not of this session.
    other = make_member("morgan", "facilitator", "Morgan")
    stranger = Client()
    stranger.force_login(other)
    assert stranger.get(url).status_code == 403

    # A guest of this very session: no user, only a guest key in the session.
    guest_id, _ = make_guest(live_group, admitted=True)
    guest = Client()
    guest.cookies["sessionid"] = guest_cookie(guest_id, live_group.pk).split("=", 1)[1]
    response = guest.get(url)
    assert response.status_code in (302, 403) and b"Alex" not in response.content and b"Sam" not in response.content

    assert Client().get(f"/sessions/{live_group.pk + 999}/attendance/").status_code == 302
