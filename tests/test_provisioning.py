"""The contract's provisioning commands: success, and bad input that exits non-zero,
prints one clear line on stderr and creates or changes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Member
from rooms.models import GroupSession, GuestPass, Participant

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def counts() -> tuple[int, int, int, int]:
    models = (Member, GroupSession, Participant, GuestPass)
    return tuple(model.objects.count() for model in models)  # type: ignore[return-value]


@pytest.fixture
def clinic(db):
    run("create_member", "dana", "--role", "facilitator", "--display-name", "Dana", "--password", "a-long-pass-1")
    for name in ("alex", "sam"):
        run("create_member", name, "--role", "patient", "--display-name", name.title(), "--password", "a-long-pass-1")


def test_create_member_makes_an_account_that_can_sign_in(clinic, client):
    member = Member.objects.get(username="dana")
    assert member.role == "facilitator" and member.display_name == "Dana"
    response = client.post("/accounts/login/", {"username": "dana", "password": "a-long-pass-1"})
    assert response.status_code == 302 and response["Location"] == "/"


def test_schedule_session_prints_the_id_alone_on_its_last_line(clinic):
    out = run("schedule_session", "--title", "Evening group", "--facilitator", "dana", "--patients", "alex,sam")
    session = GroupSession.objects.get(pk=int(out.strip().splitlines()[-1]))
    assert (session.kind, session.duration_minutes) == ("group", 60)
    assert (session.mode, session.status) == ("moderated", "scheduled")
    assert not session.allow_guests
    roster = list(session.participants.values_list("display_name", "role"))
    assert roster == [("Dana", "facilitator"), ("Alex", "patient"), ("Sam", "patient")]


def test_an_individual_session_is_open_and_starts_later(clinic):
    out = run("schedule_session", "--title", "Check-in", "--facilitator", "dana", "--patients", "alex",
              "--kind", "individual", "--starts-in", "30", "--duration", "45", "--allow-guests")
    session = GroupSession.objects.get(pk=int(out.strip().splitlines()[-1]))
    assert (session.kind, session.mode) == ("individual", "open")
    assert (session.duration_minutes, session.allow_guests) == (45, True)


def test_invite_guest_prints_the_join_path(clinic):
    out = run("schedule_session", "--title", "Family", "--facilitator", "dana", "--patients", "alex", "--allow-guests")
    session_id = out.strip().splitlines()[-1]
    path = run("invite_guest", session_id, "--for", "alex", "--name", "Maria").strip().splitlines()[-1]
    assert path.startswith("/join/") and path.endswith("/") and len(path) > len("/join//") + 20


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("create_member", "dana", "--role", "patient", "--display-name", "D", "--password", "a-long-pass-2"),
         "already exists"),
        (("create_member", "pat", "--role", "patient", "--display-name", " ", "--password", "a-long-pass-2"),
         "display name"),
        (("create_member", "pat", "--role", "patient", "--display-name", "Pat", "--password", "123"), "password"),
        (("schedule_session", "--title", "X", "--facilitator", "nobody", "--patients", "alex"), "nobody"),
        (("schedule_session", "--title", "X", "--facilitator", "alex", "--patients", "sam"), "not a facilitator"),
        (("schedule_session", "--title", "X", "--facilitator", "dana", "--patients", "alex,ghost"), "ghost"),
        (("schedule_session", "--title", "X", "--facilitator", "dana", "--patients", "dana"), "not a patient"),
        (("schedule_session", "--title", "X", "--facilitator", "dana", "--patients", "alex,sam", "--kind",
          "individual"), "exactly one patient"),
        (("invite_guest", "999999", "--for", "alex", "--name", "Maria"), "no session"),
    ],
    ids=["duplicate-user", "blank-name", "weak-password", "unknown-facilitator", "patient-as-facilitator",
         "unknown-patient", "facilitator-as-patient", "individual-with-two", "unknown-session"],
)
def test_bad_input_is_refused_and_changes_nothing(clinic, args, message):
    before = counts()
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert counts() == before


def test_guests_only_for_sessions_that_allow_them_and_patients_on_the_roster(clinic):
    closed = run("schedule_session", "--title", "Group", "--facilitator", "dana", "--patients", "alex").split()[-1]
    family = run("schedule_session", "--title", "Family", "--facilitator", "dana", "--patients", "alex",
                 "--allow-guests").split()[-1]
    before = counts()
    with pytest.raises(CommandError, match="allow guests"):
        run("invite_guest", closed, "--for", "alex", "--name", "Maria")
    with pytest.raises(CommandError, match="roster"):
        run("invite_guest", family, "--for", "sam", "--name", "Maria")
    assert counts() == before


def test_demo_is_idempotent_and_prints_the_logins(db):
    first = run("demo")
    after_first = counts()
    second = run("demo")
    assert counts() == after_first, "a second demo creates nothing more"
    assert "dana" in first and "alex" in second and "circle-demo-2026" in second
    assert GroupSession.objects.filter(status="scheduled").count() >= 2


def test_the_real_command_line_exits_non_zero_with_one_line_on_stderr(tmp_path):
    env = {**os.environ, "DEBUG": "1", "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}"}
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, cwd=ROOT, timeout=120)
    result = subprocess.run(
        [*manage, "schedule_session", "--title", "X", "--facilitator", "nobody", "--patients", "alex"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "nobody" in lines[0], result.stderr
    ok = subprocess.run(
        [*manage, "create_member", "dana", "--role", "facilitator", "--display-name", "Dana", "--password",
         "a-long-pass-1"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert ok.returncode == 0, ok.stderr


# A command's whole numbers are ASCII digits too (issue 22, class 1): argparse's type=int reads the
# full-width or Arabic-Indic digits below as numbers, so `invite_guest ５` reached session 5.  # noqa: RUF003
OTHER_DIGITS = ["５", "٣", "१", "²", "𝟓", "1_0", "+5", "-5", "0x5"]  # noqa: RUF001 - look-alike digits, on purpose
NUMBER_ARGUMENTS = [
    ("invite_guest", "{n}", "--for", "alex", "--name", "Maria"),
    ("schedule_session", "--title", "X", "--facilitator", "dana", "--patients", "alex", "--starts-in", "{n}"),
    ("schedule_session", "--title", "X", "--facilitator", "dana", "--patients", "alex", "--duration", "{n}"),
    ("schedule_series", "--title", "X", "--facilitator", "dana", "--patients", "alex", "--days", "mon",
     "--time", "18:00", "--weeks", "{n}"),
    ("schedule_series", "--title", "X", "--facilitator", "dana", "--patients", "alex", "--days", "mon",
     "--time", "18:00", "--weeks", "1", "--duration", "{n}"),
    ("cancel_session", "{n}"),
    ("series_roster", "{n}", "--add", "alex"),
    ("reschedule_session", "{n}", "--starts-at", "2030-01-07T18:00:00+00:00"),
]


@pytest.mark.parametrize("number", OTHER_DIGITS)
@pytest.mark.parametrize("args", NUMBER_ARGUMENTS, ids=lambda args: f"{args[0]}-{args[-2]}")
def test_a_command_number_in_other_digits_is_refused_and_changes_nothing(clinic, args, number):
    before = counts()
    with pytest.raises(CommandError, match="digits 0-9"):
        run(*(part.format(n=number) for part in args))
    assert counts() == before
