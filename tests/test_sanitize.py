"""Tests for rooms.sanitize.render_message_html (pure, no database)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rooms.sanitize import render_message_html

REL = "nofollow noopener noreferrer"
ALLOWED_TAGS = {"a", "br"}
ALLOWED_ATTRS = {"a": {"href", "rel", "target"}, "br": set()}

# Exactly the markup render_message_html may emit.
_EMITTED_MARKUP_RE = re.compile(rf'<a href="[^"<>]*" rel="{REL}">|</a>|<br>')


def link(url_html: str) -> str:
    """The exact markup emitted for one link (text == href)."""
    return f'<a href="{url_html}" rel="{REL}">{url_html}</a>'


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.starttags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.endtags: list[str] = []
        self.other: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.starttags.append((tag, attrs))
        if tag == "br":
            self.text.append("\n")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        self.endtags.append(tag)

    def handle_data(self, data):
        self.text.append(data)

    def handle_comment(self, data):
        self.other.append(f"comment:{data}")

    def handle_decl(self, decl):
        self.other.append(f"decl:{decl}")

    def handle_pi(self, data):
        self.other.append(f"pi:{data}")

    def unknown_decl(self, data):
        self.other.append(f"unknown_decl:{data}")


def parse(html: str) -> _Collector:
    parser = _Collector()
    parser.feed(html)
    parser.close()
    return parser


def visible_text(html: str) -> str:
    return "".join(parse(html).text)


def assert_safe(html: str) -> None:
    """Structural safety check of render_message_html output."""
    parsed = parse(html)
    assert parsed.other == [], f"comments/declarations survived: {parsed.other}"
    for tag, attrs in parsed.starttags:
        assert tag in ALLOWED_TAGS, f"disallowed tag <{tag}> in {html!r}"
        names = [name for name, _ in attrs]
        assert len(names) == len(set(names)), f"duplicate attribute in {html!r}"
        for name, value in attrs:
            assert name in ALLOWED_ATTRS[tag], f"disallowed attr {name} on <{tag}>"
            assert value is not None
            assert "javascript:" not in value.lower(), value
            assert "vbscript:" not in value.lower(), value
        if tag == "a":
            attr_map = dict(attrs)
            href = attr_map.get("href")
            assert href is not None, f"<a> without href in {html!r}"
            assert href.startswith(("http://", "https://")) or href.lower().startswith(
                ("http://", "https://")
            ), href
            assert attr_map.get("rel") == REL
    for tag in parsed.endtags:
        assert tag == "a", f"unexpected end tag </{tag}> in {html!r}"
    # Every "<" left must belong to markup we emitted ourselves.
    residue = _EMITTED_MARKUP_RE.sub("", html)
    assert "<" not in residue, f"unescaped '<' survived in {html!r}"
    assert ">" not in residue, f"unescaped '>' survived in {html!r}"


def normalise_input(text: str) -> str:
    """The text a reader should see: line breaks unified, NULs dropped, and
    one leading BOM dropped (the HTML parser in nh3 strips it)."""
    text = text.removeprefix("\ufeff")
    return re.sub(r"\r\n|\r", "\n", text).replace("\x00", "")


# --------------------------------------------------------------------------
# XSS corpus
# --------------------------------------------------------------------------

XSS_PAYLOADS = {
    "script-tag": "<script>alert(1)</script>",
    "script-uppercase": "<SCRIPT SRC=http://x.org/x.js></SCRIPT>",
    "script-split": "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "img-onerror": "<img src=x onerror=alert(1)>",
    "img-onerror-no-space": "<img/src=x/onerror=alert(1)>",
    "attr-breakout-img": '"><img src=x onerror=alert(1)>',
    "attr-breakout-single": "'><svg onload=alert(1)>",
    "url-dq-breakout": 'http://x.org/"onmouseover="alert(1)',
    "url-sq-breakout": "http://x.org/'onmouseover='alert(1)'",
    "url-gt-breakout": "https://x.org/><script>alert(1)</script>",
    "url-lt-breakout": "https://x.org/<img src=x onerror=alert(1)>",
    "url-backtick": "https://x.org/`onmouseover=alert(1)`",
    "url-then-event": 'https://x.org/" onclick="alert(1)" x="',
    "body-onload": "<body onload=alert(1)>",
    "a-javascript": '<a href="javascript:alert(1)">x</a>',
    "a-javascript-mixed-case": '<a href="JaVaScRiPt:alert(1)">x</a>',
    "bare-javascript": "javascript:alert(document.cookie)",
    "bare-javascript-mixed-case": "JaVaScRiPt:alert(1)",
    "javascript-entity-encoded": (
        "&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)"
    ),
    "javascript-hex-entities": '<a href="&#x6A;avascript&#x3A;alert(1)">x</a>',
    "javascript-tab-obfuscated": "java\tscript:alert(1)",
    "javascript-newline-obfuscated": "java\nscript:alert(1)",
    "javascript-leading-space": " \x01javascript:alert(1)",
    "javascript-in-http-query": "http://x.org/?u=javascript:alert(1)",
    "vbscript-in-https-path": "https://x.org/VBScript:msgbox(1)",
    "javascript-after-http": "http://javascript:alert(1)",
    "vbscript": "vbscript:msgbox(1)",
    "data-uri-html": "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "a-data-uri": '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    "svg-onload": "<svg/onload=alert(1)>",
    "svg-script": "<svg><script>alert(1)</script></svg>",
    "svg-animate-href": (
        "<svg><a><animate attributeName=href values=javascript:alert(1) />"
        "<text x=20 y=20>X</text></a></svg>"
    ),
    "math-mtext": "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "iframe-src": '<iframe src="javascript:alert(1)"></iframe>',
    "iframe-srcdoc": '<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;">',
    "object-data": '<object data="javascript:alert(1)">',
    "embed-src": '<embed src="data:image/svg+xml,<svg onload=alert(1)>">',
    "style-tag": "<style>@import 'http://x.org/x.css';</style>",
    "style-attr": '<div style="background:url(javascript:alert(1))">x</div>',
    "meta-refresh": '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "base-href": '<base href="javascript:alert(1)//">',
    "form-action": '<form action="javascript:alert(1)"><button>go</button></form>',
    "button-formaction": '<button formaction="javascript:alert(1)">x</button>',
    "input-autofocus": "<input autofocus onfocus=alert(1)>",
    "details-ontoggle": "<details open ontoggle=alert(1)>",
    "html-comment": "<!-- <script>alert(1)</script> -->",
    "comment-breakout": "<!--><img src=x onerror=alert(1)>-->",
    "conditional-comment": "<!--[if IE]><script>alert(1)</script><![endif]-->",
    "cdata": "<![CDATA[<script>alert(1)</script>]]>",
    "doctype": "<!DOCTYPE html><script>alert(1)</script>",
    "processing-instruction": '<?xml version="1.0"?><x:script>alert(1)</x:script>',
    "nested-malformed": "<<script>script>alert(1)<</script>/script>",
    "unclosed-tag": "<img src=x onerror=alert(1) ",
    "malformed-quotes": '<img """><script>alert(1)</script>">',
    "null-byte-tag": "<scr\x00ipt>alert(1)</scr\x00ipt>",
    "null-byte-in-url": "https://x.org/\x00<script>alert(1)</script>",
    "null-byte-scheme": "java\x00script:alert(1)",
    "fullwidth-brackets": "\uff1cscript\uff1ealert(1)\uff1c/script\uff1e",
    "unicode-escape-lookalike": "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e",
    "zero-width-in-url": "https://x.org/\u200b<script>alert(1)</script>",
    "rtl-override-url": "https://x.org/\u202egnp.exe",
    "bom-before-tag": "\ufeff<script>alert(1)</script>",
    "template-injection": "{{constructor.constructor('alert(1)')()}}",
    "entity-lt": "&lt;script&gt;alert(1)&lt;/script&gt;",
    "amp-entity-in-url": "https://x.org/?a=&quot;&gt;&lt;script&gt;",
    "noscript-mutation": (
        '<noscript><p title="</noscript><img src=x onerror=alert(1)>">'
    ),
    "textarea-mutation": "<textarea></textarea><img src=x onerror=alert(1)>",
    "xmp-tag": "<xmp><img src=x onerror=alert(1)></xmp>",
    "link-stylesheet": '<link rel="stylesheet" href="http://x.org/x.css">',
    "a-with-target-and-event": (
        '<a href="https://x.org" target="_top" onclick="alert(1)">x</a>'
    ),
    "many-links-and-tags": " ".join(
        ["https://x.org/<b>", "<i>", "http://y.org/\"'"] * 50
    ),
    "very-long-url": "https://x.org/" + "a" * 10_000 + '"><script>alert(1)</script>',
    "very-long-parens": "https://x.org/" + ")" * 5_000 + "(" * 5_000,
    "very-long-text": "<script>" * 2_000,
    "crlf-injection": "https://x.org/\r\n<script>alert(1)</script>",
}


