"""The transcript: facilitators only (page and ?format=txt), headed by the 42 CFR part 2 notice, removed and
purged messages marked, the private line shown apart; patients and guests cannot reach it."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Member
from moderation.actions import do_remove_message
from moderation.notices import PART2_NOTICE
from rooms.actions.chat import do_send_chat, do_send_private
from rooms.actions.retention import do_purge_expired
from rooms.models import AuditEntry, GroupSession
from tests.conftest import participant
from tests.moderation_support import guest_cookie, make_guest

pytestmark = pytest.mark.django_db

NOTICE_OPENING = (
    "This record which has been disclosed to you is protected by Federal confidentiality rules (42 CFR part 2)."
)


@pytest.fixture
def recorded(live_group, dana, alex, sam):
    GroupSession.objects.filter(pk=live_group.pk).update(mode="open")
    now = timezone.now()
    d, a, s = (participant(live_group, x).pk for x in (dana, alex, sam))
    do_send_chat(live_group.pk, a, "forty days ago", now - timedelta(days=40))
    do_send_chat(live_group.pk, d, "Welcome back, everyone", now - timedelta(minutes=30))
    said = do_send_chat(live_group.pk, s, "my cousin Jo Bloggs uses too", now - timedelta(minutes=29))
    do_remove_message(live_group.pk, d, said.pk, "names someone outside the group", now - timedelta(minutes=28))
    do_send_chat(live_group.pk, a, "two lines\n<script>alert(1)</script>", now - timedelta(minutes=27))
    do_send_chat(live_group.pk, a, "can we talk after?", now - timedelta(minutes=26), to="facilitators")
    do_send_private(live_group.pk, d, a, "Of course, stay on", now - timedelta(minutes=25))
    do_purge_expired(now, 30)
    return live_group


def client_for(member: Member) -> Client:
    client = Client()
    client.force_login(member)
    return client


def test_facilitator_gets_the_transcript_page_headed_by_the_notice(recorded, dana):
    page = client_for(dana).get(f"/sessions/{recorded.pk}/transcript/")
    assert page.status_code == 200
    body = page.content.decode()
    assert NOTICE_OPENING in body
    assert body.index("42 CFR part 2") < body.index("Welcome back, everyone"), "the notice heads the record"
    assert "Welcome back, everyone" in body
    assert "Jo Bloggs" not in body and "[message removed by Dana (facilitator)" in body
    assert "names someone outside the group" in body
    assert "forty days ago" not in body and "[text deleted under the retention policy]" in body
    assert "&lt;script&gt;" in body and "<script>alert" not in body
    assert "private line, to the facilitators only" in body and "can we talk after?" in body
    assert "private line, to Alex (patient) only" in body and "Of course, stay on" in body
    assert "no-store" in page["Cache-Control"]


def test_plain_text_download(recorded, dana):
    download = client_for(dana).get(f"/sessions/{recorded.pk}/transcript/", {"format": "txt"})
    assert download.status_code == 200
    assert download["Content-Type"] == "text/plain; charset=utf-8"
    assert download["Content-Disposition"] == f'attachment; filename="circle-session-{recorded.pk}-transcript.txt"'
    text = download.content.decode()
    assert text.startswith("Notice under 42 CFR part 2, section 2.32\n\n" + NOTICE_OPENING)
    assert PART2_NOTICE in text
    lines = text.splitlines()
    assert any(line.endswith("#2 Dana (facilitator): Welcome back, everyone") for line in lines)
    removed = next(line for line in lines if "#3 Sam (patient)" in line)
    assert "[message removed by Dana (facilitator)" in removed and "Jo Bloggs" not in text
    assert any("#1 Alex (patient): [text deleted under the retention policy]" in line for line in lines)
    multi = lines.index(next(line for line in lines if "#4 Alex (patient): two lines" in line))
    assert lines[multi + 1] == "    <script>alert(1)</script>"  # plain text, continuation indented
    assert any("#5 Alex (patient) (private line, to the facilitators only): can we talk after?" in ln for ln in lines)
    assert any("#6 Dana (facilitator) (private line, to Alex (patient) only): Of course, stay on" in ln for ln in lines)
    assert lines[-1].startswith("End of transcript.")


def test_opening_the_transcript_is_audited(recorded, dana):
    client = client_for(dana)
    client.get(f"/sessions/{recorded.pk}/transcript/")
    client.get(f"/sessions/{recorded.pk}/transcript/", {"format": "txt"})
    views = AuditEntry.objects.filter(session=recorded, action="transcript.view").order_by("pk")
    assert [e.detail["format"] for e in views] == ["html", "txt"]
    assert all(e.actor_label == "Dana (facilitator)" for e in views)


@pytest.mark.parametrize("fmt", [None, "txt"])
def test_no_patient_guest_or_stranger_can_reach_it(recorded, alex, sam, fmt):
    path = f"/sessions/{recorded.pk}/transcript/"
    query = {"format": fmt} if fmt else {}
    for patient in (alex, sam):
        refused = client_for(patient).get(path, query)
        assert refused.status_code == 403
        assert b"Welcome back" not in refused.content
    guest_client = Client()
    guest_client.cookies["sessionid"] = guest_cookie(make_guest(recorded, alex)).split("=", 1)[1]
    assert guest_client.get(f"/sessions/{recorded.pk}/").status_code == 200  # the guest cookie works for the room
    refused = guest_client.get(path, query)
    assert refused.status_code == 302 and refused["Location"].startswith("/accounts/login/")
    anonymous = Client().get(path, query)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    stranger = Member.objects.create_user(
        username="pat", password="a-long-test-password-1", role="facilitator", display_name="Pat"
    )
    assert client_for(stranger).get(path, query).status_code == 403
    assert client_for(alex).get("/sessions/999999/transcript/", query).status_code == 404
    assert not AuditEntry.objects.filter(action="transcript.view").exists()


def test_a_removed_facilitator_loses_access(recorded, dana):
    from rooms.models import Participant

    Participant.objects.filter(session=recorded, member=dana).update(removed_at=timezone.now())
    assert client_for(dana).get(f"/sessions/{recorded.pk}/transcript/").status_code == 403
