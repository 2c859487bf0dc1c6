"""The record's pages on the real database: progress notes (prefill, drafts, signing, amendments, the .txt
download), the patient's record for the care team only, and the retention of the record."""

from __future__ import annotations

import contextlib
import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from facilitator.models import Attendance, FloorTurn
from moderation.notices import PART2_NOTICE_TITLE
from record import actions as record_actions
from record.actions import do_review_goal, do_save_note, do_set_goal
from record.models import Goal, GoalReview, NoteAmendment, NoteFormat, ProgressNote
from rooms.actions.lifecycle import do_schedule_session
from rooms.actions.retention import do_purge_expired
from rooms.models import AuditEntry, GroupSession, Message, Participant, Prompt
from tests.conftest import make_member, participant
from tests.moderation_support import add_cofacilitator, guest_cookie, make_guest
from tests.test_security_settings import run_settings

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def client_for(member) -> Client:
    client = Client()
    client.force_login(member)
    return client


@pytest.fixture
def ended_group(dana, alex, sam, jordan) -> GroupSession:
    """An hour's group that ran 60 minutes: Alex stayed 55, Sam 30 (late), Jordan never came."""
    start = NOW - timedelta(hours=2)
    session = do_schedule_session(
        title="Tuesday group", facilitator="dana", patients=["alex", "sam", "jordan"], starts_at=start
    )
    end = start + timedelta(hours=1)
    GroupSession.objects.filter(pk=session.pk).update(status="ended", started_at=start, ended_at=end)
    session.refresh_from_db()
    a, s = participant(session, alex), participant(session, sam)
    Attendance.objects.create(session=session, participant=a, joined_at=start, left_at=start + timedelta(minutes=55))
    Attendance.objects.create(
        session=session, participant=s, joined_at=start + timedelta(minutes=30), left_at=start + timedelta(minutes=60)
    )
    Participant.objects.filter(pk=a.pk).update(room_messages=7)
    Participant.objects.filter(pk=s.pk).update(room_messages=2)
    FloorTurn.objects.create(session=session, participant=a, started_at=start, ended_at=start + timedelta(seconds=150))
    prompt = Prompt.objects.create(category="coping", text="What helped this week?", session=session)
    AuditEntry.objects.create(
        session=session, actor=participant(session, dana), actor_label="Dana", action="prompt.post",
        detail={"prompt_id": prompt.pk}, created_at=start,
    )
    lead = participant(session, dana)
    sam_goal = do_set_goal(session.pk, lead.pk, s.pk, "Sam's private goal words", None, start)
    do_review_goal(session.pk, lead.pk, sam_goal.pk, start, progress=2, importance=9, confidence=3)
    alex_goal = do_set_goal(session.pk, lead.pk, a.pk, "Alex's goal words", None, start)
    do_review_goal(session.pk, lead.pk, alex_goal.pk, start, progress=6, importance=7, confidence=5)
    return session


def test_the_notes_page_lists_who_came_with_minutes_and_the_absent_and_prefills_each_their_own(
    ended_group, dana, alex, sam, jordan
):
    page = client_for(dana).get(f"/sessions/{ended_group.pk}/notes/")
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    rows = {row.label: row for row in page.context["rows"]}
    assert (rows["Alex"].minutes, rows["Alex"].status) == (55, "Present")
    assert (rows["Sam"].minutes, rows["Sam"].status) == (30, "Late")
    assert (rows["Jordan"].minutes, rows["Jordan"].status, rows["Jordan"].absent) == (0, "Absent", True)
    alex_prefill, sam_prefill = rows["Alex"].values["data"], rows["Sam"].values["data"]
    assert "Attended: 55 min" in alex_prefill and "Messages to the room: 7." in alex_prefill
    assert "Floor time: 2 min 30 s." in alex_prefill and "What helped this week?" in alex_prefill
    assert "Alex's goal words" in alex_prefill and "importance 7/10, confidence 5/10" in alex_prefill
    # Nothing of Sam's in Alex's note, nothing of Alex's in Sam's.
    assert "Sam" not in alex_prefill and "30 min" not in alex_prefill and "9/10" not in alex_prefill
    assert "Alex" not in sam_prefill and "Messages to the room: 2." in sam_prefill and "55" not in sam_prefill
    group_row = rows[""]
    assert "Patients attending: 2; absent: 1." in group_row.values["data"]


