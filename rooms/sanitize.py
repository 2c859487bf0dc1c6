"""Sanitizing of chat messages: plain text in, safe HTML out.

``render_message_html(text)`` is the ONLY place where a patient's message
becomes markup. Its return value is the only message field a browser may
insert as HTML; every other field must be inserted as text.

Output rules
------------
1. The whole input is treated as plain text and HTML-escaped, so
   ``<script>`` is shown literally and never becomes an element.
2. Explicit ``http://`` and ``https://`` URLs (scheme matched
   case-insensitively) become
   ``<a href="URL" rel="nofollow noopener noreferrer">URL</a>``.
   The link text is the escaped URL; inside ``href`` the URL is
   attribute-escaped (``&`` -> ``&amp;``, ``"`` -> ``&quot;``).

   * No other scheme ever becomes a link: ``javascript:``, ``data:``,
     ``vbscript:``, ``ftp:`` ... stay text. Bare hosts such as
     ``www.example.org`` stay text too (no scheme, no link).
   * A URL runs until whitespace, ``<``, ``>``, ``"``, a backtick, a control
     character or an invisible/bidi formatting character. It must have a
     host starting with a letter, digit or ``[`` (IPv6).
   * Trailing ``. , ! ? ; : ' "`` and ``*`` are not part of the link;
     a trailing ``)``, ``]`` or ``}`` is dropped only when it is unbalanced
     within the URL, so ``(see https://x.org/a)`` links ``https://x.org/a``
     while ``https://en.wikipedia.org/wiki/Foo_(bar)`` keeps its parens.
   * A URL is only recognised at a word start (not right after a letter,
     digit, ``_``, ``+``, ``-`` or ``.``), so ``xhttp://...`` is not linked.
   * A URL containing ``javascript:`` or ``vbscript:`` anywhere (any case,
     e.g. ``http://x.org/?next=javascript:...``) stays plain text, so no
     attribute value in the output ever contains those strings.
   * A URL nh3 cannot parse (e.g. port out of range) is left as plain
     text, so every ``<a>`` in the output has an ``href``.
3. Line breaks (``\\r\\n``, ``\\r``, ``\\n``, U+2028, U+2029, U+0085) become ``<br>``.
4. The result then goes through nh3 as defence in depth, allowing only
   ``<a>`` (attribute ``href``, schemes ``http``/``https``, relative URLs
   denied) and ``<br>``; nh3 itself forces
   ``rel="nofollow noopener noreferrer"`` onto every ``<a>``. nh3
   re-serialises the HTML5 fragment, so in text nodes ``"`` and ``'``
   come out literally (safe outside attributes) while ``& < >`` stay
   escaped.

Why nh3 and not bleach
----------------------
bleach's README (version 6.4.0, 2026-06-05) states that bleach is no longer
maintained and there will be no further releases, including for security
issues. nh3 is maintained, is a binding to the Rust Ammonia sanitizer
(html5ever based), and is roughly 20x faster than bleach, which matters
because this runs for every chat message.

Linkifying is done here with a small regex *before* nh3 (nh3 cannot
linkify): we escape the text ourselves, so nh3 only ever sees markup we
emitted. All regexes and the nh3 ``Cleaner`` are built once at import.
"""

from __future__ import annotations

import re
from html import escape

import nh3

__all__ = ["render_message_html"]

LINK_REL = "nofollow noopener noreferrer"

# Characters that end a URL: whitespace, characters that are never legal
# unescaped in a URL and matter for HTML (< > " `), C0/C1 controls, and
# invisible / bidi-formatting characters (spoofing).
_URL_STOP = (
    r"\s<>\"`"
    r"\x00-\x1f\x7f-\x9f"
    r"\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff"
)
_URL_RE = re.compile(
    r"(?<![\w+.\-])"  # not in the middle of a word / another scheme
    r"(?i:https?)://"
    r"(?:[^\W_]|\[)"  # host starts with a letter, digit or IPv6 bracket
    rf"[^{_URL_STOP}]*"
)
# A link whose text contains a script scheme anywhere (even in the query, as
# in an open redirect "http://x.org/?next=javascript:...") is not linked.
_SCRIPT_SCHEME_RE = re.compile(r"(?i)(?:java|vb)script:")
# Stored text has LF only (config.text); the other breaks are for anything stored before that.
_NEWLINE_RE = re.compile("\r\n|[\r\n\u2028\u2029\x85]")
# An <a> whose href nh3 dropped (URL it could not parse, e.g. a port out of
# range): unwrap it so every emitted <a> has an href.
_HREFLESS_A_RE = re.compile(rf'<a rel="{LINK_REL}">([^<]*)</a>')
_HREFLESS_A_MARK = f'<a rel="{LINK_REL}">'

_TRAILING_PUNCT = frozenset(".,!?;:'\"*")
_CLOSERS = {")": "(", "]": "[", "}": "{"}

_CLEANER = nh3.Cleaner(
    tags={"a", "br"},
    clean_content_tags=set(),
    attributes={"a": {"href"}},
    url_schemes={"http", "https"},
    url_relative="deny",
    # nh3 sets (and overwrites) rel on every <a>. It cannot be combined
    # with allowing "rel" in `attributes` (nh3 raises ValueError), and
    # letting nh3 own it is stricter than passing our own rel through.
    link_rel=LINK_REL,
    strip_comments=True,
)


def _trim_url(url: str) -> str:
    """Strip trailing punctuation and unbalanced closing brackets."""
    end = len(url)
    counts: dict[str, int] | None = None
    while end:
        ch = url[end - 1]
        if ch in _TRAILING_PUNCT:
            end -= 1
            continue
        opener = _CLOSERS.get(ch)
        if opener is None:
            break
        if counts is None:
            counts = {c: url.count(c, 0, end) for c in "()[]{}"}
        if counts[ch] > counts[opener]:
            counts[ch] -= 1
            end -= 1
            continue
        break
    return url[:end]


def _text_html(text: str) -> str:
    return _NEWLINE_RE.sub("<br>", escape(text, quote=True))


def _linkify(text: str) -> str:
    parts: list[str] = []
    pos = 0
    for match in _URL_RE.finditer(text):
        start = match.start()
        url = _trim_url(match.group())
        if _URL_RE.fullmatch(url) is None:
            continue  # trimming left no host ("https://(" stays text)
        if _SCRIPT_SCHEME_RE.search(url):
            continue
        parts.append(_text_html(text[pos:start]))
        safe = escape(url, quote=True)
        parts.append(f'<a href="{safe}" rel="{LINK_REL}">{safe}</a>')
        pos = start + len(url)
    parts.append(_text_html(text[pos:]))
    return "".join(parts)


def render_message_html(text: str) -> str:
    """Return safe HTML for a patient's plain-text chat message.

    See the module docstring for the exact rules. The result contains only
    ``<a href="http(s)://..." rel="nofollow noopener noreferrer">`` and
    ``<br>`` elements; everything else is escaped text.
    """
    if not text:
        return ""
    html = _CLEANER.clean(_linkify(text))
    if _HREFLESS_A_MARK in html:
        html = _HREFLESS_A_RE.sub(r"\1", html)
    return html
