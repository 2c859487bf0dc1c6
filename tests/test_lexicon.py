"""Table tests for moderation.lexicon (pure Python: no database, no Django)."""

from __future__ import annotations

import dataclasses

import pytest

from moderation.lexicon import EXCERPT_MAX, KINDS, RiskMatch, scan

ELLIPSIS = "…"

# (id, message, expected kind)
MUST_ALERT = [
    # --- suicide ---------------------------------------------------------
    ("want-to-die", "I want to die", "suicide"),
    ("wanna-die", "honestly i wanna die tbh", "suicide"),
    ("kill-myself", "Sometimes I think I should just kill myself.", "suicide"),
    ("kill-myself-caps", "I'M GOING TO KILL MYSELF", "suicide"),
    ("kill-my-self-spaced", "i could kill   my self", "suicide"),
    ("repeated-letters-kill", "I just want to kiiiill myself", "suicide"),
    ("leet-k1ll", "gonna k1ll mys3lf", "suicide"),
    ("fullwidth-nfkc", "\uff2b\uff29\uff2c\uff2c \uff2d\uff39\uff33\uff25\uff2c\uff26", "suicide"),
    ("kms-token", "lol kms", "suicide"),
    ("suicidal", "I'm feeling suicidal again", "suicide"),
    ("misspelled-suicdal", "I feel suicdal", "suicide"),
    ("misspelled-sucide", "been thinking about sucide", "suicide"),
    ("unalive", "I want to unalive myself", "suicide"),
    ("end-my-life", "I'm thinking about ending my life", "suicide"),
    ("end-it-all", "I just want to end it all...", "suicide"),
    ("better-off-dead", "I'd be better off dead", "suicide"),
    ("better-off-without-me", "everyone would be better off without me", "suicide"),
    ("no-reason-to-live", "I have no reason to live anymore", "suicide"),
    ("nothing-to-live-for", "there's nothing left to live for", "suicide"),
    ("dont-want-to-be-here", "I don't want to be here anymore", "suicide"),
    ("curly-apostrophe", "I don\u2019t want to wake up tomorrow", "suicide"),
    ("never-want-to-die-documented", "I never want to die like my dad did", "suicide"),
    ("suicide-note", "I wrote a suicide note last night", "suicide"),
    ("jump-off-bridge", "I keep thinking about jumping off the bridge", "suicide"),
    ("cant-go-on", "I can't go on like this", "suicide"),
    ("tired-of-living", "Sooooo tired of living", "suicide"),
    ("take-my-own-life", "I thought about how to take my own life", "suicide"),
    ("suicide-beats-relapse", "I relapsed and now I want to die", "suicide"),
    # --- self-harm -------------------------------------------------------
    ("cut-myself", "I cut myself last night", "self_harm"),
    ("cutting-again", "I've been cutting again", "self_harm"),
    ("cutting-myself-caps", "CUTTING MYSELF again", "self_harm"),
    ("hurt-myself", "i want to hurt myself", "self_harm"),
    ("burn-myself", "I burned myself on purpose", "self_harm"),
    ("self-harm-hyphen", "self-harm urges are back", "self_harm"),
    ("selfharm-joined", "selfharm is on my mind", "self_harm"),
    ("relapsed-on-self-harm", "I relapsed on self harm", "self_harm"),
    ("urge-to-cut", "had the urge to cut all day", "self_harm"),
    ("until-it-bled", "I scratched my arm until it bled", "self_harm"),
    ("repeated-cuttt", "i cuttt myself again", "self_harm"),
    # --- overdose --------------------------------------------------------
    ("took-too-many", "I took too many", "overdose"),
    ("took-too-many-pills", "i think i took too many pills", "overdose"),
    ("od-apostrophe", "I OD'd last year and it scared me", "overdose"),
    ("od-curly", "my buddy od\u2019d last night", "overdose"),
    ("overdosed", "I overdosed on Saturday", "overdose"),
    ("oded", "almost ODed at the party", "overdose"),
    ("od-standalone", "I'm scared I'll OD", "overdose"),
    ("whole-bottle", "I took the whole bottle", "overdose"),
    ("narcan-me", "they had to narcan me", "overdose"),
    ("mixing-xanax-alcohol", "I've been mixing xanax with alcohol", "overdose"),
    ("handful-of-pills", "took a handful of pills", "overdose"),
    ("leet-overdosed", "0verd0sed again", "overdose"),
    ("died-of-overdose", "my friend died of an overdose", "overdose"),
    # --- relapse ---------------------------------------------------------
    ("using-again", "I'm using again", "relapse"),
    ("using-again-shouted", "USING AGAIN. hate myself", "relapse"),
    ("relapsed", "I relapsed", "relapse"),
    ("relapsed-punctuation", "Relapsed!!!", "relapse"),
    ("misspelled-relasped", "i relasped last weekend", "relapse"),
    ("picked-up-again", "I picked up again", "relapse"),
    ("drank-again", "I drank again this weekend", "relapse"),
    ("went-back-to-using", "I went back to using", "relapse"),
    ("slipped-last-night", "I slipped last night", "relapse"),
    ("bought-some-dope", "I bought some dope", "relapse"),
    ("called-dealer", "Ugh. I called my dealer.", "relapse"),
    ("im-drunk", "im drunk right now lol", "relapse"),
    ("shot-up", "I shot up last night", "relapse"),
    ("off-the-wagon", "fell off the wagon", "relapse"),
    ("back-to-day-one", "back to day one", "relapse"),
    ("few-beers", "I had a few beers after work", "relapse"),
    ("got-high", "I got high yesterday", "relapse"),
    ("scored-heroin", "Scored some heroin", "relapse"),
    ("used-last-night", "I used last night", "relapse"),
    ("going-to-relapse-documented", "I'm afraid I'm going to relapse", "relapse"),
    ("drinking-tonight", "i'm drinking tonight, don't care", "relapse"),
    ("had-a-drink", "I had a drink at the wedding", "relapse"),
    ("hyperbole-documented", "I could kill myself for forgetting my chip", "suicide"),
]

