# ruff: noqa: RUF001  (the point of this module: digits that look like ASCII ones)
"""Numbers are ASCII digits only, and a connection that fails as it opens leaves nothing behind
(issue 22, class 1; docs/security.md).

`?since=²` passed `str.isdigit()` and failed in `int()` inside connect(), after the
connection row and the hub attachment were made: a 1011, and a patient who stayed
online with an open attendance span. The same shape answered 500 on the agenda page.
Tried here: the pure parsers (lists and hypothesis), every number field of every
client frame, the forms and the agenda page, a real daphne with every malformed
`since` below, and a failure injected at each step of connect() after its first write.
"""

from __future__ import annotations

import asyncio
import json
import typing
from typing import Any
from urllib.parse import quote

import pytest
from asgiref.sync import sync_to_async
from django.core.exceptions import ValidationError
from django.db import DatabaseError
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from config.numbers import MAX_DIGITS, AsciiIntegerField, ascii_int
from facilitator.models import AgendaItem, Attendance
from rooms import consumers
from rooms.dashboard_views import ScheduleForm
from rooms.errors import ActionError
from rooms.frames import CLIENT_FRAMES, frame_type_of, parse_client_frame
from rooms.hub import RoomHub, get_hub
from rooms.models import Connection, Participant
from rooms.socket_guard import SocketGuard
from rooms.ws_auth import parse_since
from tests import e2e
from tests.conftest import after_the_grace

# Spelled with other scripts' digits, signs, spaces, separators, exponents, or too long for a column.
MALFORMED_NUMBERS = [
    "²", "³", "¹", "٣", "١٢", "۵", "５", "１２", "߁", "१", "১", "๓", "𝟓", "𝟘", "⑤", "Ⅻ", "½", "〇",
    "+5", "-1", " 5", "5 ", "\t5", "5\n", "1_000", "0x10", "0o7", "0b1", "1e3", "5.0", "5,0", ".5",
    "∞", "NaN", "inf", "", " ", "\x00", "5\x00", "5 5", "٥5", "5²", "9" * (MAX_DIGITS + 1), "9" * 5000,
]
WELL_FORMED = [("0", 0), ("5", 5), ("007", 7), ("9" * MAX_DIGITS, int("9" * MAX_DIGITS))]


@pytest.mark.parametrize("text", MALFORMED_NUMBERS)
def test_ascii_int_refuses_anything_but_ascii_digits(text):
    assert ascii_int(text) is None


@pytest.mark.parametrize(("text", "number"), WELL_FORMED)
def test_ascii_int_reads_ascii_digits(text, number):
    assert ascii_int(text) == number


@given(st.text())
def test_ascii_int_never_raises_and_accepts_only_ascii_digits(text):
    number = ascii_int(text)
    if number is None:
        assert not (text.isascii() and text.isdigit() and len(text) <= MAX_DIGITS)
    else:
        assert text.isascii() and text.isdigit() and number == int(text) < 2**63


@pytest.mark.parametrize("text", MALFORMED_NUMBERS)
def test_a_malformed_since_is_ignored_as_if_absent(text):
    query = f"since={quote(text, safe='')}".encode()
    assert parse_since(query) is None
    if text:  # (an empty value is no value: the next one counts)
        assert parse_since(query + b"&since=5") is None  # the first value counts, as before


@given(st.text())
def test_parse_since_never_raises(text):
    since = parse_since(f"since={quote(text, safe='')}".encode())
    assert since is None or (text.isascii() and text.isdigit())


# ---------------------------------------------------------------- frames


def number_fields() -> list[tuple[str, str]]:
    """(frame type, field) for every integer field of every client frame."""
    found = []
    for schema in CLIENT_FRAMES:
        for name, field in schema.model_fields.items():
            annotation = field.annotation
            if annotation is int or int in typing.get_args(annotation):
                found.append((frame_type_of(schema), name))
    return found


# What JSON can say in place of an integer: a bool, a float, a string of digits of any script, a giant.
FRAME_ATTACKS: list[Any] = [True, False, 5.0, 1e3, "5", "５", "²", "٣", [5], {"n": 5}, 2**63, 10**30, -(2**63)]