def test_a_note_is_a_draft_until_signed_then_409_and_amendments_and_the_txt_starts_with_the_notice(
    ended_group, dana, alex
):
    client = client_for(dana)
    alex_seat = participant(ended_group, alex).pk
    url = f"/sessions/{ended_group.pk}/notes/"
    draft = {"participant_id": alex_seat, "format": "soap", "subjective": "Feels steadier", "objective": "On time",
             "assessment": "Engaged", "plan": "Next week"}
    assert client.post(url, draft).status_code == 302
    note = ProgressNote.objects.get(session=ended_group, patient=alex)
    assert (note.format, note.signed, note.fields["plan"]) == ("soap", False, "Next week")
    assert client.post(url, {**draft, "plan": "Two weeks", "sign": "1"}).status_code == 302
    note.refresh_from_db()
    assert note.signed and note.signed_by_label == "Dana (facilitator)" and note.fields["plan"] == "Two weeks"
    locked = client.post(url, {**draft, "plan": "Changed after signing"})
    assert locked.status_code == 409
    note.refresh_from_db()
    assert note.fields["plan"] == "Two weeks"
    amended = client.post(f"{url}{note.pk}/amend/", {"text": "Correction: arrived 5 minutes late.\n== Forged heading"})
    assert amended.status_code == 302
    assert NoteAmendment.objects.get(note=note).author_label == "Dana (facilitator)"
    assert list(AuditEntry.objects.filter(session=ended_group, action__startswith="note.").values_list(
        "action", flat=True).order_by("pk")) == ["note.sign", "note.amend"]
    text = client.get(url, {"format": "txt"}).content.decode()
    assert text.startswith(PART2_NOTICE_TITLE)
    assert "Two weeks" in text and "Correction: arrived 5 minutes late." in text
    assert "\n== Forged heading" not in text and "\n      == Forged heading" in text


def test_bad_note_posts_get_400_with_the_errors_shown_and_change_nothing(ended_group, dana, alex):
    client = client_for(dana)
    url = f"/sessions/{ended_group.pk}/notes/"
    seat = participant(ended_group, alex).pk
    bad_format = client.post(url, {"participant_id": seat, "format": "poem", "text": "x"})
    assert bad_format.status_code == 400 and b"Choose a format" in bad_format.content
    empty_signed = client.post(url, {"participant_id": seat, "format": "free", "text": "  ", "sign": "1"})
    assert empty_signed.status_code == 400 and b"cannot be signed" in empty_signed.content
    unknown = client.post(url, {"participant_id": "999999", "format": "free", "text": "x"})
    assert unknown.status_code == 400
    too_long = client.post(url, {"participant_id": seat, "format": "free", "text": "x" * 10001})
    assert too_long.status_code == 400
    assert not ProgressNote.objects.exists()
    draft_amend = client.post(url, {"participant_id": "", "format": "free", "text": "Group went well"})
    assert draft_amend.status_code == 302
    summary = ProgressNote.objects.get(session=ended_group, patient=None)
    assert client.post(f"{url}{summary.pk}/amend/", {"text": "more"}).status_code == 409
    assert client.post(f"{url}{summary.pk}/amend/", {"text": "  "}).status_code == 400  # no text: bad input first
    assert client.post(f"{url}999999/amend/", {"text": "more"}).status_code == 404
    assert not NoteAmendment.objects.exists()


