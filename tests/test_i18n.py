"""English and Spanish (issue 26): complete catalogues, each person's language, pages, errors, prompts, consent.

- The committed catalogues (locale/es/LC_MESSAGES/*.po) translate every message, none fuzzy, and their
  compiled .mo say the same; a fresh `makemessages` over today's code finds nothing new to translate.
- A member's language (create_member --language, the switch on every page) decides their pages and the
  human `message` of their socket's errors; a guest's first guess is Accept-Language.
- The prompt library is in both languages, seeded by a migration from a frozen copy.
- The join page shows the agreement in the guest's language, and the consent records which one.
- A member reading Spanish finds no English left on any page (tests.i18n_support.english_left).
"""

from __future__ import annotations

import gettext
import importlib
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import Resolver404, resolve
from django.utils import timezone

from accounts.models import Member
from facilitator import prompt_library
from program.mail import compose
from program.rules import MailKind
from rooms.actions.lifecycle import do_schedule_session
from rooms.broadcast import Envelope
from rooms.models import GroupSession, Message, Participant, Prompt
from rooms.state import crisis_resources
from tests.guests_support import invite, redeem
from tests.i18n_support import DOMAINS, LOCALE, PROJECT, english_left, messages, problems

SPANISH = LOCALE / "es" / "LC_MESSAGES"
SPANISH_SEED_MIGRATION = "facilitator.migrations.0007_prompt_library_spanish"


# ---------------------------------------------------------------- the catalogues


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_message_has_its_spanish_and_none_is_fuzzy(domain):
    entries = messages(SPANISH / f"{domain}.po")
    assert len(entries) > 100, "the catalogue is there"
    assert problems(entries) == []


@pytest.mark.parametrize("domain", DOMAINS)
def test_the_compiled_catalogue_is_the_po_file(domain):
    """The .mo Django reads says what the .po says (run `make messages` after editing a .po)."""
    with (SPANISH / f"{domain}.mo").open("rb") as compiled:
        catalog = gettext.GNUTranslations(compiled)
    for entry in messages(SPANISH / f"{domain}.po"):
        if entry.msgid_plural is None:
            assert catalog.gettext(entry.msgid) == entry.msgstrs[0], entry.msgid
        else:
            assert catalog.ngettext(entry.msgid, entry.msgid_plural, 1) == entry.msgstrs[0], entry.msgid
            assert catalog.ngettext(entry.msgid, entry.msgid_plural, 2) == entry.msgstrs[1], entry.msgid


def gettext_tools() -> bool:
    return all(shutil.which(tool) for tool in ("xgettext", "msgmerge", "msguniq"))


@pytest.mark.skipif(not gettext_tools(), reason="GNU gettext is not installed (CI installs it: .ci/run)")
@pytest.mark.parametrize("domain", DOMAINS)
def test_a_fresh_extraction_finds_nothing_untranslated(domain, tmp_path, settings):
    """Every string the code marks today, merged into the committed catalogue: all translated, none fuzzy.
    A string added without its Spanish fails here (then: `make messages`, translate, commit)."""
    target = tmp_path / "es" / "LC_MESSAGES"
    target.mkdir(parents=True)
    shutil.copy(SPANISH / f"{domain}.po", target / f"{domain}.po")
    settings.LOCALE_PATHS = [tmp_path]
    call_command(
        "makemessages",
        locale=["es"],
        domain=domain,
        ignore_patterns=["tests/*", "bench/*", "docs/*", "deploy/*", "staticfiles/*", ".venv/*", "locale/*"],
        no_obsolete=True,
        verbosity=0,
    )
    fresh = messages(target / f"{domain}.po")
    committed = {entry.msgid for entry in messages(SPANISH / f"{domain}.po")}
    assert {entry.msgid for entry in fresh} <= committed, "strings the committed catalogue lacks"
    assert problems(fresh) == []


@pytest.fixture(autouse=True)
def in_the_project(monkeypatch):
    monkeypatch.chdir(PROJECT)  # makemessages walks the current directory


# ---------------------------------------------------------------- each person's language


@pytest.mark.django_db
def test_create_member_takes_a_language_and_defaults_to_language_code(settings):
    call_command("create_member", "lucia", "--role", "patient", "--display-name", "Lucía", "--password",
                 "un-secreto-largo-1", "--language", "es")
    call_command("create_member", "leo", "--role", "patient", "--display-name", "Leo", "--password",
                 "un-secreto-largo-2")
    assert Member.objects.get(username="lucia").language == "es"
    assert Member.objects.get(username="leo").language == "en"