def test_every_client_frame_has_number_fields_to_try():
    assert len(number_fields()) >= 15


@pytest.mark.parametrize(("frame_type", "field"), number_fields())
@pytest.mark.parametrize("value", FRAME_ATTACKS, ids=repr)
def test_a_frame_number_field_takes_only_a_json_integer_of_a_database_size(frame_type, field, value):
    with pytest.raises(ActionError) as refused:
        parse_client_frame(json.dumps({"type": frame_type, "ref": "r", field: value}))
    assert refused.value.code == "invalid"
    assert refused.value.extra.get("ref") == "r"


# ---------------------------------------------------------------- forms and pages


# A form field trims white space and takes a sign (an offset may be negative), as Django's does.
FORM_MALFORMED = [text for text in MALFORMED_NUMBERS if text.strip() and text not in {"-1", " 5", "5 ", "\t5", "5\n"}]


@pytest.mark.parametrize("text", FORM_MALFORMED)
def test_the_integer_form_field_refuses_other_digits(text):
    with pytest.raises(ValidationError):
        AsciiIntegerField(required=False).clean(text)


@pytest.mark.django_db
@pytest.mark.parametrize("offset", ["٣", "５", "²", "1_0", "+5"])
def test_the_schedule_form_refuses_an_offset_of_other_digits(offset):
    form = ScheduleForm(data={"title": "t", "kind": "group", "starts_at": "2030-01-01T10:00", "duration": "60",
                              "utc_offset": offset})
    assert not form.is_valid()
    assert "utc_offset" in form.errors


@pytest.mark.django_db
@pytest.mark.parametrize("duration", ["６０", "٦٠", "60²", "6_0"])
def test_the_schedule_form_refuses_a_duration_of_other_digits(duration):
    form = ScheduleForm(data={"title": "t", "kind": "group", "starts_at": "2030-01-01T10:00", "duration": duration})
    assert not form.is_valid()
    assert "duration" in form.errors


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["prompt_id", "item"])
@pytest.mark.parametrize("value", ["²", "٣", "５", "9" * 5000, "1_000", "𝟓"])
def test_the_agenda_page_answers_a_malformed_number_without_a_server_error(group, dana, field, value):
    client = Client(raise_request_exception=False)
    client.force_login(dana)
    op = "add" if field == "prompt_id" else "remove"
    response = client.post(f"/sessions/{group.pk}/agenda/", {"op": op, field: value})
    assert response.status_code < 500
    assert not AgendaItem.objects.filter(session=group).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/sessions/{}²/", "/sessions/٣/", "/sessions/５/agenda/", "/sessions/9{}/"])
def test_a_path_of_other_digits_or_giant_numbers_is_a_404(group, dana, path):
    client = Client(raise_request_exception=False)
    client.force_login(dana)
    response = client.get(path.format("9" * 30 if "9{}" in path else group.pk))
    assert response.status_code == 404


# ---------------------------------------------------------------- over a real server

database = e2e.sqlite_db
daphne = e2e.daphne

# Every malformed `since` tried on a real socket, percent-encoded as a browser would send it,
# plus repeated and empty parameters.
MALFORMED_SINCE_QUERIES = [f"since={quote(text, safe='')}" for text in MALFORMED_NUMBERS] + [
    "since=%C2%B2&since=3", "since", "since=", "since=%", "since=%zz", "since=%ff%fe", "since=1;since=%C2%B2",
    "SINCE=%C2%B2", "since=%25C2%25B2", "since=" + "%D9%A3" * 100,
]


def open_spans(env: dict[str, str], session_id: int) -> int:
    result = e2e.manage(
        env, "shell", "-c",
        "from facilitator.models import Attendance;"
        f"print(Attendance.objects.filter(session_id={session_id}, left_at__isnull=True).count())",
    )
    return int(result.stdout.strip().splitlines()[-1])


