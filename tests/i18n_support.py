"""Helpers for the language tests: reading a .po catalogue, and finding English left on a Spanish page.

The .po reader is our own (a dozen lines) rather than a new dependency: the catalogues are
the ones `makemessages` writes, and the tests need only each entry's msgid, msgstr(s) and flags.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
LOCALE = PROJECT / "locale"
DOMAINS = ("django", "djangojs")


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgstrs: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False


KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(".*")$')


def read_po(path: Path) -> list[Entry]:
    """Every entry of a .po file, the header (msgid "") included."""
    entries: list[Entry] = []
    current: Entry | None = None
    key = ""
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if current is not None:
                entries.append(current)
            current, key = None, ""
            continue
        current = current or Entry()
        if line.startswith("#~"):
            current.obsolete = True
        elif line.startswith("#,"):
            current.flags.update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif match := KEYWORD.match(line):
            key, text = match.group(1), ast.literal_eval(match.group(2))
            if key == "msgid":
                current.msgid = text
            elif key == "msgid_plural":
                current.msgid_plural = text
            elif key.startswith("msgstr"):
                current.msgstrs.append(text)
        elif line.startswith('"') and key:
            text = ast.literal_eval(line)
            if key == "msgid":
                current.msgid += text
            elif key == "msgid_plural":
                current.msgid_plural = (current.msgid_plural or "") + text
            elif key.startswith("msgstr"):
                current.msgstrs[-1] += text
    return entries


def messages(path: Path) -> list[Entry]:
    """The catalogue's messages: no header, no obsolete entries."""
    return [entry for entry in read_po(path) if entry.msgid and not entry.obsolete]


def problems(entries: list[Entry]) -> list[str]:
    """Each message without its translation (every plural form), or marked fuzzy."""
    found = []
    for entry in entries:
        if "fuzzy" in entry.flags:
            found.append(f"fuzzy: {entry.msgid!r}")
        elif not entry.msgstrs or not all(text.strip() for text in entry.msgstrs):
            found.append(f"untranslated: {entry.msgid!r}")
    return found


# Words that are English and not Spanish: a text node holding one on a Spanish page is English left over.
ENGLISH_WORDS = frozenset(
    {
        *("the", "your", "you", "and", "with", "this", "that", "is", "are", "of", "for", "here", "what"),
        *("who", "when", "will", "has", "have", "been", "yet", "please", "session", "sessions", "room"),
        *("waiting", "hand", "floor", "message", "messages", "send", "sign", "schedule", "invite"),
        *("invitation", "topic", "prompt", "back", "link", "join", "left", "joined", "attendance"),
        *("transcript", "goal", "goals", "notes", "note", "facilitator", "patient", "guest", "family"),
        *("none", "nothing", "everyone", "someone", "today", "tomorrow", "minutes"),
    }
)
WORD = re.compile(r"[A-Za-zÀ-ÿ']+")
# Attributes a person reads or hears (a screen reader speaks aria-label, title and placeholder).
SPOKEN_ATTRIBUTES = ("aria-label", "title", "placeholder", "alt", "label")


class VisibleText(HTMLParser):
    """The text nodes and spoken attributes of a page, outside <script>, <style>, any element in another
    language (lang="en": text that must stay in English, such as a prescribed legal notice) and any marked
    translate="no" (identifiers and raw records, such as an audit entry's action code and details)."""

    VOID = frozenset(("area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"))

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.stack: list[tuple[str, bool]] = []  # (tag, skipped)

    def skipping(self) -> bool:
        return any(skipped for _tag, skipped in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        skipped = (
            tag in ("script", "style")
            or (tag != "html" and values.get("lang", "es") != "es")
            or values.get("translate") == "no"
        )
        if not (skipped or self.skipping()):
            self.texts.extend(value for name, value in attrs if name in SPOKEN_ATTRIBUTES and value)
        if tag not in self.VOID:
            self.stack.append((tag, skipped))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                return

    def handle_data(self, data: str) -> None:
        if data.strip() and not self.skipping():
            self.texts.append(data.strip())


def english_left(html: str, allowed: frozenset[str] | set[str] = frozenset()) -> list[str]:
    """The visible texts of a Spanish page that read as English (`allowed`: names and titles the test
    itself wrote, which are data, not the page's words)."""
    parser = VisibleText()
    parser.feed(html)
    found = []
    for text in parser.texts:
        if text in allowed:
            continue
        words = {word.lower() for word in WORD.findall(text)}
        if words & ENGLISH_WORDS:
            found.append(text)
    return found