# Ordinary recovery-group talk that must not alert.
MUST_NOT_ALERT = [
    ("dose-changed", "my medication dose changed"),
    ("killed-interview", "I killed it at my job interview"),
    ("traffic-killing-me", "this traffic is killing me"),
    ("clean-90-days", "I've been clean for 90 days"),
    ("used-to-drink", "I used to drink every day"),
    ("sponsor-craving", "my sponsor helped me through a craving"),
    ("afraid-would-relapse", "I was afraid I would relapse but I called my sponsor"),
    ("doctor-dose", "the doctor changed my dose"),
    ("cut-back-coffee", "I cut back on coffee"),
    ("cut-hair", "I cut my hair"),
    ("overdose-prevention", "we talked about overdose prevention and narcan training"),
    ("dying-to-see-kids", "dying to see my kids this weekend"),
    ("dead-tired", "I'm dead tired"),
    ("never-using-again", "I'm never using again"),
    ("havent-relapsed", "I haven't relapsed in two years"),
    ("relapse-prevention", "The meeting was about relapse prevention"),
    ("afraid-of-using-again", "I'm afraid of using again, so I go to meetings"),
    ("picked-up-kids", "I picked up my kids from school"),
    ("slipped-on-ice", "I slipped on the ice yesterday"),
    ("scored-goals", "We scored two goals in the second half"),
    ("prices-shot-up", "Gas prices shot up again"),
    ("drink-of-water", "I had a drink of water after the meeting"),
    ("high-on-life", "I'm high on life today"),
    ("kms-distance", "I drove 20 kms to get to group"),
    ("days-off", "I took too many days off work last month"),
    ("bought-groceries", "I bought some groceries and cooked dinner"),
    ("deleted-dealer", "I deleted my dealer's number"),
    ("odd", "That's odd, my sponsor didn't call back"),
    ("slack", "I'm cutting myself some slack this week"),
    ("take-life-back", "I'm ready to take my life back"),
    ("use-coping-skills", "I'm going to use the coping skills we practiced"),
    ("high-marks", "I got high marks on my exam"),
    ("kill-for-coffee", "I'd kill for a coffee right now"),
    ("went-back-to-school", "I went back to school this fall"),
    ("burnout", "I burned myself out at work"),
    ("grandfather", "My grandfather died last year and I miss him"),
    ("hour-chip", "Today I got my 30 day chip!!!"),
    ("old-habits-narrative", "I used to use every weekend in college"),
    ("water-drinking", "I'm drinking more water these days"),
    ("shoot-foot", "I always shoot myself in the foot at work"),
    ("worried-about-relapsing", "I'm worried about relapsing over the holidays"),
    ("suicide-word-in-other-word", "My new suit is blue and I'm suited for the job"),
]


@pytest.mark.parametrize(
    ("text", "kind"),
    [pytest.param(text, kind, id=case_id) for case_id, text, kind in MUST_ALERT],
)
def test_alerts(text: str, kind: str) -> None:
    match = scan(text)
    assert match is not None, f"no alert for {text!r}"
    assert match.kind == kind