def test_corpus_is_large_enough():
    assert len(XSS_PAYLOADS) >= 40


@pytest.mark.parametrize("payload", XSS_PAYLOADS.values(), ids=XSS_PAYLOADS.keys())
def test_xss_payload_is_neutralised(payload):
    html = render_message_html(payload)
    assert_safe(html)
    # What the reader sees is exactly what the patient typed.
    assert visible_text(html) == normalise_input(payload)


# --------------------------------------------------------------------------
# Expected output
# --------------------------------------------------------------------------

EXPECTED = {
    "empty": ("", ""),
    "plain-text": (
        "Hello group, I feel better today",
        "Hello group, I feel better today",
    ),
    # nh3 re-serialises text nodes: " and ' are literal there (safe), & < > escaped.
    "escaping": ("a & b < c > d \" e ' f", "a &amp; b &lt; c &gt; d \" e ' f"),
    "script-literal": (
        "<script>alert(1)</script>",
        "&lt;script&gt;alert(1)&lt;/script&gt;",
    ),
    "existing-entity-not-decoded": ("&amp; &lt;", "&amp;amp; &amp;lt;"),
    "single-link": ("https://x.org/a", link("https://x.org/a")),
    "http-link": ("go to http://x.org now", f"go to {link('http://x.org')} now"),
    "uppercase-scheme": ("HTTPS://X.ORG/", link("HTTPS://X.ORG/")),
    "trailing-period": ("see https://x.org/a.", f"see {link('https://x.org/a')}."),
    "trailing-comma": ("https://x.org/a, then", f"{link('https://x.org/a')}, then"),
    "trailing-paren": ("https://x.org/a)", f"{link('https://x.org/a')})"),
    "trailing-multi-punct": ("https://x.org/a?!.", f"{link('https://x.org/a')}?!."),
    "trailing-quote": ('"https://x.org/a"', f'"{link("https://x.org/a")}"'),
    "trailing-colon-semicolon": (
        "https://x.org/a:; x",
        f"{link('https://x.org/a')}:; x",
    ),
    "inside-parens": ("(see https://x.org/a)", f"(see {link('https://x.org/a')})"),
    "inside-parens-with-period": (
        "(https://x.org/a).",
        f"({link('https://x.org/a')}).",
    ),
    "wikipedia-balanced-parens": (
        "https://en.wikipedia.org/wiki/Anxiety_(disorder)",
        link("https://en.wikipedia.org/wiki/Anxiety_(disorder)"),
    ),
    "wikipedia-in-parens": (
        "(https://en.wikipedia.org/wiki/Anxiety_(disorder))",
        f"({link('https://en.wikipedia.org/wiki/Anxiety_(disorder)')})",
    ),
    "two-links-one-line": (
        "https://a.org and http://b.org/x",
        f"{link('https://a.org')} and {link('http://b.org/x')}",
    ),
    "query-with-ampersand": (
        "https://x.org/?a=1&b=2",
        link("https://x.org/?a=1&amp;b=2"),
    ),
    "url-stops-at-double-quote": (
        'https://x.org/a"b',
        f'{link("https://x.org/a")}"b',
    ),
    "url-stops-at-angle-bracket": (
        "https://x.org/a<b>",
        f"{link('https://x.org/a')}&lt;b&gt;",
    ),
    "newline-lf": ("one\ntwo", "one<br>two"),
    "newline-crlf": ("one\r\ntwo", "one<br>two"),
    "newline-cr": ("one\rtwo", "one<br>two"),
    "blank-lines": ("a\n\n\r\nb\n", "a<br><br><br>b<br>"),
    "link-before-newline": ("https://x.org\nnext", f"{link('https://x.org')}<br>next"),
    "www-without-scheme": ("www.x.org", "www.x.org"),
    "domain-without-scheme": ("visit x.org/help", "visit x.org/help"),
    "javascript-stays-text": ("javascript:alert(1)", "javascript:alert(1)"),
    "ftp-stays-text": ("ftp://x.org/file", "ftp://x.org/file"),
    "scheme-only-stays-text": ("http:// and https://", "http:// and https://"),
    "scheme-then-punct-stays-text": ("https://(", "https://("),
    "scheme-inside-word-stays-text": ("xhttp://x.org", "xhttp://x.org"),
    "unparseable-url-stays-text": ("http://x.org:99999/", "http://x.org:99999/"),
    "javascript-in-query-stays-text": (
        "http://x.org/?next=JavaScript:alert(1)",
        "http://x.org/?next=JavaScript:alert(1)",
    ),
    "ipv6-host": ("http://[::1]:8000/", link("http://[::1]:8000/")),
}


