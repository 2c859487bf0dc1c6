"""docs/protocol.md stays in step with the code (no database).

Every client frame type of the frame table (`rooms.frames.CLIENT_FRAMES`) and
every outbound event model (each `rooms.schemas.Out` subclass whose `type` is a
Literal with a default, `auth.signed_out` included) is in the doc, once in its
table; and every frame type the doc's tables name exists in the code, so a
renamed or dropped frame cannot linger in the doc.
"""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest

from rooms import schemas
from rooms.frames import FRAME_TYPES

DOC = Path(__file__).resolve().parent.parent / "docs" / "protocol.md"
CLIENT_HEADER = ["type", "fields", "who", "ack carries"]
SERVER_HEADER = ["type", "fields", "to whom"]
# A frame type as the doc writes it in backticks: `chat.send`, `participant.joined`.
DOTTED = re.compile(r"[a-z][a-z_]*\.[a-z][a-z_]*")


def subclasses(cls: type[schemas.Out]) -> list[type[schemas.Out]]:
    found: list[type[schemas.Out]] = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(subclasses(sub))
    return found


def outbound_types() -> set[str]:
    types = set()
    for model in subclasses(schemas.Out):
        field = model.model_fields.get("type")
        if field is None or typing.get_origin(field.annotation) is not typing.Literal:
            continue
        if isinstance(field.default, str):
            types.add(field.default)
    return types


CLIENT_TYPES = set(FRAME_TYPES)
SERVER_TYPES = outbound_types()
ALL_TYPES = CLIENT_TYPES | SERVER_TYPES


def cells(line: str) -> list[str]:
    """The cells of one markdown table row (`\\|` inside a cell is not a separator)."""
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip().strip("|"))]


def tables(text: str) -> list[list[list[str]]]:
    """Every markdown table in the doc, as rows of cells, header first, the --- row left out."""
    found: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in [*text.splitlines(), ""]:
        if line.lstrip().startswith("|"):
            row = cells(line)
            if not all(re.fullmatch(r":?-+:?", cell) for cell in row):
                current.append(row)
        elif current:
            found.append(current)
            current = []
    return found


def backticked(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


@pytest.fixture(scope="module")
def doc() -> str:
    return DOC.read_text(encoding="utf-8")


def frame_table(doc: str, header: list[str]) -> list[list[str]]:
    matching = [table for table in tables(doc) if table[0] == header]
    assert len(matching) == 1, f"docs/protocol.md should have exactly one table headed {header}"
    return matching[0][1:]


def first_column_types(rows: list[list[str]]) -> list[str]:
    return [name for row in rows for name in backticked(row[0])]


def test_the_code_knows_its_frame_types():
    assert {"chat.send", "ping", "agenda.next"} <= CLIENT_TYPES
    assert {"session.state", "chat.message", "ack", "error", "auth.signed_out"} <= SERVER_TYPES


@pytest.mark.parametrize("frame_type", sorted(CLIENT_TYPES))
def test_each_client_frame_type_is_in_the_client_table_once(doc, frame_type):
    assert f"`{frame_type}`" in doc
    listed = first_column_types(frame_table(doc, CLIENT_HEADER))
    assert listed.count(frame_type) == 1, f"`{frame_type}` should be listed once in the client-to-server table"


@pytest.mark.parametrize("frame_type", sorted(SERVER_TYPES))
def test_each_outbound_frame_type_is_in_the_server_table_once(doc, frame_type):
    assert f"`{frame_type}`" in doc
    listed = first_column_types(frame_table(doc, SERVER_HEADER))
    assert listed.count(frame_type) == 1, f"`{frame_type}` should be listed once in the server-to-client table"


def test_the_frame_tables_list_only_types_of_their_direction(doc):
    assert set(first_column_types(frame_table(doc, CLIENT_HEADER))) - CLIENT_TYPES == set()
    assert set(first_column_types(frame_table(doc, SERVER_HEADER))) - SERVER_TYPES == set()


def test_no_table_names_a_stale_frame_type(doc):
    stale = {
        name
        for table in tables(doc)
        for row in table
        for cell in row
        for name in backticked(cell)
        if DOTTED.fullmatch(name) and name not in ALL_TYPES
    }
    assert stale == set(), f"docs/protocol.md names frame types the code does not have: {sorted(stale)}"