def test_create_member_refuses_an_unknown_language():
    ran = subprocess.run(
        [sys.executable, "manage.py", "create_member", "x", "--role", "patient", "--display-name", "X",
         "--password", "un-secreto-largo-3", "--language", "fr"],
        cwd=PROJECT, capture_output=True, text=True, timeout=60, env={"DEBUG": "1", "PATH": "/usr/bin:/bin"},
    )
    assert ran.returncode != 0 and "--language" in ran.stderr


def signed_in(member: Member) -> Client:
    client = Client()
    client.force_login(member)
    return client


@pytest.mark.django_db
def test_a_member_reads_their_own_language_whatever_the_browser_asks(dana):
    dana.language = "es"
    dana.save()
    page = signed_in(dana).get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    html = page.content.decode()
    assert '<html lang="es">' in html and "Su agenda de sesiones" in html
    assert page.headers["Content-Language"] == "es"


@pytest.mark.django_db
def test_the_language_switch_saves_a_members_choice(alex):
    client = signed_in(alex)
    switched = client.post("/accounts/language/", {"language": "es", "next": "/"})
    assert switched.status_code == 302 and switched.headers["Location"] == "/"
    alex.refresh_from_db()
    assert alex.language == "es"
    assert '<html lang="es">' in client.get("/").content.decode()


def test_the_switch_sends_no_one_elsewhere(db):
    switched = Client().post("/accounts/language/", {"language": "es", "next": "https://elsewhere.example/"})
    assert switched.headers["Location"] == "/"
    assert switched.cookies["django_language"].value == "es"


def test_someone_signed_out_gets_accept_language_then_the_cookie(db):
    mexican = Client().get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9")
    assert '<html lang="es">' in mexican.content.decode()
    french = Client().get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="fr,en;q=0.5")
    assert '<html lang="en">' in french.content.decode()
    chose = Client()
    chose.post("/accounts/language/", {"language": "en", "next": "/accounts/login/"})
    assert '<html lang="en">' in chose.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="es").content.decode()


