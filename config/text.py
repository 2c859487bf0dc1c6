"""Free text on its way in: one normal form for every text a person types (issue 22).

Message text (chat, the private line, lobby notes) and one-line texts (display
names, guest names, reasons, session titles, custom prompts) are normalized
before they are judged or stored:

- CR LF, CR, U+2028 LINE SEPARATOR, U+2029 PARAGRAPH SEPARATOR and U+0085 NEXT
  LINE become LF. Each of them starts a new line in some viewer (a text editor,
  a spreadsheet, a terminal): left as they are, a patient could start a line of
  the downloaded transcript that reads as someone else's.
- Other control characters (general category Cc: C0, DEL, C1) are removed; tab
  is kept in messages. So are lone surrogates (Cs: JSON can carry them, UTF-8
  cannot store them) and the explicit bidirectional formatting characters
  (embeddings, overrides, isolates and their terminator), which reorder what
  follows them on screen and in every export.
- One-line texts hold no line break and no tab at all: each becomes a space, and
  runs of white space become one.

`has_visible_text` tells whether anything would show: a text of white space,
zero-width, format, control or combining characters alone (or of the few letters
that are drawn as nothing) is empty.

Why categories and not a list of characters: Unicode assigns new format and space
characters over time; the general category (Cc, Cf, Cs, Zs, Zl, Zp, M*) and the
bidirectional class (unicodedata) follow each Unicode version Python ships,
where a hand list would silently fall behind. Only a handful of characters are
letters or symbols by category yet drawn blank; Python exposes no
Default_Ignorable_Code_Point property, so those few are named below.

This module sits at the bottom of the layers (beside the settings) because
accounts, the room core and the apps above all take display names or text in.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["clean_line", "clean_text", "has_visible_text"]

# Every sequence that starts a new line somewhere, longest first (CR LF is one break).
_LINE_BREAK_RE = re.compile("\r\n|[\r\u2028\u2029\x85]")

# The bidirectional classes of the explicit formatting characters (Unicode UAX #9):
# embeddings LRE RLE, overrides LRO RLO, their end PDF, isolates LRI RLI FSI and PDI.
# The implicit marks (LRM, RLM, ALM) are kept: they only nudge neutral characters and
# right-to-left writers need them.
_BIDI_EXPLICIT = frozenset({"LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"})


def _removed_characters() -> str:
    """A regex character class of what is removed: Cc (but LF and tab), Cs, explicit bidi formatting.

    Unicode's stability policy fixes the sets of Cc and Cs characters, and every
    explicit bidi formatting character is in the Basic Multilingual Plane, so one
    scan of the BMP at import finds them all.
    """
    removed = [
        chr(code)
        for code in range(0x10000)
        if code not in (0x09, 0x0A)
        and (unicodedata.category(chr(code)) in ("Cc", "Cs") or unicodedata.bidirectional(chr(code)) in _BIDI_EXPLICIT)
    ]
    return "[" + "".join(re.escape(char) for char in removed) + "]"


_REMOVED_RE = re.compile(_removed_characters())
_WHITESPACE_RUN_RE = re.compile(r"\s+")

# Letters and symbols by category that are drawn as nothing: the Hangul fillers
# (U+115F, U+1160, U+3164, U+FFA0, Default_Ignorable in Unicode) and the blank
# Braille pattern U+2800.
_BLANK_GRAPHICS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
# Categories that never show on their own: separators (Zs Zl Zp), controls and
# format characters (Cc Cf Cs), and combining marks (Mn Mc Me), which need a base
# character to sit on (U+034F and the variation selectors are among them).
_INVISIBLE_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Mn", "Mc", "Me"})


def clean_text(text: str) -> str:
    """A message as stored: line breaks as LF, no control or bidi formatting character but tab, trimmed."""
    if not text.isprintable():  # printable: no line break, control or format character to look for
        text = _REMOVED_RE.sub("", _LINE_BREAK_RE.sub("\n", text))
    return text.strip()


def clean_line(text: str) -> str:
    """A one-line text as stored (display names, reasons, titles): as `clean_text`, with every
    line break and tab a space and runs of white space one space."""
    return _WHITESPACE_RUN_RE.sub(" ", clean_text(text)).strip()


def _visible(char: str) -> bool:
    return char not in _BLANK_GRAPHICS and unicodedata.category(char) not in _INVISIBLE_CATEGORIES


def has_visible_text(text: str) -> bool:
    """Would anything show? False for a text of white space, invisible or combining characters alone."""
    return any(_visible(char) for char in text)