@pytest.mark.e2e
@pytest.mark.slow
async def test_a_patient_connecting_with_any_malformed_since_leaves_no_ghost(database, daphne):
    env = e2e.server_env(database)
    clinic = e2e.provision(env, facilitator="dana", patients=["alex"], title="Numbers")
    server = daphne(env, name="daphne-numbers")
    cookies = await asyncio.to_thread(e2e.login_all, server.base_url, ["dana", "alex"])
    lead = await e2e.ws_connect(server.base_url, clinic.session_id, cookies["dana"], name="dana")
    assert lead.close_code is None
    for query in MALFORMED_SINCE_QUERIES:
        patient = await e2e.ws_connect(server.base_url, clinic.session_id, cookies["alex"], query=query, name="alex")
        # Ignored as if absent: the patient is let in with a whole session.state, never a 1011.
        assert patient.close_code is None, f"{query}: closed with {patient.close_code}"
        assert patient.state["removed_message_ids"] is None, query
        await patient.close()
    await lead.close()
    fresh = await e2e.ws_connect(server.base_url, clinic.session_id, cookies["dana"], name="dana again")
    alex = next(p for p in fresh.state["participants"] if p["display_name"] == "Alex")
    assert alex["online"] is False
    await fresh.close()
    assert await asyncio.to_thread(open_spans, env, clinic.session_id) == 0
    seen = [frame["type"] for frame in lead.frames if frame["type"].startswith("participant.")]
    assert seen.count("participant.joined") <= seen.count("participant.left")
    e2e.assert_no_traceback(server.log_text())


# ---------------------------------------------------------------- a failure at each step of connect()


async def failing(*args: Any, **kwargs: Any) -> None:
    raise RuntimeError("injected")


def failing_sync(*args: Any, **kwargs: Any) -> None:
    raise RuntimeError("injected")


def failing_load(*args: Any, **kwargs: Any) -> None:
    raise DatabaseError("injected")


async def failing_send(self: Any, text_data: str | None = None, bytes_data: bytes | None = None, close: bool = False):
    raise RuntimeError("injected")


def about(event: dict[str, Any]) -> int | None:
    """Whom a participant.* event is about."""
    return event.get("participant_id", event.get("participant", {}).get("participant_id"))


# Each step of connect() after do_open_connection wrote the connection row.
STEPS = [
    ("the hub attachment", RoomHub, "attach", failing),
    ("the sign-in guard", SocketGuard, "start", failing_sync),
    ("the catch-up read (a crash)", consumers, "load_catchup", failing_sync),
    ("the catch-up read (the database)", consumers, "load_catchup", failing_load),
    ("sending session.state", consumers.RoomConsumer, "send", failing_send),
]


@pytest.mark.parametrize(("step", "owner", "name", "replacement"), STEPS, ids=[s[0] for s in STEPS])
async def test_a_failure_at_any_later_step_of_connect_leaves_nothing_behind(
    connect, live_group, dana, alex, monkeypatch, step, owner, name, replacement
):
    lead, refused = await connect(dana, live_group.pk)
    assert refused is None
    original = getattr(owner, name)
    monkeypatch.setattr(owner, name, replacement)
    try:
        _, closed = await connect(alex, live_group.pk)
    except RuntimeError:  # the consumer crashed: a real server closes with 1011
        closed = 1011
    assert closed is not None, f"{step}: the connection was let in"
    monkeypatch.setattr(owner, name, original)
    alex_id = await sync_to_async(lambda: Participant.objects.get(session=live_group, member=alex).pk)()
    assert not await Connection.objects.filter(participant_id=alex_id).aexists(), step
    assert not await Attendance.objects.filter(participant_id=alex_id, left_at__isnull=True).aexists(), step
    hub = get_hub()
    # Only the facilitator's socket is attached (the failed one would be there with no participant).
    attached = [r.participant_id for r in hub.local_receivers() if isinstance(r, consumers.RoomConsumer)]
    assert attached == [lead.state["me"]["participant_id"]], step
    await after_the_grace()  # presence is debounced: an announced arrival is followed by its departure then
    events = await lead.drain()
    kinds = [e["type"] for e in events if about(e) == alex_id]
    assert kinds.count("participant.joined") <= kinds.count("participant.left"), f"{step}: {kinds}"
    fresh, _ = await connect(dana, live_group.pk)
    assert next(p for p in fresh.state["participants"] if p["participant_id"] == alex_id)["online"] is False