@pytest.mark.parametrize("text", [pytest.param(text, id=case_id) for case_id, text in MUST_NOT_ALERT])
def test_ordinary_talk_does_not_alert(text: str) -> None:
    assert scan(text) is None


def test_table_sizes_and_required_examples() -> None:
    assert len(MUST_ALERT) >= 45
    assert len(MUST_NOT_ALERT) >= 25
    assert {kind for _, _, kind in MUST_ALERT} == set(KINDS)
    texts = {text for _, text, _ in MUST_ALERT} | {text for _, text in MUST_NOT_ALERT}
    assert "my medication dose changed" in texts
    assert "I killed it at my job interview" in texts
    ids = [case_id for case_id, *_ in MUST_ALERT + MUST_NOT_ALERT]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("text", ["", " ", "   \n\t  ", "\u00a0\u2003"])
def test_empty_and_whitespace(text: str) -> None:
    assert scan(text) is None


def _core(excerpt: str) -> str:
    return excerpt.removeprefix(ELLIPSIS).removesuffix(ELLIPSIS)


def _check_excerpt(text: str, match: RiskMatch, trigger: str) -> None:
    assert len(match.excerpt) <= EXCERPT_MAX
    core = _core(match.excerpt)
    assert core, match
    assert core in text  # comes from the ORIGINAL text, not the normalised one
    assert trigger in core
    assert match.excerpt.startswith(ELLIPSIS) == (not text.startswith(core))
    assert match.excerpt.endswith(ELLIPSIS) == (not text.endswith(core))


@pytest.mark.parametrize(("case_id", "text", "kind"), MUST_ALERT, ids=[case_id for case_id, *_ in MUST_ALERT])
def test_short_message_excerpt_is_whole_message(case_id: str, text: str, kind: str) -> None:
    match = scan(text)
    assert match is not None
    assert len(match.excerpt) <= EXCERPT_MAX
    assert match.excerpt == text.strip()


FILLER = (
    "Today in group we talked about how the week went for everybody, and I shared that work "
    "has been stressful and my family is visiting soon. "
)


@pytest.mark.parametrize(
    ("trigger", "kind"),
    [
        ("I relapsed last night", "relapse"),
        ("I want to kiiiill myself", "suicide"),
        ("my friend OD\u2019d on Friday", "overdose"),
        ("I cut myself again", "self_harm"),
    ],
)
def test_excerpt_from_middle_of_long_message(trigger: str, kind: str) -> None:
    text = FILLER * 6 + trigger + ". " + FILLER * 6
    assert len(text) > 1000
    match = scan(text)
    assert match is not None
    assert match.kind == kind
    _check_excerpt(text, match, trigger.split()[-2] if kind == "overdose" else trigger)
    assert match.excerpt.startswith(ELLIPSIS)
    assert match.excerpt.endswith(ELLIPSIS)
    # cut at word boundaries: the words at both ends are whole words of the text
    words = set(text.split())
    core_words = _core(match.excerpt).split()
    assert core_words[0] in words
    assert core_words[-1] in words


def test_excerpt_maps_back_through_normalisation() -> None:
    # Whitespace runs, repeated letters, accents and full-width letters change
    # the length of the normalised text; the excerpt must still be original.
    text = (
        "Caf\u00e9 cr\u00e8me   after group,\n\n  soooo tired.   "
        + FILLER * 3
        + "Honestly   \uff29\uff29  want   to   diiiie   tonight   "
        + FILLER * 3
    )
    match = scan(text)
    assert match is not None
    assert match.kind == "suicide"
    _check_excerpt(text, match, "want   to   diiiie")


def test_excerpt_for_huge_trigger_is_capped() -> None:
    text = "kill" + " " * 300 + "myself and more words after"
    match = scan(text)
    assert match is not None
    assert len(match.excerpt) <= EXCERPT_MAX
    assert _core(match.excerpt) in text
    assert match.excerpt.startswith("kill")


def test_first_match_of_most_severe_kind_wins() -> None:
    text = "I relapsed. Then I took too many. I used last night too."
    match = scan(text)
    assert match is not None
    assert match.kind == "overdose"
    assert "took too many" in match.excerpt


def test_risk_match_is_frozen() -> None:
    match = scan("I relapsed")
    assert match == RiskMatch(kind="relapse", excerpt="I relapsed")
    with pytest.raises(dataclasses.FrozenInstanceError):
        match.kind = "suicide"  # type: ignore[misc]


def test_kinds_order_is_severity() -> None:
    assert KINDS == ("suicide", "self_harm", "overdose", "relapse")