@pytest.mark.parametrize(("text", "expected"), EXPECTED.values(), ids=EXPECTED.keys())
def test_expected_output(text, expected):
    html = render_message_html(text)
    assert html == expected
    assert_safe(html)


def test_href_escaping_in_attribute():
    html = render_message_html("https://x.org/?q=a&r='b'")
    parsed = parse(html)
    assert parsed.starttags == [
        ("a", [("href", "https://x.org/?q=a&r='b"), ("rel", REL)]),
    ]
    assert 'href="https://x.org/?q=a&amp;r=\'b"' in html


def test_returns_str_for_non_ascii():
    html = render_message_html("Grüße 🙂 https://exämple.org/ü")
    assert html == f"Grüße 🙂 {link('https://exämple.org/ü')}"


# --------------------------------------------------------------------------
# Property test
# --------------------------------------------------------------------------

_ALPHABET = st.sampled_from(
    [
        *"<>&\"'`=/:;.,()[]{}!? \t\n\r\x00aAjsx1",
        "http://",
        "https://",
        "javascript:",
        "<script>",
        "<a href=",
        "<!--",
        "-->",
        "&amp;",
        "\u202e",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_ALPHABET, max_size=40).map("".join))
def test_property_any_input_is_safe(text):
    html = render_message_html(text)
    assert_safe(html)
    assert visible_text(html) == normalise_input(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_property_arbitrary_unicode_is_safe(text):
    html = render_message_html(text)
    assert_safe(html)
