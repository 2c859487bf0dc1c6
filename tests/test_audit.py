"""The audit log: every action recorded; append-only in the model, the queryset, the database and the admin;
readable by the session's facilitators at /sessions/<id>/audit/ and by nobody else."""

from datetime import timedelta
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone

from accounts.models import Member
from facilitator.actions.floor_queue import do_clear_hands, do_grant_floor, do_raise_hand, do_revoke_floor
from facilitator.actions.prompts_agenda import do_post_prompt
from facilitator.actions.rounds import do_set_mode
from moderation.actions import (
    do_expire_due_mutes,
    do_mute,
    do_record_transcript_access,
    do_remove_message,
    do_remove_participant,
    do_set_slowmode,
    do_unmute,
)
from rooms.actions.chat import do_send_chat, do_send_private
from rooms.actions.guests import do_create_invite
from rooms.actions.lifecycle import do_end_session, do_start_session
from rooms.audit import record
from rooms.models import REDACTED_GUEST_LABEL, AppendOnlyError, AuditEntry, GroupSession
from tests.conftest import participant
from tests.moderation_support import guest_cookie, make_guest

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(group, dana, alex):
    return record(
        group,
        participant(group, dana),
        "message.remove",
        timezone.now(),
        target=participant(group, alex),
        message_seq=3,
        reason="names a third party",
        removed_text="what Alex wrote",
    )


# ---------------------------------------------------------------- every action leaves an entry


def test_every_facilitation_and_moderation_action_is_recorded(group, dana, alex, sam, jordan):
    t = timezone.now()
    s = group.pk
    d, a, m, j = (participant(group, x).pk for x in (dana, alex, sam, jordan))

    def at(seconds):
        return t + timedelta(seconds=seconds)

    do_start_session(s, d, at(0))
    do_set_mode(s, d, "open", None, at(1))
    do_set_slowmode(s, d, 15, at(2))
    do_raise_hand(s, j, at(3))
    do_clear_hands(s, d, at(4))
    do_post_prompt(s, d, at(5), category="coping", text="What helped this week?")
    do_grant_floor(s, d, m, 60, at(6))
    do_revoke_floor(s, d, at(7))
    said = do_send_chat(s, a, "I want to kill myself some days", at(8))
    do_send_chat(s, a, "can we talk later?", at(9), to="facilitators")
    do_send_private(s, d, a, "yes, after group", at(10))
    do_remove_message(s, d, said.pk, "moving this to a private talk", at(11))
    do_mute(s, d, m, 1, at(12))
    do_expire_due_mutes(at(80))
    do_mute(s, d, j, None, at(81))
    do_unmute(s, d, j, at(82))
    do_create_invite(s, d, a, "Maria", at(83))
    do_remove_participant(s, d, j, "asked to leave", at(84))
    do_record_transcript_access(s, d, "txt", at(85))
    do_end_session(s, d, at(86))

    entries = list(AuditEntry.objects.filter(session=group).order_by("created_at", "pk"))
    assert [e.action for e in entries] == [
        "session.start",
        "mode.set",
        "slowmode.set",
        "hand.clear",
        "prompt.post",
        "floor.grant",
        "floor.revoke",
        "alert",
        "private.to_facilitators",
        "private.send",
        "message.remove",
        "participant.mute",
        "participant.unmute",  # the timed mute lapsing, by the system
        "participant.mute",
        "participant.unmute",
        "invite.create",
        "participant.remove",
        "transcript.view",
        "session.end",
    ]
    by_action = {e.action: e for e in entries}
    # who, what, target, reason, when
    removal = by_action["message.remove"]
    assert removal.actor_label == "Dana (facilitator)" and removal.target_label == "Alex (patient)"
    assert removal.reason == "moving this to a private talk" and removal.created_at == at(11)
    assert removal.removed_text == "I want to kill myself some days" and removal.message_seq == said.seq
    assert by_action["participant.remove"].reason == "asked to leave"
    assert by_action["floor.grant"].target_label == "Sam (patient)"
    lapsed = next(e for e in entries if e.action == "participant.unmute")
    assert lapsed.actor_label == "system" and lapsed.created_at == at(80)


# ---------------------------------------------------------------- append-only, in the application


def test_a_written_entry_cannot_be_saved_again_or_deleted(entry):
    entry.reason = "something else"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    changes: tuple[dict[str, Any], ...] = (
        {"reason": ""},
        {"action": "chat.send"},
        {"removed_text": "rewritten"},
        {"created_at": timezone.now()},
        {"actor_label": "Someone else"},
        {"detail": {}},
    )
    for change in changes:
        with pytest.raises(AppendOnlyError):
            AuditEntry.objects.filter(pk=entry.pk).update(**change)
    with pytest.raises(AppendOnlyError), transaction.atomic():
        AuditEntry.objects.bulk_update([entry], ["reason"])
    fresh = AuditEntry.objects.get(pk=entry.pk)
    assert (fresh.reason, fresh.removed_text) == ("names a third party", "what Alex wrote")
    assert fresh.action == "message.remove"


def test_only_the_retention_redactions_are_permitted(entry):
    assert AuditEntry.objects.filter(pk=entry.pk).update(removed_text="") == 1
    assert AuditEntry.objects.filter(pk=entry.pk).update(target_label=REDACTED_GUEST_LABEL) == 1
    fresh = AuditEntry.objects.get(pk=entry.pk)
    assert fresh.removed_text == "" and fresh.target_label == REDACTED_GUEST_LABEL
    assert fresh.reason == "names a third party"


