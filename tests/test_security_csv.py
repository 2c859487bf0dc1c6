"""CSV downloads: every cell quoted, no formula wherever a separator may split a cell (issue 22, class 11).

`ok;=HYPERLINK(...)` was a formula in a spreadsheet set to `;`: the old check looked at
the first character only. The helper (config/spreadsheet.py) is tried with lists and
hypothesis, the attendance download with each attack as a display name, and the
code base for any CSV written past the helper.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from config.spreadsheet import csv_text, neutralized
from rooms.models import Participant

PROJECT = Path(__file__).resolve().parent.parent
FORMULA_STARTS = "=+-@\uff1d\uff0b\uff0d\uff20"
# What a spreadsheet may split a line at: the separators it can be set to, and line breaks;
# and what it may strip from the start of a piece: white space and quotes.
SEPARATORS = r"[,;|\t \r\n\x0b\x0c\x85\u2028\u2029\u00a0]"
STRIPPED = " \t\"\u00a0\u3000"

ATTACKS = [
    "=1+1", "+1", "-1", "@SUM(A1:A9)", "=HYPERLINK(\"http://evil.example\",\"click\")",
    "\t=1", "\r=1", "\n=1", " =1", "   +1", "\u00a0=1", "\u3000=1", "\"=1\"",
    "ok;=HYPERLINK(\"http://evil.example\")", "ok,=1", "ok|=1", "ok\t=1", "ok =1", "ok\n=1", "ok\r\n@x",
    "ok\r-1", "ok;\"=1\"", "ok; =cmd|' /C calc'!A0", "ok;;=1", "ok,,,+1", "a;b;c;=1", "ok\u2028=1",
    "ok\x0b=1", "ok\x0c=1", "ok\x85=1", "\uff1d1+1", "ok;\uff0b1", "ok|\uff201", "ok,\uff0d1",
    "=-+@", "@@", "--", "x;-", "Dana;=DDE(\"cmd\";\"/C calc\";\"x\")", "=IMPORTXML(A1;\"//a\")",
]


def pieces(line_text: str) -> list[str]:
    """Every cell a spreadsheet could make of this text, whatever separator it is set to."""
    return [piece.lstrip(STRIPPED) for piece in re.split(SEPARATORS, line_text)]


def formula_pieces(text: str) -> list[str]:
    return [piece for piece in pieces(text) if piece[:1] in set(FORMULA_STARTS)]


@pytest.mark.parametrize("attack", ATTACKS)
def test_no_piece_of_a_neutralized_cell_starts_a_formula(attack):
    assert formula_pieces(attack), "the attack is one (the list is meant to hold formulas)"
    cell = neutralized(attack)
    assert isinstance(cell, str)
    assert formula_pieces(cell) == [], cell
    assert formula_pieces(csv_text([[attack, "x"]])) == []


@pytest.mark.parametrize("harmless", ["Dana", "Mary-Jane", "O'Brien", "2026-12-07T10:00:00+00:00", "a=b", "x@y.z", ""])
def test_harmless_text_is_left_alone(harmless):
    assert neutralized(harmless) == harmless


@pytest.mark.parametrize("number", [0, -5, 12.5, -0.25])
def test_numbers_are_written_as_numbers(number):
    assert neutralized(number) == number
    assert csv_text([[number]]) == f'"{number}"\r\n'


alphabet = st.sampled_from([*FORMULA_STARTS, ",", ";", "|", "\t", " ", "\r", "\n", "\"", "'", "a", "1", "(", "\u00a0"])


@settings(max_examples=600, deadline=None)
@given(st.lists(st.lists(alphabet, max_size=12).map("".join), min_size=1, max_size=4))
def test_any_row_is_quoted_and_formula_free_and_reads_back(row):
    text = csv_text([row])
    assert formula_pieces(text) == [], text
    assert next(csv.reader(io.StringIO(text))) == [neutralized(cell) for cell in row]
    # Every cell is quoted: the line starts with a quote and every separator sits between two quotes.
    assert text.startswith('"') and text.endswith('"\r\n')
    assert text.count('","') >= len(row) - 1


def test_every_csv_is_written_by_the_one_helper():
    writers = [
        str(path.relative_to(PROJECT))
        for folder in ("accounts", "config", "rooms", "facilitator", "moderation")
        for path in (PROJECT / folder).rglob("*.py")
        if re.search(r"csv\.(writer|DictWriter)\(", path.read_text())
    ]
    assert writers == ["config/spreadsheet.py"], writers


@pytest.mark.django_db
@pytest.mark.parametrize("attack", ATTACKS)
def test_the_attendance_download_is_quoted_and_formula_free(live_group, dana, alex, sam, attack):
    Participant.objects.filter(session=live_group, member=alex).update(display_name=attack)
    Participant.objects.filter(session=live_group, member=sam).update(display_name=f"Sam;{attack}")
    client = Client()
    client.force_login(dana)
    body = client.get(f"/sessions/{live_group.pk}/attendance/?format=csv").content.decode()
    assert formula_pieces(body) == [], body
    rows = list(csv.reader(io.StringIO(body)))
    assert csv_text(rows) == body, "every cell quoted"
    names = {row[2] for row in rows[1:]}
    assert neutralized(attack) in names and neutralized(f"Sam;{attack}") in names
