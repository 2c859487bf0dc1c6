"""CSV downloads that a spreadsheet opens as data, never as formulas (CSV injection; issue 22).

Every CSV Circle serves is written by `csv_text`: every cell quoted
(csv.QUOTE_ALL) and every text cell passed through `neutralized`.

A spreadsheet runs a cell as a formula when it starts with = + - or @ (some also
after leading white space, a tab or a CR). Quoting alone is not enough: a
spreadsheet set to another separator (`;` in much of Europe, `|`, tab, space)
splits a quoted cell of ours and reads each piece as a cell of its own, and some
importers drop the quotes. So a formula character that could START any such piece
(after a separator, a line break, white space or a quote) gets a `'` in front of
it, the prefix OWASP recommends: spreadsheets show it as text. Numbers are not
strings and are written as they are.

Written here rather than taken from a library: the maintained CSV libraries
(tablib, defusedcsv) neutralize only the cell's first character, which is the
fault this fixes.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable

__all__ = ["csv_text", "neutralized"]

# Characters a spreadsheet may split a cell at (any separator it can be set to and every
# line break), and the quotes it may strip, followed by a formula's first character
# (ASCII and the full-width forms some spreadsheets fold to ASCII). Not after a `'`: that is
# the prefix itself, so the helper is idempotent.
_FORMULA_START_RE = re.compile(r"(^|[\s,;|\"])([=+\-@\uff1d\uff0b\uff0d\uff20])")


def neutralized(cell: object) -> object:
    """The cell, with a `'` before every formula character that could start a cell of its own."""
    if not isinstance(cell, str):
        return cell
    return _FORMULA_START_RE.sub(r"\1'\2", cell)


def csv_text(rows: Iterable[Iterable[object]]) -> str:
    """The rows as CSV text: every cell quoted, every text cell neutralized."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)
    for row in rows:
        writer.writerow([neutralized(cell) for cell in row])
    return out.getvalue()