def test_the_scripts_catalogue_is_in_the_readers_language(db):
    catalogue = Client().get("/jsi18n/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Levantar la mano" in catalogue
    assert "Levantar la mano" not in Client().get("/jsi18n/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


# ---------------------------------------------------------------- the join page and the consent


def test_a_guest_reads_the_join_page_and_the_agreement_in_spanish_and_the_consent_says_so(group, alex, settings):
    settings.CONFIDENTIALITY_AGREEMENT = "What is said here stays here."
    settings.CONFIDENTIALITY_AGREEMENT_ES = "Lo que se dice aquí, aquí se queda."
    guest_pass, token = invite(group, alex)
    guest = Client(HTTP_ACCEPT_LANGUAGE="es-419,es;q=0.9,en;q=0.5")
    html = guest.get(f"/join/{token}/").content.decode()
    assert '<html lang="es">' in html and "Está invitado a una sesión familiar" in html
    assert "Lo que se dice aquí, aquí se queda." in html and "What is said here" not in html
    joined = guest.post(f"/join/{token}/", {"display_name": "María", "relationship": "parent", "accept_rules": "on"})
    assert joined.status_code == 302
    guest_pass.refresh_from_db()
    assert guest_pass.consent_text == "Lo que se dice aquí, aquí se queda." and guest_pass.consent_language == "es"


def test_an_english_guest_accepts_the_english_agreement(group, alex, settings):
    settings.CONFIDENTIALITY_AGREEMENT = "What is said here stays here."
    guest_pass, token = invite(group, alex)
    assert redeem(token).status == 302
    guest_pass.refresh_from_db()
    assert guest_pass.consent_text == "What is said here stays here." and guest_pass.consent_language == "en"


def test_the_default_spanish_agreement_is_the_clinics_not_a_machine_translation(settings):
    from config import settings as defaults

    assert settings.CONFIDENTIALITY_AGREEMENT_ES.startswith("Lo que se dice en este grupo se queda en este grupo.")
    paragraphs = defaults.DEFAULT_CONFIDENTIALITY_AGREEMENT.count("\\n")
    assert defaults.DEFAULT_CONFIDENTIALITY_AGREEMENT_ES.count("\\n") == paragraphs


# ---------------------------------------------------------------- crisis resources


def test_crisis_resources_in_the_facilitators_language(settings):
    assert "988" in crisis_resources("es") and "español" in crisis_resources("es")
    assert crisis_resources("es") == settings.CIRCLE["CRISIS_RESOURCES_ES"]
    assert crisis_resources("en") == crisis_resources(None) == settings.CIRCLE["CRISIS_RESOURCES"]


# ---------------------------------------------------------------- the prompt library


def test_the_live_spanish_library_is_what_the_migration_seeds():
    prompt_library.validate()  # every prompt has its Spanish, and only they
    assert importlib.import_module(SPANISH_SEED_MIGRATION).SPANISH == prompt_library.SPANISH


@pytest.mark.django_db
def test_every_library_prompt_is_seeded_in_spanish_and_shown_in_the_readers_language():
    from django.utils import translation

    library = Prompt.objects.filter(session__isnull=True)
    assert library.count() == len(prompt_library.PROMPTS)
    for prompt in library:
        assert prompt.translations == {"es": prompt_library.SPANISH[prompt.text]}
        assert prompt.texts == {"en": prompt.text, "es": prompt_library.SPANISH[prompt.text]}
        with translation.override("es"):
            assert prompt.localized_text == prompt_library.SPANISH[prompt.text]
        with translation.override("en"):
            assert prompt.localized_text == prompt.text
    custom = Prompt(category="stress", text="Hoy hablamos de lo que usted quiera.")
    assert custom.texts == {} and custom.localized_text == custom.text  # stays as typed


@pytest.mark.django_db
def test_the_picker_shows_the_facilitators_language(group, dana):
    dana.language = "es"
    dana.save()
    html = signed_in(dana).get(f"/sessions/{group.pk}/").content.decode()
    first_spanish = next(iter(prompt_library.SPANISH.values()))
    assert first_spanish.replace("'", "&#x27;") in html
    assert next(iter(prompt_library.SPANISH)).replace("'", "&#x27;") not in html


# ---------------------------------------------------------------- the socket: errors and prompts


@pytest.mark.django_db(transaction=True)
async def test_error_messages_follow_each_persons_language_and_codes_stay_english(connect, live_group, dana, alex, sam):
    await Member.objects.filter(pk=alex.pk).aupdate(language="es")
    alex_peer, _ = await connect(alex, live_group.pk)
    sam_peer, _ = await connect(sam, live_group.pk)
    spanish = await alex_peer.request("chat.send", text="hola")
    english = await sam_peer.request("chat.send", text="hello")
    assert spanish["type"] == english["type"] == "error"
    assert spanish["code"] == english["code"] == "no_floor"
    assert english["message"] == "Raise your hand and the facilitator will give you the floor."
    assert spanish["message"] == "Levante la mano y el facilitador le dará la palabra."
    refused = await alex_peer.request("session.end")
    assert refused["code"] == "not_allowed" and refused["message"] == "Solo un facilitador puede hacer eso."


@pytest.mark.django_db(transaction=True)
async def test_a_posted_library_prompt_carries_its_text_in_each_language(connect, live_group, dana, alex, sam):
    await Member.objects.filter(pk=alex.pk).aupdate(language="es")
    dana_peer, alex_peer, sam_peer = [
        (await connect(member, live_group.pk))[0] for member in (dana, alex, sam)
    ]
    # (A transactional test's flush empties the seeded library: one library prompt as 0007 seeds it.)
    category, english = prompt_library.PROMPTS[0]
    prompt = await Prompt.objects.acreate(
        category=category, text=english, translations={"es": prompt_library.SPANISH[english]}
    )
    assert (await dana_peer.request("prompt.post", prompt_id=prompt.pk))["type"] == "ack"
    for peer in (alex_peer, sam_peer):
        posted = (await peer.receive_type("prompt.posted"))["prompt"]
        assert posted["text"] == prompt.text  # the protocol's field, as before
        assert posted["texts"] == {"en": prompt.text, "es": prompt_library.SPANISH[prompt.text]}
    await dana_peer.request("prompt.post", category="coping", text="¿Qué le trajo aquí hoy?")
    custom = (await alex_peer.receive_type("prompt.posted"))["prompt"]
    assert custom["text"] == "¿Qué le trajo aquí hoy?" and custom["texts"] == {}
    again, _ = await connect(alex, live_group.pk)
    assert again.state["prompt"]["text"] == "¿Qué le trajo aquí hoy?"


@pytest.mark.django_db(transaction=True)
async def test_a_spanish_facilitator_gets_the_spanish_crisis_resources(connect, live_group, dana, settings):
    await Member.objects.filter(pk=dana.pk).aupdate(language="es")
    peer, _ = await connect(dana, live_group.pk)
    assert peer.state["crisis_resources"] == settings.CIRCLE["CRISIS_RESOURCES_ES"]


# ---------------------------------------------------------------- no English left on a Spanish page


def routed(path: str) -> bool:
    try:
        resolve(path.split("?")[0])
    except Resolver404:
        return False
    return True


@dataclass
class SpanishClinic:
    session_id: int  # live, with a message and an invitation
    series_id: int
    coming_id: int  # the series' first session, not started


@pytest.fixture
def spanish_clinic(dana, alex, sam):
    """Dana (facilitator) and Alex (patient) read Spanish; a session with a message, a prompt and an invitation."""
    Member.objects.filter(pk__in=[dana.pk, alex.pk]).update(language="es")
    session = do_schedule_session(
        title="Grupo del martes", facilitator="dana", patients=["alex", "sam"], starts_at=timezone.now(),
        allow_guests=True,
    )
    GroupSession.objects.filter(pk=session.pk).update(status="live", started_at=timezone.now())
    speaker = Participant.objects.get(session=session, member=alex)
    Message.objects.create(session=session, participant=speaker, seq=1, text="Hoy estoy bien.", sent_at=timezone.now())
    invite(session, alex, "María")
    printed = StringIO()
    call_command("schedule_series", "--title", "Serie de los lunes", "--facilitator", "dana", "--patients",
                 "alex,sam", "--days", "mon", "--time", "18:00", "--weeks", "2", stdout=printed)
    dana.refresh_from_db()
    alex.refresh_from_db()
    lines = printed.getvalue().split()
    return SpanishClinic(session.pk, series_id=int(lines[-1]), coming_id=int(lines[0]))


NAMES = {"Dana", "Alex", "Sam", "María", "Grupo del martes", "Serie de los lunes", "Hoy estoy bien.", "Circle", "dana"}


def test_a_spanish_facilitator_finds_no_english_on_any_page(spanish_clinic, dana, alex):
    session = spanish_clinic.session_id
    today = timezone.localdate().isoformat()
    paths = [
        "/",
        f"/sessions/{session}/",
        f"/sessions/{session}/agenda/",
        f"/sessions/{session}/invites/",
        f"/sessions/{session}/attendance/",
        f"/sessions/{session}/transcript/",
        f"/sessions/{session}/audit/",
        f"/sessions/{session}/notes/",
        f"/patients/{alex.username}/",
        f"/attendance/?from={today}&to={today}",
        "/settings/",
        f"/series/{spanish_clinic.series_id}/",
        f"/sessions/{spanish_clinic.coming_id}/cancel/",
    ]
    client = signed_in(dana)
    walked = 0
    for path in filter(routed, paths):
        page = client.get(path)
        assert page.status_code == 200, (path, page.status_code)
        html = page.content.decode()
        assert '<html lang="es">' in html, path
        assert english_left(html, NAMES) == [], path
        walked += 1
    assert walked == len(paths), "every page is routed"


def test_a_spanish_patient_finds_no_english_on_any_page(spanish_clinic, alex):
    client = signed_in(alex)
    for path in ("/", f"/sessions/{spanish_clinic.session_id}/"):
        html = client.get(path).content.decode()
        assert '<html lang="es">' in html, path
        assert english_left(html, NAMES) == [], path


def test_a_spanish_guest_finds_no_english_on_the_join_pages(spanish_clinic, alex):
    session = GroupSession.objects.get(pk=spanish_clinic.session_id)
    guest_pass, token = invite(session, alex, "Mamá")
    guest = Client(HTTP_ACCEPT_LANGUAGE="es")
    for path in ("/accounts/login/", f"/join/{token}/"):
        html = guest.get(path).content.decode()
        assert '<html lang="es">' in html, path
        assert english_left(html, NAMES | {"Mamá"}) == [], path
    guest_pass.revoked_at = timezone.now()
    guest_pass.save()
    assert english_left(guest.get(f"/join/{token}/").content.decode(), NAMES) == []


def test_the_english_word_detector_catches_english(spanish_clinic):
    assert english_left('<p>Bienvenido</p><button aria-label="Raise your hand">x</button>') == ["Raise your hand"]
    assert english_left('<p lang="en">The notice stays in English.</p><p>Todo bien</p>') == []
    assert english_left("<p>Waiting room</p>") == ["Waiting room"]


def test_a_missing_page_says_so_in_spanish(spanish_clinic, dana):
    missing = signed_in(dana).get("/no-such-page/")
    html = missing.content.decode()
    assert missing.status_code == 404 and '<html lang="es">' in html and "Página no encontrada" in html
    assert english_left(html, NAMES) == []


def test_dates_follow_the_readers_language(alex, dana):
    from datetime import UTC, datetime

    do_schedule_session(
        title="Grupo de enero", facilitator="dana", patients=["alex"],
        starts_at=datetime(2027, 1, 5, 18, 0, tzinfo=UTC),
    )
    alex.language = "es"
    alex.save()
    spanish = signed_in(alex).get("/").content.decode()
    english = signed_in(dana).get("/").content.decode()
    assert "mar 5 Ene, 18:00" in spanish and "Jan" not in spanish  # (the page's script redraws it locally)
    assert "Tue 5 Jan, 18:00" in english


def test_the_calendar_feed_speaks_the_members_language(alex, dana):
    from icalendar import Calendar

    from program.calendar import feed

    do_schedule_session(title="Grupo", facilitator="dana", patients=["alex"], starts_at=timezone.now())
    alex.language = "es"
    alex.save()
    for member, summary in ((alex, "Sesión de Circle"), (dana, "Circle session")):
        events = Calendar.from_ical(feed(member, timezone.now())).walk("VEVENT")
        assert events and {str(event["SUMMARY"]) for event in events} == {summary}


# The contract's forbidden words, and their Spanish: a reminder in Spanish is as discreet as one in English.
INDISCREET = re.compile(
    r"\b(?:recovery|addiction|therapy|treatment|substance|recuperaci[oó]n|adicci[oó]n|terapia|tratamiento|sustancia)",
    re.IGNORECASE,
)


@pytest.mark.parametrize("kind", list(MailKind))
def test_reminders_and_notices_in_spanish_are_spanish_and_discreet(kind):
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from django.utils import translation

    start = datetime(2027, 3, 2, 23, 0, tzinfo=UTC)
    with translation.override("es"):
        mail = compose(kind, start, ZoneInfo("America/New_York"), "/sessions/7/", previous=start)
    assert "sesión" in (mail.subject + mail.body).lower()
    assert "martes 2027-03-02 18:00 (America/New_York)" in mail.body  # the day's name in Spanish too
    for text in (mail.subject, mail.body):
        assert INDISCREET.search(text) is None
        words = re.sub(r"https?://\S+", "", text)  # (a link is an address, not words)
        assert not english_left(f"<p>{words}</p>"), text


def test_a_server_notice_is_worded_for_each_connection():
    import json

    from rooms.faults import LIVE_PAUSED
    from rooms.hub import RoomHub

    class Connection:
        """A connection as the hub sees it (rooms.hub.Receiver)."""

        session_id, connection_id, viewer = 7, "c", None

        def __init__(self, language: str) -> None:
            self.language = language

        async def deliver(self, envelope: Envelope) -> None:
            raise AssertionError("not sent here")

        async def shed(self, code: int) -> None:
            raise AssertionError("not shed here")

    spanish = json.loads(RoomHub._notice(Connection("es"), LIVE_PAUSED)["text"])
    english = json.loads(RoomHub._notice(Connection("en"), LIVE_PAUSED)["text"])
    assert spanish["code"] == english["code"] == "unavailable"
    assert spanish["message"].startswith("Las actualizaciones en vivo están interrumpidas.")
    assert english["message"].startswith("Live updates are interrupted.")


def test_a_language_circle_does_not_speak_stops_start_up():
    ran = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=PROJECT, capture_output=True, text=True, timeout=60,
        env={"DEBUG": "1", "LANGUAGE_CODE": "fr", "PATH": "/usr/bin:/bin"},
    )
    assert ran.returncode != 0 and "LANGUAGE_CODE must be one of en, es, not 'fr'" in ran.stderr
