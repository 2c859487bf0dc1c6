"""A family guest's join link by email (issue 24): invite_guest --email and invite.create {email}. The mail
holds the link and the time, no title and no patient's name; a bad address changes nothing."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from config.env import email_from_url
from rooms.models import AuditEntry, GroupSession, GuestPass
from tests.conftest import connect_all

FORBIDDEN = re.compile(r"\b(?:recovery|addiction|therapy|treatment|substance)\b", re.IGNORECASE)


@pytest.fixture(autouse=True)
def mail_on(settings):
    settings.MAIL = email_from_url("console:", debug=False)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "https://clinic.example"


def check_invitation(message: mail.EmailMessage, session: GroupSession, join_path: str) -> None:
    assert f"https://clinic.example{join_path}" in message.body
    for text in (message.subject, message.body):
        assert FORBIDDEN.search(str(text)) is None
        assert session.title not in text and "Alex" not in text and "Dana" not in text


@pytest.mark.django_db(transaction=True)
def test_invite_guest_mails_the_link_once(group: GroupSession) -> None:
    out = StringIO()
    call_command(
        "invite_guest", str(group.pk), "--for", "alex", "--name", "Pat", "--email", "pat@example.org", stdout=out
    )
    path = out.getvalue().strip().splitlines()[-1]
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["pat@example.org"]
    check_invitation(mail.outbox[0], group, path)
    assert AuditEntry.objects.get(action="invite.create").detail["emailed"] is True
    with pytest.raises(CommandError, match="not an email address"):
        call_command("invite_guest", str(group.pk), "--for", "alex", "--name", "Lee", "--email", "lee at home",
                     stdout=StringIO(), stderr=StringIO())
    assert GuestPass.objects.count() == 1 and len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
async def test_invite_create_with_an_email(connect, group, dana, alex) -> None:
    dana_peer, alex_peer = await connect_all(connect, group, dana, alex)
    alex_id = alex_peer.state["me"]["participant_id"]
    bad = await dana_peer.request("invite.create", for_participant_id=alex_id, name="Pat", email="nope")
    assert bad["type"] == "error" and bad["code"] == "invalid"
    ack = await dana_peer.request("invite.create", for_participant_id=alex_id, name="Pat", email="pat@example.org")
    assert ack["type"] == "ack"
    assert len(mail.outbox) == 1
    check_invitation(mail.outbox[0], group, ack["join_path"])
    plain = await dana_peer.request("invite.create", for_participant_id=alex_id, name="Kim")
    assert plain["type"] == "ack" and len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)  # the mail leaves on commit
def test_the_invitations_page_mails_the_link(group: GroupSession, dana) -> None:
    from django.test import Client

    client = Client()
    client.force_login(dana)
    alex_seat = group.participants.get(member__username="alex")
    bad = client.post(f"/sessions/{group.pk}/invites/", {"for_participant": alex_seat.pk, "name": "Pat", "email": "x"})
    assert bad.status_code == 400 and not GuestPass.objects.exists()
    done = client.post(
        f"/sessions/{group.pk}/invites/", {"for_participant": alex_seat.pk, "name": "Pat", "email": "pat@example.org"}
    )
    assert done.status_code == 201 and len(mail.outbox) == 1
    path = re.search(r"/join/[A-Za-z0-9_-]+/", str(mail.outbox[0].body))
    assert path is not None and path.group() in done.content.decode()