# ---------------------------------------------------------------- append-only, in the database itself


def raw_execute(sql: str, params: list) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.parametrize(
    "assignment",
    [
        "reason = ''",
        "action = 'chat.send'",
        "removed_text = 'rewritten'",
        "actor_label = 'Someone else'",
        "message_seq = 99",
        "created_at = created_at",
        "session_id = session_id + 1000",
    ],
)
def test_the_database_refuses_any_other_update_whoever_sends_it(entry, assignment):
    if assignment == "created_at = created_at":
        assignment = "created_at = %s"
        params = [timezone.now() - timedelta(days=400)]
    else:
        params = []
    with pytest.raises(DatabaseError):
        sql = f"UPDATE moderation_auditentry SET {assignment} WHERE id = %s"  # noqa: S608 - test's own constants
        raw_execute(sql, [*params, entry.pk])
    fresh = AuditEntry.objects.get(pk=entry.pk)
    assert (fresh.reason, fresh.removed_text, fresh.action, fresh.message_seq) == (
        "names a third party", "what Alex wrote", "message.remove", 3
    )


def test_the_database_lets_the_purge_redact_and_foreign_keys_go_null(entry):
    raw_execute(
        "UPDATE moderation_auditentry SET removed_text = '', actor_label = '(guest)' WHERE id = %s", [entry.pk]
    )
    raw_execute("UPDATE moderation_auditentry SET session_id = NULL WHERE id = %s", [entry.pk])
    fresh = AuditEntry.objects.get(pk=entry.pk)
    assert (fresh.removed_text, fresh.actor_label, fresh.session_id) == ("", "(guest)", None)


def test_the_database_guard_is_installed_and_on_postgresql_refuses_delete(entry):
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError):
            raw_execute("DELETE FROM moderation_auditentry WHERE id = %s", [entry.pk])
        assert AuditEntry.objects.filter(pk=entry.pk).exists()
    else:
        # SQLite drops triggers when a migration rebuilds the table: this notices.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'moderation_auditentry'"
            )
            assert cursor.fetchall() == [("moderation_auditentry_append_only",)]


def test_deleting_a_session_elsewhere_keeps_its_audit_entries(entry, group):
    GroupSession.objects.filter(pk=group.pk).delete()
    kept = AuditEntry.objects.get(pk=entry.pk)
    assert kept.session_id is None and kept.actor_id is None and kept.target_id is None
    assert kept.actor_label == "Dana (facilitator)" and kept.target_label == "Alex (patient)"
    assert kept.removed_text == "what Alex wrote"


# ---------------------------------------------------------------- the admin: read-only


@pytest.fixture
def admin_client(db):
    boss = Member.objects.create_superuser(
        username="clinicadmin", password="a-long-admin-password-1", role="facilitator", display_name="Admin"
    )
    client = Client()
    client.force_login(boss)
    return client


def test_admin_shows_entries_but_refuses_add_change_and_delete(admin_client, entry):
    base = "/admin/rooms/auditentry/"
    listing = admin_client.get(base)
    assert listing.status_code == 200
    assert b"names a third party" in listing.content
    assert b"delete_selected" not in listing.content
    assert admin_client.get(f"{base}{entry.pk}/change/").status_code == 200  # view only
    assert admin_client.get(f"{base}add/").status_code == 403
    assert admin_client.post(f"{base}add/", {"action": "x", "actor_label": "x"}).status_code == 403
    assert admin_client.post(f"{base}{entry.pk}/change/", {"reason": "edited"}).status_code == 403
    assert admin_client.get(f"{base}{entry.pk}/delete/").status_code == 403
    assert admin_client.post(f"{base}{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert admin_client.post(base, {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"}
                             ).status_code in {200, 302}
    fresh = AuditEntry.objects.get(pk=entry.pk)
    assert fresh.reason == "names a third party"


# ---------------------------------------------------------------- the facilitator's report page


def client_for(member: Member) -> Client:
    client = Client()
    client.force_login(member)
    return client


def test_facilitator_reads_the_sessions_audit_log(entry, group, dana):
    page = client_for(dana).get(f"/sessions/{group.pk}/audit/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "message.remove" in body and "names a third party" in body and "what Alex wrote" in body
    assert "Dana (facilitator)" in body and "Alex (patient)" in body
    assert "protected by Federal confidentiality rules (42 CFR part 2)" in body
    assert "no-store" in page["Cache-Control"]


def test_nobody_but_the_sessions_facilitators_reads_it(entry, group, alex, outsider):
    path = f"/sessions/{group.pk}/audit/"
    assert client_for(alex).get(path).status_code == 403
    other_facilitator = Member.objects.create_user(
        username="pat", password="a-long-test-password-1", role="facilitator", display_name="Pat"
    )
    assert client_for(other_facilitator).get(path).status_code == 403
    anonymous = Client().get(path)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    guest = make_guest(group, alex)
    guest_client = Client()
    guest_client.cookies["sessionid"] = guest_cookie(guest).split("=", 1)[1]
    assert guest_client.get(path).status_code == 302
    assert client_for(alex).get("/sessions/999999/audit/").status_code == 404
    for refused in (client_for(alex).get(path), guest_client.get(path)):
        assert b"what Alex wrote" not in refused.content
