"""The join page: name, relationship, the clinic's confidentiality agreement, accepted and recorded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from rooms.actions.guests import RELATIONSHIPS
from rooms.models import AuditEntry, GuestPass, Participant
from tests.guests_support import invite, redeem

PROJECT = Path(__file__).resolve().parent.parent


def test_the_form_asks_for_name_relationship_and_the_agreement(group, alex, settings):
    settings.CONFIDENTIALITY_AGREEMENT = "Nothing said at Riverside leaves Riverside.\nNo recordings."
    _, token = invite(group, alex, "Maria")
    page = Client().get(f"/join/{token}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="display_name"' in html and 'value="Maria"' in html
    assert 'name="relationship"' in html
    for relationship in ("spouse", "parent", "child", "sibling", "friend", "other"):
        assert f'value="{relationship}"' in html
    assert 'name="accept_rules"' in html and 'type="checkbox"' in html
    assert "Nothing said at Riverside leaves Riverside." in html and "No recordings." in html
    assert "Alex" in html and group.title in html


def test_the_agreement_must_be_accepted(group, alex):
    guest_pass, token = invite(group, alex)
    refused = redeem(token, accept=False)
    assert refused.status == 200
    guest_pass.refresh_from_db()
    assert guest_pass.redeemed_at is None and not Participant.objects.filter(role="guest").exists()
    assert redeem(token).status == 302


def test_acceptance_is_recorded_with_time_pass_and_text(group, alex, settings):
    settings.CONFIDENTIALITY_AGREEMENT = "What is said here stays here."
    guest_pass, token = invite(group, alex)
    redeemed = redeem(token, "Maria G.", "parent")
    assert redeemed.status == 302 and redeemed.location == f"/sessions/{group.pk}/"
    guest_pass.refresh_from_db()
    assert guest_pass.consent_accepted_at is not None and guest_pass.consent_accepted_at == guest_pass.redeemed_at
    assert guest_pass.consent_text == "What is said here stays here."
    guest = guest_pass.guest
    assert guest is not None and guest.guest_of is not None
    assert guest.display_name == "Maria G." and guest.relationship == "parent"
    assert guest.role == "guest" and guest.admitted is False and guest.guest_of.member == alex
    entry = AuditEntry.objects.get(action="invite.redeem")
    assert entry.detail["invite_id"] == guest_pass.pk and entry.detail["consent_accepted_at"]


@pytest.mark.parametrize("relationship", RELATIONSHIPS)
def test_every_relationship_is_kept(group, alex, relationship):
    _, token = invite(group, alex)
    assert redeem(token, relationship=relationship).status == 302
    assert Participant.objects.get(role="guest").relationship == relationship


def test_relationship_is_optional_and_defaults_to_other(group, alex):
    _, token = invite(group, alex)
    response = Client().post(f"/join/{token}/", {"display_name": "Maria", "accept_rules": "on"})
    assert response.status_code == 302
    assert Participant.objects.get(role="guest").relationship == "other"


def test_an_unknown_relationship_or_an_empty_name_is_refused(group, alex):
    guest_pass, token = invite(group, alex)
    assert redeem(token, relationship="landlord").status == 200
    assert redeem(token, display_name="").status == 200
    guest_pass.refresh_from_db()
    assert guest_pass.redeemed_at is None


def test_the_join_post_needs_csrf(group, alex):
    _, token = invite(group, alex)
    client = Client(enforce_csrf_checks=True)
    response = client.post(f"/join/{token}/", {"display_name": "Maria", "accept_rules": "on"})
    assert response.status_code == 403
    assert GuestPass.objects.get().redeemed_at is None


def test_the_guest_cookie_is_a_fresh_session(group, alex, dana):
    """Redeeming in a browser signed in as someone else drops that sign-in."""
    _, token = invite(group, alex)
    client = Client()
    client.force_login(dana)
    response = client.post(f"/join/{token}/", {"display_name": "Maria", "accept_rules": "on"})
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302


def settings_in_a_fresh_process(**env: str) -> str:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings;"
            " print(repr(settings.CONFIDENTIALITY_AGREEMENT))",
        ],
        cwd=PROJECT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "1", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_the_agreement_comes_from_the_environment():
    clinic = settings_in_a_fresh_process(CONFIDENTIALITY_AGREEMENT="Riverside rule one.\\nRule two.")
    assert clinic == repr("Riverside rule one.\nRule two.")
    default = settings_in_a_fresh_process(CONFIDENTIALITY_AGREEMENT="")
    assert "stays in this group" in default and "emergency" in default