def test_only_the_sessions_facilitators_open_its_notes(ended_group, dana, alex):
    other_lead = make_member("lee", "facilitator", "Lee")
    assert client_for(alex).get(f"/sessions/{ended_group.pk}/notes/").status_code == 403
    assert client_for(other_lead).get(f"/sessions/{ended_group.pk}/notes/").status_code == 403
    assert Client().get(f"/sessions/{ended_group.pk}/notes/").status_code == 302
    morgan = add_cofacilitator(ended_group)
    assert client_for(morgan).get(f"/sessions/{ended_group.pk}/notes/").status_code == 200


def test_the_record_page_is_for_the_care_team_and_404_for_everyone_else(ended_group, dana, alex, sam):
    other_lead = make_member("lee", "facilitator", "Lee")
    do_schedule_session(title="Lee's group", facilitator="lee", patients=["sam"], starts_at=NOW)
    morgan = add_cofacilitator(ended_group)
    page = client_for(dana).get("/patients/alex/")
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    body = page.content.decode()
    assert "Alex&#x27;s goal words" in body
    svg = body[body.index("<svg") : body.index("</svg>")]
    assert "<script" not in svg and "style=" not in svg and "on" + "load" not in svg  # nothing a strict CSP blocks
    assert "<title" in svg and "<desc" in svg and 'class="chart-data"' in body  # the text alternative
    assert 'class="week-chart"' in body and "1 of 1 session attended" in body  # the program's weekly chart
    assert "Sam&#x27;s private goal words" not in body
    assert client_for(morgan).get("/patients/alex/").status_code == 200  # a co-facilitator is on the care team
    assert client_for(other_lead).get("/patients/alex/").status_code == 404  # not on Alex's care team
    assert client_for(other_lead).get("/patients/sam/").status_code == 200  # on Sam's
    assert client_for(sam).get("/patients/alex/").status_code == 404  # another patient
    assert client_for(alex).get("/patients/alex/").status_code == 404  # the record is the care team's
    assert client_for(dana).get("/patients/nobody/").status_code == 404
    assert Client().get("/patients/alex/").status_code == 404
    guest = make_guest(ended_group, alex)
    guest_client = Client()
    guest_client.cookies["sessionid"] = guest_cookie(guest).split("=", 1)[1]
    assert guest_client.get("/patients/alex/").status_code == 404


def test_purge_with_retention_0_takes_ended_sessions_text_and_keeps_the_record(ended_group, dana, alex, settings):
    lead = participant(ended_group, dana)
    Message.objects.create(session=ended_group, participant=lead, seq=1, text="said", html="said", sent_at=NOW)
    live = do_schedule_session(title="Now", facilitator="dana", patients=["alex"], starts_at=NOW)
    GroupSession.objects.filter(pk=live.pk).update(status="live", started_at=NOW)
    Message.objects.create(session=live, participant=participant(live, dana), seq=1, text="live", html="l", sent_at=NOW)
    ProgressNote.objects.create(session=ended_group, patient=alex, patient_label="Alex", author_label="Dana",
                                updated_at=NOW, signed_at=NOW, signed_by_label="Dana")
    before = (Goal.objects.count(), GoalReview.objects.count(), ProgressNote.objects.count())
    settings.RETENTION_DAYS = 0
    call_command("purge_expired", stdout=StringIO())
    assert Message.objects.get(session=ended_group).text == ""
    assert Message.objects.get(session=live).text == "live", "a session under way keeps its text"
    assert (Goal.objects.count(), GoalReview.objects.count(), ProgressNote.objects.count()) == before
    assert before[0] == 2


def test_the_record_goes_after_record_retention_days_since_the_patients_last_session(ended_group, alex, sam, settings):
    settings.RECORD_RETENTION_DAYS = 10
    do_schedule_session(title="Sam later", facilitator="dana", patients=["sam"], starts_at=NOW + timedelta(days=9))
    report = do_purge_expired(NOW + timedelta(days=12), 30)
    # Alex's last session started 2 hours before NOW: more than 10 days before the purge; Sam has a later one.
    assert report.extensions["goals"] == 1
    assert list(Goal.objects.values_list("patient__username", flat=True)) == ["sam"]
    assert do_purge_expired(NOW + timedelta(days=12), 30).extensions == {}


