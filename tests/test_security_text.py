"""Typed text on its way in (issue 22, classes 3 and 8; docs/security.md, docs/protocol.md "Text").

Line breaks of every kind become LF, control and bidi-override characters go, display
names and other one-line texts hold no break at all, a text with nothing visible is
`invalid`, and no line of the downloaded transcript can be started by what someone typed.
The pure functions are tried with lists and with hypothesis; every place a text enters
(chat, the private line, lobby notes, names of guests and members, invitations,
reasons, prompts, session titles) with inputs of each kind; the transcript over a
real daphne, where the forged line was seen.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.text import clean_line, clean_text, has_visible_text
from moderation.reports import Transcript, TranscriptLine, transcript_text
from rooms.models import GroupSession, Participant
from rooms.rules import text_refusal
from tests import e2e

# Every way to start a new line that some viewer honours, and what it must become.
LINE_BREAKS = ["\r\n", "\r", "\n", "\u2028", "\u2029", "\x85"]
# Removed from every text: controls (C0 but LF and tab, DEL, C1 but NEL), lone
# surrogates, explicit bidi formatting (embeddings, overrides, isolates, PDF).
CONTROLS = [chr(c) for c in [*range(0x00, 0x20), *range(0x7F, 0xA0)] if chr(c) not in "\t\n\r\x85"]
BIDI_FORMATTING = [*"\u202a\u202b\u202c\u202d\u202e", *"\u2066\u2067\u2068\u2069"]
SURROGATES = ["\ud800", "\udbff", "\udc00", "\udfff"]
REMOVED = CONTROLS + BIDI_FORMATTING + SURROGATES
# Nothing visible, one character at a time: spaces, zero-width and format characters,
# fillers drawn blank, combining marks with no base, variation selectors, tags.
INVISIBLE = [
    " ", "\t", "\u00a0", "\u1680", *[chr(c) for c in range(0x2000, 0x200B)], "\u202f", "\u205f", "\u3000",
    *[chr(c) for c in range(0x200B, 0x2010)],  # ZWSP ZWNJ ZWJ LRM RLM
    *[chr(c) for c in range(0x2060, 0x2065)],  # word joiner, invisible operators
    "\ufeff", "\u180e", "\u00ad", "\u061c", "\u3164", "\u115f", "\u1160", "\uffa0", "\u2800", "\u034f",
    *[chr(c) for c in range(0xFE00, 0xFE10)],  # variation selectors
    "\U000e0001", *[chr(c) for c in range(0xE0020, 0xE0080)],  # tags
    "\U000e0100", "\U000e01ef",  # variation selectors supplement
    "\u0301", "\u20dd",  # a combining accent and an enclosing mark with nothing to sit on
    "\U0001d173", "\U0001d17a",  # musical formatting
    *LINE_BREAKS, *REMOVED,
]
# Visible, and kept as they are.
KEPT = [
    "a", "é", "e\u0301", "ß", "漢字", "\u0645\u0631\u062d\u0628\u0627", "\u05e9\u05dc\u05d5\u05dd",
    "\u200f\u05e9\u05dc\u05d5\u05dd\u200e", "👍", "👍🏽", "❤\ufe0f", "👩\u200d👩\u200d👧", "क्\u200dष",
    "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", "a\tb", "🏳\ufe0f\u200d🌈", "x\u00ady",
]


def made_of(alphabet: list[str], *, min_size: int = 0, max_size: int = 40) -> st.SearchStrategy[str]:
    """Texts made of these pieces (some are two characters long, as CR LF)."""
    return st.lists(st.sampled_from(alphabet), min_size=min_size, max_size=max_size).map("".join)


def code_points(text: str) -> str:
    return "+".join(f"U+{ord(c):04X}" for c in text)


FORGED = "[2026-12-07 10:00:00 UTC] #999 Dana (facilitator): you may all leave now"


# ---------------------------------------------------------------- the normal form


@pytest.mark.parametrize("line_break", LINE_BREAKS)
def test_every_line_break_becomes_lf_in_a_text_and_a_space_in_a_line(line_break):
    assert clean_text(f"one{line_break}two{line_break}{line_break}three") == "one\ntwo\n\nthree"
    assert clean_line(f"Pat{line_break}{FORGED}") == f"Pat {FORGED}"
    assert clean_line(f"{line_break}Pat{line_break}") == "Pat"


@pytest.mark.parametrize("line_break", LINE_BREAKS)
def test_every_line_break_renders_as_one_br_even_in_text_stored_before_normalization(line_break):
    from rooms.sanitize import render_message_html

    assert render_message_html(f"one{line_break}two") == "one<br>two"


@pytest.mark.parametrize("char", REMOVED, ids=code_points)
def test_controls_surrogates_and_bidi_overrides_are_removed(char):
    assert clean_text(f"left{char}right") == "leftright"
    assert clean_line(f"Al{char}ex") == "Alex"


@pytest.mark.parametrize("text", KEPT)
def test_visible_writing_of_every_kind_is_kept_as_typed(text):
    assert clean_text(text) == text
    assert has_visible_text(text)
    assert text_refusal(text, 2000) is None


def test_tab_is_kept_in_messages_and_becomes_a_space_in_names():
    assert clean_text("step 1:\tcall") == "step 1:\tcall"
    assert clean_line("Dana\t\tSmith") == "Dana Smith"


@pytest.mark.parametrize("char", INVISIBLE, ids=code_points)
def test_a_text_of_nothing_visible_is_invalid(char):
    for text in (char, char * 3, f" {char}\n{char} ", f"{char}\u200b{char}"):
        refusal = text_refusal(text, 2000)
        assert refusal is not None and refusal.code == "invalid", repr(text)
    assert text_refusal(f"{char}ok{char}", 2000) is None


@settings(max_examples=300, deadline=None)
@given(made_of(INVISIBLE, min_size=1))
def test_any_mix_of_invisible_characters_is_invalid(text):
    assert not has_visible_text(clean_text(text))
    refusal = text_refusal(text, 2000)
    assert refusal is not None and refusal.code == "invalid"


NEVER_LEFT_IN_TEXT = {*REMOVED, "\r", "\u2028", "\u2029", "\x85"}


@settings(max_examples=500, deadline=None)
@given(
    st.text(alphabet=st.characters(exclude_categories=()), max_size=80)
    | made_of([*LINE_BREAKS, *REMOVED, *INVISIBLE, "a", " ", "\t", "=", "["])
)
def test_the_normal_form_of_any_text(text):
    cleaned, line = clean_text(text), clean_line(text)
    assert not NEVER_LEFT_IN_TEXT & set(cleaned)
    assert all(unicodedata.category(c) != "Cc" or c in "\t\n" for c in cleaned)
    assert len(line.splitlines()) <= 1 and "\t" not in line and "\n" not in line
    assert clean_text(cleaned) == cleaned and clean_line(line) == line, "idempotent"
    assert cleaned == cleaned.strip() and line == line.strip()
    assert cleaned.encode("utf-8").decode("utf-8") == cleaned, "storable: no lone surrogate"


# ---------------------------------------------------------------- the transcript download


def transcript_of(texts: list[str], *, sender: str = "Alex", title: str = "Tuesday group") -> str:
    session = GroupSession(pk=7, title=title, kind="group")
    people = [Participant(pk=1, display_name=sender, role="patient"), Participant(pk=2, display_name="Dana",
                                                                                   role="facilitator")]
    at = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    lines = [
        TranscriptLine(seq=n, sent_at=at, sender=f"{sender} (patient)", audience="room", recipient=None,
                       state="shown", text=text, html="", removed_note="", prompt=None)
        for n, text in enumerate(texts, start=1)
    ]
    return transcript_text(Transcript(session, people, lines, at, "Dana (facilitator)"))


def record_lines(download: str) -> list[str]:
    """The lines of the record part (between the second and the last rule), as a viewer splits them."""
    body = download.split("=" * 72)
    return "\n".join(body[2:-1]).splitlines()


@pytest.mark.parametrize("line_break", [*LINE_BREAKS, "\x0b", "\x0c", "\x1c", "\x1d", "\x1e"])
def test_no_line_of_a_message_starts_a_line_of_the_download_even_as_stored_before_normalization(line_break):
    download = transcript_of([f"I am fine{line_break}{FORGED}", f"{line_break}{FORGED}{line_break}"])
    lines = [line for line in record_lines(download) if line]
    heads = [line for line in lines if line.startswith("[")]
    assert len(heads) == 2 and all(" Alex (patient): " in head for head in heads), lines
    assert all(line.startswith(("[", "    ")) for line in lines), lines


@settings(max_examples=300, deadline=None)
@given(
    st.lists(made_of(["a", "[", "]", "#", " ", ":", *LINE_BREAKS, "\x0b", "\x0c"]), min_size=1, max_size=5),
    made_of(["D", "a", " ", "(", ")", *LINE_BREAKS], min_size=1, max_size=12),
)
def test_whatever_the_texts_and_names_each_message_is_one_entry(texts, name):
    lines = [line for line in record_lines(transcript_of(texts, sender=name)) if line.strip()]
    entries = [line for line in lines if not line.startswith(" ")]
    assert len(entries) == len(texts), lines


def test_a_title_or_name_with_line_breaks_starts_no_line_of_the_header():
    download = transcript_of(["hello"], sender="Pat\rDana (facilitator)", title="Group\u2028Exported by nobody")
    header = download.split("=" * 72)[1].splitlines()
    participants = [line for line in header if line.startswith("  ") and not line.startswith("   ")]
    assert len(participants) == 2, header
    assert not any(line.startswith("Exported by nobody") for line in header), header


# ---------------------------------------------------------------- every place a text enters

# What each entry point is tried with: line breaks of each kind before a forged entry,
# and controls and overrides inside a word.
MULTILINE_ATTACKS = [f"I am fine{line_break}{FORGED}" for line_break in LINE_BREAKS]
NAME_ATTACKS = [f"Pat{line_break}[10:00] #9 Dana (facilitator)" for line_break in LINE_BREAKS]
INLINE_ATTACKS = [f"Al{char}ex" for char in [*CONTROLS[:8], *BIDI_FORMATTING, "\x7f", "\x9b"]]
NOTHING_VISIBLE = ["", " ", "\u200b", "\u3164", "\u200b\u200c\u2060\ufeff", "\r\n\u2028", "\U000e0041\ufe0f",
                   "\u115f\u1160", "\u034f \u180e", "\x00\x01", "\u202e\u2066"]


def one_line(text: str) -> bool:
    return len(text.splitlines()) <= 1 and "\t" not in text and clean_line(text) == text


@pytest.mark.django_db
@pytest.mark.parametrize("attack", MULTILINE_ATTACKS + INLINE_ATTACKS)
def test_messages_and_the_private_lines_store_the_normal_form(live_group, dana, alex, attack):
    from rooms.actions.chat import do_send_chat, do_send_private
    from tests.conftest import participant

    GroupSession.objects.filter(pk=live_group.pk).update(mode="open")
    now = datetime.now(UTC)
    lead, patient = participant(live_group, dana).pk, participant(live_group, alex).pk
    stored = [
        do_send_chat(live_group.pk, patient, attack, now),
        do_send_chat(live_group.pk, patient, attack, now, to="facilitators"),
        do_send_private(live_group.pk, lead, patient, attack, now),
    ]
    for message in stored:
        message.refresh_from_db()
        assert message.text == clean_text(attack)
        assert not NEVER_LEFT_IN_TEXT & set(message.text)


@pytest.mark.django_db
@pytest.mark.parametrize("text", NOTHING_VISIBLE)
def test_every_message_path_refuses_a_text_with_nothing_visible(live_group, dana, alex, text):
    from rooms.actions.chat import ChatRequest, do_send_chat, do_send_chats, do_send_private
    from rooms.actions.guests import do_lobby_say
    from rooms.errors import ActionError
    from rooms.models import Message
    from tests.conftest import participant

    GroupSession.objects.filter(pk=live_group.pk).update(mode="open")
    now = datetime.now(UTC)
    lead, patient = participant(live_group, dana).pk, participant(live_group, alex).pk
    attempts = [
        lambda: do_send_chat(live_group.pk, patient, text, now),
        lambda: do_send_chat(live_group.pk, patient, text, now, to="facilitators"),
        lambda: do_send_private(live_group.pk, lead, patient, text, now),
        lambda: do_lobby_say(live_group.pk, lead, text, now),
    ]
    for attempt in attempts:
        with pytest.raises(ActionError) as refused:
            attempt()
        assert refused.value.code == "invalid"
    batch = do_send_chats([ChatRequest(live_group.pk, patient, text, now), ChatRequest(live_group.pk, lead, "ok", now)])
    assert isinstance(batch[0], ActionError) and batch[0].code == "invalid"
    assert list(Message.objects.values_list("text", flat=True)) == ["ok"]


@pytest.mark.django_db
@pytest.mark.parametrize("attack", NAME_ATTACKS + INLINE_ATTACKS + ["Pat\t\tG.", "  Pat  "])
def test_the_guest_join_form_and_invitations_keep_names_on_one_line(group, dana, alex, attack):
    from django.test import Client

    from rooms.actions.guests import do_create_invite
    from rooms.models import GuestPass
    from tests.conftest import participant
    from tests.guests_support import invite, redeem

    guest_pass, token = invite(group, alex, attack)
    assert one_line(guest_pass.name) and guest_pass.name
    assert redeem(token, display_name=attack).status == 302
    guest = Participant.objects.get(role="guest")
    assert one_line(guest.display_name) and guest.display_name == clean_line(attack)[:60]
    # The facilitator's invitations page takes a name too.
    made, _ = do_create_invite(group.pk, participant(group, dana).pk, participant(group, alex).pk, attack,
                               datetime.now(UTC))
    assert one_line(made.name)
    browser = Client()
    browser.force_login(dana)
    page = browser.post(f"/sessions/{group.pk}/invites/",
                        {"for_participant": participant(group, alex).pk, "name": attack})
    assert page.status_code == 201
    assert all(one_line(name) for name in GuestPass.objects.values_list("name", flat=True))


@pytest.mark.django_db
@pytest.mark.parametrize("name", NOTHING_VISIBLE)
def test_a_name_with_nothing_visible_is_refused_everywhere(group, dana, alex, name):
    from django.core.management import call_command
    from django.core.management.base import CommandError
    from django.test import Client

    from accounts.models import Member
    from rooms.actions.guests import do_create_invite
    from rooms.errors import ActionError
    from rooms.models import GuestPass
    from tests.conftest import participant
    from tests.guests_support import invite, redeem

    guest_pass, token = invite(group, alex, "Maria")
    assert redeem(token, display_name=name).status == 200, "the join form asks again"
    guest_pass.refresh_from_db()
    assert guest_pass.redeemed_at is None
    with pytest.raises(ActionError) as refused:
        do_create_invite(group.pk, participant(group, dana).pk, participant(group, alex).pk, name, datetime.now(UTC))
    assert refused.value.code == "invalid"
    browser = Client()
    browser.force_login(dana)
    page = browser.post(f"/sessions/{group.pk}/invites/", {"for_participant": participant(group, alex).pk,
                                                          "name": name})
    assert page.status_code == 400 and GuestPass.objects.count() == 1
    with pytest.raises(CommandError):
        call_command("create_member", "nobody", "--role", "patient", "--display-name", name,
                     "--password", "a-long-test-password-1")
    assert not Member.objects.filter(username="nobody").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("attack", NAME_ATTACKS + INLINE_ATTACKS)
def test_member_names_reasons_prompts_and_titles_are_one_line(live_group, dana, alex, sam, attack):
    from django.core.management import call_command

    from accounts.models import Member
    from facilitator.actions.prompts_agenda import do_post_prompt
    from moderation.actions import do_remove_message, do_remove_participant
    from rooms.actions.chat import do_send_chat
    from rooms.actions.lifecycle import do_schedule_session
    from rooms.models import AuditEntry
    from tests.conftest import participant

    call_command("create_member", "newcomer", "--role", "patient", "--display-name", attack,
                 "--password", "a-long-test-password-1")
    assert one_line(Member.objects.get(username="newcomer").display_name)
    now = datetime.now(UTC)
    GroupSession.objects.filter(pk=live_group.pk).update(mode="open")
    lead = participant(live_group, dana).pk
    said = do_send_chat(live_group.pk, participant(live_group, alex).pk, "hello", now)
    do_remove_message(live_group.pk, lead, said.pk, attack, now)
    do_remove_participant(live_group.pk, lead, participant(live_group, sam).pk, attack, now)
    reasons = AuditEntry.objects.filter(action__in=["message.remove", "participant.remove"]).values_list(
        "reason", flat=True)
    assert len(reasons) == 2 and all(one_line(reason) and reason for reason in reasons)
    prompt = do_post_prompt(live_group.pk, lead, now, category="coping", text=attack)
    assert one_line(prompt.text)
    session = do_schedule_session(title=attack, facilitator="dana", patients=["alex"], starts_at=now)
    assert one_line(session.title)


@pytest.mark.django_db
@pytest.mark.parametrize("text", NOTHING_VISIBLE)
def test_a_prompt_or_title_with_nothing_visible_is_refused(live_group, dana, text):
    from accounts.provisioning import ProvisioningError
    from facilitator.actions.prompts_agenda import do_post_prompt
    from rooms.actions.lifecycle import do_schedule_session
    from rooms.errors import ActionError
    from tests.conftest import participant

    now = datetime.now(UTC)
    with pytest.raises(ActionError) as refused:
        do_post_prompt(live_group.pk, participant(live_group, dana).pk, now, category="coping", text=text)
    assert refused.value.code == "invalid"
    with pytest.raises(ProvisioningError):
        do_schedule_session(title=text, facilitator="dana", patients=["alex"], starts_at=now)


# ---------------------------------------------------------------- over a real daphne, where the forged line was seen

database = e2e.sqlite_db
daphne = e2e.daphne


def join_as(base_url: str, join_path: str, display_name: str) -> str:
    """A guest's browser on the join page: the form, then its POST. Returns the guest's Cookie header."""
    status, headers, page = e2e.http_request(base_url, "GET", join_path)
    assert status == 200, status
    csrf = e2e._cookies(headers)["csrftoken"]
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert found
    fields = {"display_name": display_name, "accept_rules": "on", "csrfmiddlewaretoken": found.group(1)}
    status, headers, _ = e2e.http_request(
        base_url, "POST", join_path, body=urlencode(fields).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={csrf}",
                 "Origin": base_url, "Referer": f"{base_url}{join_path}"},
    )
    assert status == 302, status
    return f"sessionid={e2e._cookies(headers)['sessionid']}"


# A frame's NUL is refused whole by the frame schema (rooms.schemas), before the text rules.
SOCKET_ATTACKS = [attack for attack in MULTILINE_ATTACKS + INLINE_ATTACKS if "\x00" not in attack]


@pytest.mark.e2e
@pytest.mark.slow
async def test_a_patient_cannot_forge_a_line_of_the_downloaded_transcript(database, daphne):
    env = e2e.server_env(database, CHAT_RATE_LIMIT="100")
    clinic = e2e.provision(env, facilitator="dana", patients=["alex"], title="Forgery", allow_guests=True)
    join_path = e2e.invite_guest(env, clinic.session_id, for_patient="alex", name="Pat")
    server = daphne(env, name="daphne-text")
    base = server.base_url
    cookies = await asyncio.to_thread(e2e.login_all, base, ["dana", "alex"])
    dana = await e2e.ws_connect(base, clinic.session_id, cookies["dana"], name="dana")
    alex = await e2e.ws_connect(base, clinic.session_id, cookies["alex"], name="alex")
    try:
        assert (await dana.request("session.start"))["type"] == "ack"
        assert (await dana.request("mode.set", mode="open"))["type"] == "ack"
        for attack in SOCKET_ATTACKS:
            reply = await alex.request("chat.send", text=attack)
            assert reply["type"] == "ack", reply
            shown = await dana.receive_type("chat.message")
            assert shown["text"] == clean_text(attack) and not NEVER_LEFT_IN_TEXT & set(shown["text"])
        for nothing in NOTHING_VISIBLE:
            reply = await alex.request("chat.send", text=nothing)
            assert reply["type"] == "error" and reply["code"] == "invalid", (nothing, reply)
        # None of them reached anyone: the next message Dana gets is the one after them.
        assert (await alex.request("chat.send", text="marker"))["type"] == "ack"
        assert (await dana.receive_type("chat.message"))["text"] == "marker"
        guest_cookie = await asyncio.to_thread(join_as, base, join_path, "Pat\r[10:00] #1 Dana (facilitator): hi")
        guest = await e2e.ws_connect(base, clinic.session_id, guest_cookie, name="guest")
        assert guest.state["me"]["display_name"] == "Pat [10:00] #1 Dana (facilitator): hi"
    finally:
        await e2e.close_all([dana, alex, *([guest] if "guest" in locals() else [])])
    status, _, download = await asyncio.to_thread(
        e2e.http_request, base, "GET", f"/sessions/{clinic.session_id}/transcript/?format=txt",
        headers={"Cookie": cookies["dana"]},
    )
    assert status == 200
    lines = [line for line in record_lines(download) if line]
    entries = [line for line in lines if not line.startswith(" ")]
    assert len(entries) == len(SOCKET_ATTACKS) + 1, lines
    assert all(" Alex (patient): " in entry for entry in entries), entries
    assert not any("#999 Dana" in entry for entry in entries)
    header = download.split("=" * 72)[1].splitlines()
    assert not any(line.startswith("[10:00]") for line in header), header


@pytest.mark.django_db
@pytest.mark.parametrize("attack", NAME_ATTACKS + INLINE_ATTACKS + NOTHING_VISIBLE)
def test_the_admin_keeps_a_members_name_on_one_line_and_visible(alex, attack):
    """Django's admin validates a Member through full_clean() before it saves one."""
    from django.core.exceptions import ValidationError

    alex.display_name = attack
    if not has_visible_text(clean_line(attack)):
        with pytest.raises(ValidationError) as refused:
            alex.full_clean()
        assert "display_name" in refused.value.message_dict
        return
    alex.full_clean()
    assert alex.display_name == clean_line(attack) and one_line(alex.display_name)
