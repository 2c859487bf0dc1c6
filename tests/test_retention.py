"""purge_expired: message text, removed text quoted in the audit log, and guest details do not outlive
RETENTION_DAYS; the audit entries themselves stay."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from moderation.actions import do_remove_message, do_remove_participant
from rooms.actions.chat import do_send_chat
from rooms.actions.retention import do_purge_expired
from rooms.models import AuditEntry, GroupSession, GuestPass, Message, Participant
from rooms.visibility import recent_visible
from tests.conftest import participant
from tests.moderation_support import make_guest

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


@pytest.fixture
def history(live_group, dana, alex, sam):
    """Messages 40 days old and 1 day old; one old message removed recently; one recent removed."""
    GroupSession.objects.filter(pk=live_group.pk).update(mode="open")
    now = timezone.now()
    d, a, s = (participant(live_group, x).pk for x in (dana, alex, sam))
    old = do_send_chat(live_group.pk, a, "forty days ago I said this", now - 40 * DAY)
    old_removed = do_send_chat(live_group.pk, s, "an old message removed late", now - 40 * DAY + timedelta(seconds=1))
    do_remove_message(live_group.pk, d, old_removed.pk, "late cleanup", now - 2 * DAY)
    recent = do_send_chat(live_group.pk, a, "yesterday I said this", now - DAY)
    recent_removed = do_send_chat(live_group.pk, s, "a recent message removed", now - DAY + timedelta(seconds=1))
    do_remove_message(live_group.pk, d, recent_removed.pk, "off topic", now - DAY + timedelta(seconds=2))
    return {"now": now, "old": old, "old_removed": old_removed, "recent": recent, "recent_removed": recent_removed}


def test_message_text_older_than_the_period_is_deleted(history, live_group, sam):
    report = do_purge_expired(history["now"], 30)
    assert report.messages == 2
    old = Message.objects.get(pk=history["old"].pk)
    assert (old.text, old.html) == ("", "") and old.text_purged_at == history["now"]
    assert old.seq == history["old"].seq  # the row and its seq stay: seqs are never reused
    recent = Message.objects.get(pk=history["recent"].pk)
    assert recent.text == "yesterday I said this" and recent.text_purged_at is None
    # Gone from session.state and ?since= for everyone.
    viewer = participant(live_group, sam)
    for since in (None, 0):
        shown = recent_visible(viewer, since=since, state_limit=100, since_limit=1000)
        assert [m.text for m in shown] == ["yesterday I said this"]


def test_audit_entries_stay_without_the_text_they_quoted(history):
    do_purge_expired(history["now"], 30)
    removals = {e.message_seq: e for e in AuditEntry.objects.filter(action="message.remove")}
    assert set(removals) == {history["old_removed"].seq, history["recent_removed"].seq}
    # Removed two days ago, but the message itself is 40 days old: its text goes now.
    old = removals[history["old_removed"].seq]
    assert old.removed_text == "" and old.reason == "late cleanup" and old.actor_label == "Dana (facilitator)"
    recent = removals[history["recent_removed"].seq]
    assert recent.removed_text == "a recent message removed"


def test_an_entry_older_than_the_period_loses_its_quote_too(live_group, dana, alex):
    now = timezone.now()
    d, a = participant(live_group, dana).pk, participant(live_group, alex).pk
    GroupSession.objects.filter(pk=live_group.pk).update(mode="open")
    said = do_send_chat(live_group.pk, a, "quoted", now - 31 * DAY)
    do_remove_message(live_group.pk, d, said.pk, "", now - 31 * DAY)
    assert do_purge_expired(now, 30).audit_texts == 1
    assert AuditEntry.objects.get(action="message.remove").removed_text == ""


def test_guest_details_go_once_their_session_ended_longer_ago(live_group, dana, alex, sam):
    now = timezone.now()
    old_guest = make_guest(live_group, alex, "Maria")
    do_remove_participant(live_group.pk, participant(live_group, dana).pk, old_guest.pk, "left early", now - 35 * DAY)
    GroupSession.objects.filter(pk=live_group.pk).update(status="ended", ended_at=now - 31 * DAY)
    from rooms.actions.lifecycle import do_schedule_session

    current = do_schedule_session(title="This week", facilitator="dana", patients=["sam"], starts_at=now)
    new_guest = make_guest(current, sam, "Tom")

    report = do_purge_expired(now, 30)
    assert report.guests == 1
    old_guest.refresh_from_db()
    assert (old_guest.display_name, old_guest.relationship) == ("(guest)", "")
    assert GuestPass.objects.get(guest=old_guest).name == ""
    entry = AuditEntry.objects.get(action="participant.remove")
    assert entry.target_label == "(guest)" and entry.reason == "left early"
    assert "Maria" not in " ".join(AuditEntry.objects.values_list("actor_label", flat=True))
    assert "Maria" not in " ".join(AuditEntry.objects.values_list("target_label", flat=True))
    new_guest.refresh_from_db()
    assert (new_guest.display_name, new_guest.relationship) == ("Tom", "spouse")
    assert GuestPass.objects.get(guest=new_guest).name == "Tom"
    assert Participant.objects.get(session=live_group, member=alex).display_name == "Alex"


def test_running_twice_changes_nothing_more(history):
    first = do_purge_expired(history["now"], 30)
    assert (first.messages, first.audit_texts) == (2, 1)
    again = do_purge_expired(history["now"], 30)
    assert (again.messages, again.audit_texts, again.guests) == (0, 0, 0)


def test_the_command_applies_RETENTION_DAYS(history):
    out = StringIO()
    with override_settings(RETENTION_DAYS=45):
        call_command("purge_expired", stdout=out)
    assert Message.objects.filter(text_purged_at__isnull=False).count() == 0  # 40 days < 45
    assert "older than 45 days" in out.getvalue()
    call_command("purge_expired", stdout=out)  # the default, 30
    assert Message.objects.filter(text_purged_at__isnull=False).count() == 2
    assert "purged text of 2 messages" in out.getvalue()