def test_schedule_session_gives_an_individual_session_50_minutes_and_a_group_60(dana, alex):
    out = StringIO()
    call_command("schedule_session", "--title", "1:1", "--facilitator", "dana", "--patients", "alex",
                 "--kind", "individual", stdout=out)
    assert GroupSession.objects.get(pk=int(out.getvalue().split()[-1])).duration_minutes == 50
    out = StringIO()
    call_command("schedule_session", "--title", "Group", "--facilitator", "dana", "--patients", "alex", stdout=out)
    assert GroupSession.objects.get(pk=int(out.getvalue().split()[-1])).duration_minutes == 60
    out = StringIO()
    call_command("schedule_session", "--title", "Long 1:1", "--facilitator", "dana", "--patients", "alex",
                 "--kind", "individual", "--duration", "75", stdout=out)
    assert GroupSession.objects.get(pk=int(out.getvalue().split()[-1])).duration_minutes == 75


def test_the_patients_dashboard_shows_my_goals_with_their_history_and_the_facilitators_the_records(
    ended_group, dana, alex, sam
):
    page = client_for(alex).get("/").content.decode()
    assert "My goals" in page and "Alex&#x27;s goal words" in page and "progress 6 of 10" in page
    assert "Sam&#x27;s private goal words" not in page
    lead_page = client_for(dana).get("/").content.decode()
    assert 'href="/patients/alex/"' in lead_page and 'href="/patients/sam/"' in lead_page
    other_lead = make_member("lee", "facilitator", "Lee")
    assert 'href="/patients/' not in client_for(other_lead).get("/").content.decode()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"RETENTION_DAYS": "0"}, "0 2190"),  # no chat kept, the record kept six years
        ({"RECORD_RETENTION_DAYS": "365"}, "30 365"),
    ],
)
def test_retention_settings_accept_0_for_chat(env, expected):
    result = run_settings(
        {"DEBUG": "1", **env},
        "from django.conf import settings; print(settings.RETENTION_DAYS, settings.RECORD_RETENTION_DAYS)",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == expected.split()


@pytest.mark.parametrize("env", [{"RETENTION_DAYS": "-1"}, {"RECORD_RETENTION_DAYS": "0"}])
def test_retention_settings_refuse_what_would_lose_the_record_or_make_no_sense(env):
    result = run_settings({"DEBUG": "1", **env}, "from django.conf import settings; settings.RETENTION_DAYS")
    assert result.returncode != 0 and next(iter(env)) in result.stderr


@pytest.mark.django_db(transaction=True)
def test_two_saves_of_one_note_at_once_leave_one_note_and_no_error(ended_group, dana, alex, monkeypatch):
    """Each save, once it has looked for the note, waits (up to a second) for the other to look too: without the
    room's lock both find none and both insert, and one fails on the one-note constraint."""
    seat, lead = participant(ended_group, alex), participant(ended_group, dana)
    both_looked = threading.Barrier(2, timeout=1)
    errors: list[BaseException] = []

    find = record_actions.find_note

    def find_then_wait(session, patient):
        found = find(session, patient)
        with contextlib.suppress(threading.BrokenBarrierError):  # the other is held by the lock: go on
            both_looked.wait()
        return found

    monkeypatch.setattr(record_actions, "find_note", find_then_wait)

    def save(text: str) -> None:
        try:
            do_save_note(ended_group, lead, seat, NoteFormat.FREE, {"text": text}, NOW, sign=False)
        except BaseException as error:  # the test reports whatever either thread hit
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(text,)) for text in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert ProgressNote.objects.filter(session=ended_group, patient=alex).count() == 1
