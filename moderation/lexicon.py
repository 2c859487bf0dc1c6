"""Risk-phrase detection for chat messages (pure functions, no Django).

``scan(text)`` looks for wording that suggests suicide, self-harm, an overdose
or a relapse and returns a :class:`RiskMatch` (kind + excerpt of the original
text) or ``None``. The chat layer delivers every message unchanged; a match only
raises a private alert for the facilitators.

LIMITS -- read before relying on it
-----------------------------------
* English only. Other languages, and most slang or coded language that is not
  listed below, are simply missed.
* It is keyword/phrase matching. It cannot read context, sarcasm, jokes, quoted
  speech, hypotheticals or negation reliably. Negation is handled only lightly
  (see decisions); everything else is up to the reader.
* It WILL miss real risk (false negatives: anything phrased in a way not listed,
  indirect hints, images, long silences) and WILL sometimes alert on harmless
  messages (false positives, e.g. "I burned myself on the stove").
* It is an aid for a trained facilitator, never a replacement for one. It never
  blocks, hides or edits a message, and its output must not be shown to the
  patient who wrote the message.
* Only one match is returned per message: the most severe kind (order of
  ``KINDS``), first occurrence within that kind.

Normalisation
-------------
lowercase; Unicode NFKC (e.g. full-width letters) and removal of accents and
zero-width characters; curly/odd apostrophes to ``'``; leetspeak inside tokens
that mix letters with 0 1 3 4 5 7 @ $ ("k1ll", "0verd0se", "$uicide"), and "!"
or "|" between two letters ("k!ll"); whitespace runs to one space; runs of 3+
identical letters collapsed to 2 ("soooo" -> "soo", "kiiiill" -> "kiill").
Most steps keep the length, so for ordinary ASCII text normalised index ==
original index; otherwise an index map back to the original text is built,
only for messages that actually matched.

Every letter of a listed phrase is compiled as ``x+`` (doubled letters merged),
so a phrase matches both the collapsed form and the fully de-duplicated form
("kiill myself", "kil myself", "to many", "rellapsed") in ONE regex pass. Where
that would be dangerous ("od" vs "odd", "copped" vs "coped", "kms") the pattern
is written strictly. All phrases are compiled once, at import (0.2-0.4 s),
into one regex with one named group per kind, in severity order, dispatched
on the first letter so that a few hundred phrases stay cheap.

Performance (``timeit``, min of 400 x 20 runs, CPython 3.11, dev container
with 2 busy CPUs): a 2,000-character message takes about 0.30 ms to scan
without a trigger, 0.31 ms with a trigger in the middle, 0.40 ms when full of
accents/emoji, 0.36 ms with many whitespace and letter runs. Well under 1 ms.

Decisions (documented, tested in tests/test_lexicon.py)
-------------------------------------------------------
* Recall over precision for suicide and self-harm: any "suicide"/"suicidal"
  (also "suicide prevention"), "self-harm", "kill myself", "want to die" alerts,
  even negated or hyperbolic ("I never want to die", "I could kill myself for
  forgetting") -- a facilitator would rather glance at it.
* "cut/hurt/burn myself" alerts even if accidental ("cut myself shaving");
  "cut my hair", "cut back on coffee", "cutting myself some slack" do not.
* Idioms that do NOT alert: "this traffic is killing me" / "kill me" (too common
  as exasperation; "kill myself" does alert), "I killed it at my interview",
  "dying to see my kids", "dead tired", "take my life back", "I'd kill for a
  coffee".
* Overdose: "overdose", "OD", "od'd", "took too many/much", "took the whole
  bottle", "narcan'd me", mixing pills/benzos with alcohol alert (also about a
  friend: "my buddy OD'd" -- a peer's overdose is a risk event for the group).
  Educational mentions do NOT: "overdose prevention/awareness/training/kit/...",
  "narcan training". "dose" alone never alerts ("my medication dose changed").
  "took too many days off" etc. are excluded.
* Relapse: reported behaviour alerts ("relapsed", "using again", "drank again",
  "picked up again", "went back to using", "slipped last night", "bought some
  dope", "called my dealer", "had a few beers", "I'm drunk", "back to day one")
  and so does a first-person, present intention ("I'm going to relapse / use /
  drink tonight"), even when it is framed as a fear ("I'm afraid I'm going to
  relapse"). The bare word "relapse" does NOT alert: it is everyday recovery
  vocabulary ("relapse prevention", "I was afraid I would relapse but I called
  my sponsor" is a success story). Cravings ("a craving") do not alert.
* Light negation for relapse/overdose only: a fixed list of words right before
  the phrase ("never", "not", "haven't", "don't want to", "of", "about", "used
  to", ...) suppresses it: "I'm never using again", "I haven't relapsed",
  "afraid of using again", "worried about relapsing", "thinking about using
  again" (fears and cravings are the group's daily work, not an alert).
  "I almost relapsed" still alerts (near miss). Suicide/self-harm phrases are
  never suppressed by negation.
* "bought some" alerts only with a substance or a dealer/time cue ("bought some
  dope", "bought some last night"), not "bought some groceries"; "scored" only
  with a substance ("scored two goals" does not); "shot up" only with a
  first-person subject ("gas prices shot up" does not).
* Past narrative is not a relapse: "I used to drink every day" does not alert
  (but "I relapsed in 2015" does; past reports are kept, facilitators dismiss).
* "kms" alerts only as a standalone token not after a number ("20 kms" does not).
* Known, accepted false positives: "suicide prevention walk", "I hurt myself
  at the gym", "I took too many online courses", "I bought some wine for my
  mom". Known misses: anything indirect ("I won't be a problem much longer"),
  sarcasm, other languages, new slang.
* Matches do not overlap: a less severe phrase that starts first can, rarely,
  hide a more severe one that overlaps it.
* The excerpt is an exact substring of the original message (newlines kept),
  at most 120 characters including the "…" added where it was cut.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["KINDS", "RiskMatch", "scan"]

KINDS = ("suicide", "self_harm", "overdose", "relapse")  # order = severity

EXCERPT_MAX = 120
_ELLIPSIS = "…"


@dataclass(frozen=True, slots=True)
class RiskMatch:
    kind: str  # one of KINDS
    excerpt: str  # matched phrase with context, from the ORIGINAL text


# --------------------------------------------------------------------------
# Phrase syntax (compiled by _fuzzy): a regular expression in which
#   * every letter becomes ``x+`` (a run of identical letters in the phrase is
#     merged first: "kill" -> "k+i+l+"), so repeated letters never matter;
#   * a space means "one or more separators" (spaces, punctuation, "_");
#   * "-" means "optional separator" ("self-harm" matches "selfharm" too);
#   * "'" means "optional apostrophe" ("don't" matches "dont");
#   * "(" opens a non-capturing group; character classes, escapes, {m,n} and
#     lookbehinds "(?<!...)" / "(?<=...)" are copied verbatim (strict).
# Word boundaries are added around every phrase automatically.
# --------------------------------------------------------------------------

_MYSELF = "(my ?self|meself)"
_BODY = "(arm|arms|wrist|wrists|leg|legs|thigh|thighs|skin|stomach|hip|hips|body|face)"
_DRUGS = (
    "(heroin|dope|fentanyl|fent|meth|crack|cocaine|molly|mdma|ecstasy|"
    "ketamine|xanax|xans|xannies|benzos|oxy|oxys|oxycodone|oxycontin|percs|"
    "percocet|percocets|opioids|opiates|painkillers|drugs|weed|smack)"
)
_PILLS = (
    "(pills|meds|medication|medications|tablets|xanax|xans|benzos|oxy|oxys|"
    "painkillers|sleeping pills|opioids|methadone|prescription|script)"
)
_ALCOHOL = "(alcohol|booze|liquor|vodka|whiskey|whisky|tequila|rum|gin|beer|beers|wine|a fifth|a six pack|a 6 pack)"
_RECENT = (
    "(last night|yesterday|today|this morning|tonight|this weekend|over the weekend|this week|last weekend|after work)"
)
_SOME = "(some |a |a bag of |a gram of |a bottle of |a point of |a bundle of |more |another )?"

_SUICIDE = [
    f"(kill|killing|killed) {_MYSELF}",
    "(end|ending|ended) my (own )?life",
    "(take|taking|took) my (own )?life(?! (back|away|over|seriously|into|in|apart|for granted|to|by storm))",
    "(end|ending) it all",
    "(want|wanna|ready) (to )?(end it|end things)(?! (with|here|there|for today|now|early))",
    "(i'm going to|i'm gonna|i am going to) end it (tonight|all|soon|today)",
    "(want|wanna|wanted|wanting|ready|deserve|need|wish i could|just want) (to |2 )?die",
    "(feel|feels|feeling) like (dying|dieing|i want to die)",
    "(nobody|no one|noone|no1) (would|will|is going to) (miss|notice|care if) me",
    "(i'm|i am|i feel like) (such |just |nothing but |only )?a burden",
    "(want|wanna|wish i could) (to )?(disappear|vanish) (forever|for good|and never come back)",
    "(done|finished|over) with (life|living|being alive)",
    "(let me|hope i|i should|i should just|i'm going to|i'm gonna) die(?! of (laughter|embarrassment|boredom))",
    "(want|wanna|wanted) (to |2 )?be dead",
    "wish (i|i'd) (was|were|had been|could be) dead",
    "(i'd|i would|id) rather (be dead|die)",
    "better off (dead|without me)",
    "(happier|better) without me",
    "no (reason|point) (to live|in living|living|to go on|in going on|to keep going|in being alive|to be alive)",
    "nothing (left )?to live for",
    "(no|lost the|lost my|losing the|losing my|lose the) will to live",
    "su(i|y)?(c|s)i?d(e|es|al|ally|le|ial)?",
    "(sewer ?slide|self-delete|self-deleting|self-deleted|unalive|unalived|unaliving)",
    "(don't|do not|never|dont) (want|wanna) (to )?be (here|around) (anymore|any more|no more)",
    "(don't|do not|never|dont) (want|wanna) (to )?(be alive|exist|wake up(?! (early|at|before|for|so early)))",
    "(don't|do not|never|dont) (want|wanna) (to )?live(?! (with|in|at|there|here|near|alone|together|on|by))",
    "(hope|hoping) i (don't|never|dont) wake up",
    "sleep (and|forever and) (never|not) wake up",
    "wish i (had )?(never (been born|woke up|existed)|was never born|were never born)",
    "(can't|cannot|cant) (go on|keep going|take it|do this) (anymore|any more)",
    "(can't|cannot|cant) go on (like this|living)",
    "(tired|sick|sick and tired) of (living|being alive)",
    "life (isn't|is not|isnt|ain't|not|is no longer) worth (living|it)",
    "not worth living",
    f"(hang|hanging|hanged|shoot|shooting|drown|drowning|poison|poisoning|gas|gassing) {_MYSELF}(?! in the foot)",
    "(jump|jumping|jumped|throw myself) (off|from|in front of) (a|the|that) "
    "(bridge|roof|building|train|bus|car|cliff|truck|balcony)",
    "(slit|slitting|slash|slashing) my (wrist|wrists|throat)",
    "(writing|wrote|write|written) (a |my )?(goodbye|final) (letter|note|message)",
    "(this is|here's|heres) my (goodbye|last message|final message)",
    "(thinking|thought|think|thoughts) (about|of) (dying|ending it|ending things|not being here)",
    "(plan|plans|planning|planned) (to|on|for) (die|dying|end it|ending it|my death)",
    "(don't|do not|dont) deserve to live",
    "(overdose|overdosed|od|take all my pills|took all my pills|take my pills|took my pills) on purpose",
]
_SUICIDE_RAW = [
    r"(?<!\d )kms",  # "kill myself" -- but not "20 kms"
]

_SELF_HARM = [
    f"(cut|cutting|cuts|slice|slicing|carve|carving|scratch|scratching|scratched|burn|burning|"
    f"burned|burnt|hurt|hurting|harm|harming|harmed|hit|hitting|stab|stabbing|starve|starving|"
    f"bruise|bruising) {_MYSELF}"
    "(?! ((some )?slack|a (break|piece|slice|bit)|off|out|loose|free))",
    f"(cut|cutting|cuts|slice|slicing|carve|carving|burn|burning|burned|burnt|scratch|"
    f"scratching|scratched) (my|into my|up my) {_BODY}",
    "(cutting|i cut|i've cut) again",
    "(urge|urges|itch) to (cut|burn|hurt)(?! (back|down|out|ties|corners|costs))",
    "(want|wanna|need) to cut (again|deep)",
    "(cut|cutting) (deep|deeper)(?! (into|in|cuts|budget|costs))",
    "self-(harm|harming|harmed|injury|injure|injuring|injured|mutilate|mutilation|mutilating)",
    f"(make|made|making) {_MYSELF} (bleed|bled|bleeding)",
    "(until|till|til) (it|i) (bled|bleed|bleeds)",
    "(relapsed|relapse|relapsing) (on|with|into) (cutting|self-harm|sh)",
    f"(blade|blades|razor|razors) (to|on|against|across|into) my {_BODY}",
    "fresh (cuts|scars|burns)",
    "(bang|banging|banged|hit|hitting|punch|punching|punched) my head (against|on|into)",
]

_OVERDOSE = [
    "over-(dose|dosed|doses|dosing)"
    "(?! (prevention|awareness|training|response|reversal|education|kit|kits|day|class|"
    "workshop|course|program|statistics|stats|crisis|epidemic|deaths|rates|data|"
    "hotline|site|sites))",
    "(took|taken|take|taking|swallowed|swallow|popped|pop|popping) (way |far |a lot )?too (many|much)"
    "(?! (days|day|time|breaks|break|hours|minutes|classes|courses|shifts|shift|risks|risk|"
    "chances|calls|photos|pictures|notes|steps|turns|naps|on|off|responsibility|credit|blame|"
    "personally|vacation|leave|sick days|of (my|his|her|their|your|our) time))",
    f"(did|had|used|shot|snorted|smoked) too much {_DRUGS}",
    "(took|taken|take|taking|swallowed|downed|ate|popped) (the|a|an|my|his|her) (whole|entire) "
    "(bottle|pack|packet|box|strip|blister|script|prescription)",
    f"(took|taken|swallowed|downed|popped|ate) (all|the rest) (of )?(my|the|those|these|her|his) {_PILLS}",
    f"(took|taken|swallowed|downed|popped|ate) (a )?(handful|bunch|fistful|whole bunch) of {_PILLS}",
    "swallowed a (bottle|pack|box) of",
    f"mix(ed|ing|es)? (my |the |some )?({_PILLS[1:-1]}|{_DRUGS[1:-1]}) (with|and) {_ALCOHOL}",
    "(narcan|narcaned|narcan'd|naloxone) me",
    "(gave|give|given|giving|used|use|needed|hit) me (with )?(narcan|naloxone)",
    "(used|gave|give|needed|use) (narcan|naloxone) on me",
    "(had|needed) (to )?(be )?(narcaned|narcan'd|narcan'ed)",
    "(got|been|was|were|get|getting) (narcaned|narcan'd|narcan'ed)",
    "(brought|bring) me back with (narcan|naloxone)",
    "stomach pumped",
]
_OVERDOSE_RAW = [
    # "OD", "o.d.", "od'd", "ODed", "OD'ing", "ODs" -- but never "odd".
    r"o\.?d(?:'d|'?ed|'?ing|'?s|\.)?(?! appointment)",
]

_RELAPSE = [
    "rel(apsed|apsing|asped|asping|apsd|aped)",
    "(had|have|having) (a|another|a little|a small|a big|a bad|a) (relapse|slip)",
    "(i'm|i am) in (a )?relapse",
    "(i'm|i am) (going|gonna|about) (to )?(relapse|use|drink|get high|get drunk|pick up|go use)"
    "(?! (water|tea|coffee|juice|soda|the|my|a|an|some|this|that|it|more|less|milk|your|his|her|"
    "their|our|every|all|these|those|what|which|any|less|up|out|with|to|for))",
    "(using|used|drank|drinking|drunk|smoking crack|snorting|snorted|slipped|relapsed|"
    "got high|got drunk|getting high|getting drunk|shooting up) again",
    "(drank|drinking|got high|got drunk|relapsed|slipped|snorted) " + _RECENT,
    "used " + _RECENT + "(?! (to|for|as))",
    "(i|i just|we) picked up (again|last night|yesterday|this weekend|over the weekend)",
    "(i|i just) slipped (up|again)",
    "(i|i've|i have|we|just|i just) (shot|shoot) up(?! (in|out|from|straight|off|and))",
    "(i'm|i am|been|started|i was) shooting up (again|last night|yesterday|today)",
    f"(used|using|shot|smoked|snorted|took|did) {_DRUGS} (again|{_RECENT[1:-1]})",
    "(i|we|i just) (got|get|getting) (wasted|hammered|smashed)",
    "(get|got|getting) (high|drunk|stoned|blackout drunk)"
    "(?! (marks|scores|grades|score|school|ground|hopes|on life|up|blood pressure|praise))",
    "(i'm|i am) ((so|really|pretty|kinda|kind of|a bit|a little|super|very|still|totally) )?"
    "(drunk|high|stoned|hammered|tipsy|smashed)"
    "(?! (risk|school|on life|functioning|alert|maintenance|five|5|hopes|standards|expectations|"
    "up|enough|and dry|in the|above))",
    "(i'm|i am|i've been|i have been|ive been|been) (using|drinking|getting high|getting drunk) "
    "(every day|everyday|daily|every night|all (day|night|week|weekend)|nonstop|non stop|heavily|a lot)"
    "(?! of)",
    "(went|go|going|gone|got|get|getting|slid|slipped|fell) back (to|into|on) (using|drinking|"
    "the bottle|the needle|drugs|dope|heroin|meth|pills|booze|alcohol|my old ways|the pipe)",
    "back on (the )?(bottle|drugs|needle|pills|heroin|meth|dope|sauce|booze)",
    "(fell|fallen|falling|fall) off the wagon",
    "lost my (sobriety|sober date|clean date|clean time|sober time)",
    "(reset|resetting|restart|restarting|restarted) my (sobriety|sober date|clean date|clean time|"
    "sober time|date|count|days)",
    "(back|am back|i'm back) (at|to|on) day (one|1|zero|0)",
    "day (one|1) again",
    f"(bought|buy|buying|picked up|scored|grabbed) {_SOME}{_DRUGS}",
    f"(got|get|getting) (some |a bag of |a gram of |more )?{_DRUGS}",
    f"(bought|buy|buying|picked up|grabbed) {_SOME}{_ALCOHOL}",
    f"co[p][p]ed {_SOME}{_DRUGS}",
    "co[p][p]ed (again|last night|yesterday)",
    "bought some (last night|yesterday|again|from (my|the|a) (dealer|guy|plug|connect))",
    "(called|texted|messaged|hit up|met up with|met|saw|went to|visited|contacted|calling|texting) "
    "my (old )?(dealer|plug|connect)",
    "(scored|co[p][p]ed) (from|off) (my |a |the )?(dealer|plug|guy|connect)",
    "(did|doing|snorted|snorting|railed) (a |some |a few |two |three |more )?"
    "(line|lines|bump|bumps|rail|rails)(?! (of (code|dialogue|poetry|text)|from|for|in))",
    "(took|taking|take|had|did) (a|one|another|a few|some|two|three) (hit|hits|rip|rips|toke|tokes) "
    "(of|off|from) (the|a|my|his|her|their|some)",
    "(had|drank|downed|finished|chugged) (a|one|two|three|a few|some|several|a couple|a couple of|"
    "another|half a|a whole|the whole) (drink|drinks|beer|beers|glass of wine|glasses of wine|"
    "bottle of wine|shot(?! (at|for))|shots|fifth|pint|pints|six pack|can|cans|vodka|whiskey|wine|tequila)"
    "(?! of (water|juice|milk|coffee|tea|soda|pop|lemonade|coke|sprite|kombucha|gatorade|espresso|"
    "pepsi|soup))",
]

# Light negation: phrase suppressed if immediately preceded by one of these.
_NEGATIONS = (
    "never",
    "not",
    "n't",
    "dont",
    "didnt",
    "havent",
    "hasnt",
    "wont",
    "wasnt",
    "isnt",
    "aint",
    "cant",
    "never want to",
    "n't want to",
    "dont want to",
    "not want to",
    "n't wanna",
    "dont wanna",
    "never wanna",
)
_RELAPSE_ONLY_NEGATIONS = ("no", "of", "about", "avoid", "avoided", "avoiding", "used to", "use to")


def _guard(words: tuple[str, ...], first: str) -> str:
    """Negative lookbehinds for a phrase whose first letter was just consumed.

    "never " + first letter, etc.; one lookbehind per length (they must be
    fixed-width). Placed after the first letter so that it only runs when a
    phrase can start here.
    """
    by_len: dict[int, list[str]] = {}
    for w in words:
        by_len.setdefault(len(w) + 2, []).append(re.escape(f"{w} {first}"))
    return "".join(f"(?<!{'|'.join(ws)})" for ws in by_len.values())


def _fuzzy(phrase: str) -> list[str]:
    """Compile the phrase syntax described above into a list of regex pieces.

    A letter piece is "x+"; other simple atoms are separators, "'?", escapes
    and classes; anything else (groups, lookarounds, quantifiers) is copied.
    """
    out: list[str] = []
    groups: list[str] = []  # kinds of the open groups
    i, n = 0, len(phrase)
    while i < n:
        c = phrase[i]
        if c == "(":
            if phrase.startswith(("(?<!", "(?<="), i):  # fixed-width: verbatim
                j = phrase.index(")", i)
                out.append(phrase[i : j + 1])
                i = j + 1
                continue
            opener = phrase[i : i + 3] if phrase.startswith(("(?:", "(?=", "(?!"), i) else "(?:"
            groups.append(opener)
            out.append(opener)
            i += 3 if phrase.startswith("(?", i) else 1
            continue
        if c == ")":
            if groups.pop() in ("(?=", "(?!"):
                out.append("(?![a-z0-9])")  # lookahead words are whole words
            out.append(c)
            i += 1
            continue
        if c in "|?*+.^$":
            out.append(c)
            i += 1
            continue
        if c == "{":
            j = phrase.index("}", i)
            out.append(phrase[i : j + 1])
            i = j + 1
            continue
        if c == "'":
            atom, i = "'?", i + 1
        elif c == "\\":
            atom, i = phrase[i : i + 2], i + 2
        elif c == "[":
            j = phrase.index("]", i + 1)
            atom, i = phrase[i : j + 1], j + 1
        elif "a" <= c <= "z":
            j = i
            while j < n and phrase[j] == c:
                j += 1
            atom, i = c + "+", j
        elif c == " ":
            atom, i = r"[\W_]+", i + 1
        elif c == "-":
            atom, i = r"[\W_]*", i + 1
        else:
            atom, i = re.escape(c), i + 1
        if i < n and phrase[i] in "?*+{":
            atom = f"(?:{atom})"
        out.append(atom)
    return out


def _split_top(s: str) -> list[str]:
    """Split a group body on its top-level "|"."""
    parts, depth, cur = [], 0, []
    for ch in s:
        if ch == "|" and depth == 0:
            parts.append("".join(cur))
            cur = []
            continue
        depth += (ch == "(") - (ch == ")")
        cur.append(ch)
    parts.append("".join(cur))
    return parts


def _leading_alternatives(phrase: str) -> tuple[list[str], str]:
    """Split "(a|b(c|d)) rest" into (["a", "bc", "bd"], " rest")."""
    if not phrase.startswith("(") or phrase.startswith("(?"):
        return [phrase], ""
    depth, j = 0, 0
    for j, ch in enumerate(phrase):  # noqa: B007 -- j is used after the loop
        depth += (ch == "(") - (ch == ")")
        if depth == 0:
            break
    rest = phrase[j + 1 :]
    if rest.startswith(("?", "*", "+", "{")):
        raise ValueError(f"leading group may not be optional: {phrase!r}")
    alts: list[str] = []
    for alt in _split_top(phrase[1:j]):
        lead, tail = _leading_alternatives(alt)
        alts += [a + tail for a in lead]
    return alts, rest


_SIMPLE_PIECE = re.compile(r"[a-z]\+|\[\\W_\][+*]|'\?|\\.|[0-9]")


def _lit(piece: str) -> str:
    """Map "x+" to "xx*": same meaning, but starts with a literal (see _group)."""
    return piece[0] * 2 + "*" if len(piece) == 2 and piece[1] == "+" and piece[0].isalpha() else piece


class _Trie:
    """Merges shared prefixes of the leading alternatives of one phrase."""

    __slots__ = ("children", "tails")

    def __init__(self) -> None:
        self.children: dict[str, _Trie] = {}
        self.tails: list[str] = []

    def add(self, pieces: list[str]) -> None:
        node = self
        for k, piece in enumerate(pieces):
            if not _SIMPLE_PIECE.fullmatch(piece):
                node.tails.append("".join(pieces[k:]))
                return
            node = node.children.setdefault(piece, _Trie())
        node.tails.append("")

    def regex(self) -> str:
        alts = [_lit(p) + child.regex() for p, child in self.children.items()]
        alts += [t for t in self.tails if t]
        if "" in self.tails:
            alts.append("")  # shortest last: prefer the longest alternative
        if len(alts) == 1 and "|" not in alts[0]:
            return alts[0]
        return "(?:" + "|".join(alts) + ")"


def _group(kind: str, phrases: list[str], raw: list[str], negations: tuple[str, ...] = ()) -> str:
    """One named group; its phrases are dispatched on their first letter.

    Every top-level branch starts with a literal letter, so CPython's re
    rejects a non-matching branch with a single comparison; this is what
    keeps a few hundred phrases fast at every word start.
    """
    buckets: dict[str, list[str]] = {}
    for phrase in phrases:
        lead, tail = _leading_alternatives(phrase)
        tail_re = "".join(_fuzzy(tail))
        by_letter: dict[str, _Trie] = {}
        for alt in lead:
            first = alt[0]
            if not "a" <= first <= "z":
                raise ValueError(f"phrase must start with a letter: {phrase!r}")
            by_letter.setdefault(first, _Trie()).add(_fuzzy(alt.lstrip(first)))
        for first, trie in by_letter.items():
            buckets.setdefault(first, []).append(trie.regex() + tail_re)
    alts = [f"{c}{_guard(negations, c) if negations else ''}{c}*(?:{'|'.join(parts)})" for c, parts in buckets.items()]
    for pattern in raw:
        first = pattern[0]
        if negations and "a" <= first <= "z":
            pattern = first + _guard(negations, first) + pattern[1:]
        alts.append(pattern)
    return f"(?P<{kind}>(?:{'|'.join(alts)})(?![a-z0-9]|'[a-z]))"


_GROUPS = {
    "suicide": _group("suicide", _SUICIDE, _SUICIDE_RAW),
    "self_harm": _group("self_harm", _SELF_HARM, []),
    "overdose": _group("overdose", _OVERDOSE, _OVERDOSE_RAW, _NEGATIONS),
    "relapse": _group("relapse", _RELAPSE, [], _NEGATIONS + _RELAPSE_ONLY_NEGATIONS),
}
# One regex, one named group per kind, alternatives in severity order.
_RISK_RE = re.compile(r"(?<![a-z0-9])(?<![a-z]')(?:" + "|".join(_GROUPS[k] for k in KINDS) + ")")
_RANK = {k: r for r, k in enumerate(KINDS)}

# ------------------------------------------------------------- normalisation

_APOSTROPHES = str.maketrans({c: "'" for c in "\u2018\u2019\u201b\u02bc\u02bb\u2032\u00b4\u0060\uff07"})
_LEET = str.maketrans("013457@$", "oieastas")
_LEET_CHAR_RE = re.compile(r"[013457@$]")
_TOKEN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789@$")
_LEET_BANG_RE = re.compile(r"(?<=[a-z])[!|](?=[a-z])")
_SPACES_RE = re.compile(r"\s{2,}|[^\S ]")
_REPEATS_RE = re.compile(r"([^\W\d_])\1{2,}")
_ASCII_REPEATS_RE = re.compile(r"([a-z])\1{2,}")  # same, faster on ASCII


def _fold_char(ch: str) -> str:
    """Normalise one character (may return 0, 1 or more characters)."""
    ch = ch.translate(_APOSTROPHES)
    if ch.isascii():
        return ch.lower()
    if unicodedata.category(ch) == "Cf":  # zero-width joiners, soft hyphen...
        return ""
    folded = unicodedata.normalize("NFKC", ch).lower().translate(_APOSTROPHES)
    decomposed = unicodedata.normalize("NFD", folded)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class _FoldTable(dict):
    """str.translate table computing (and caching) _fold_char on demand."""

    def __missing__(self, code: int) -> str:
        if len(self) > 20_000:  # bound the cache against odd input
            self.clear()
        folded = self[code] = _fold_char(chr(code))
        return folded


_FOLD = _FoldTable()


def _sub_mapped(rx: re.Pattern[str], repl, s: str, idx: list[int]) -> tuple[str, list[int]]:
    """re.sub that also rewrites the normalised->original index map."""
    parts: list[str] = []
    new_idx: list[int] = []
    pos = 0
    for m in rx.finditer(s):
        a, b = m.span()
        r = repl(m)
        parts.append(s[pos:a])
        new_idx.extend(idx[pos:a])
        parts.append(r)
        new_idx.extend(idx[a : a + len(r)])  # replacements never grow
        pos = b
    parts.append(s[pos:])
    new_idx.extend(idx[pos:])
    return "".join(parts), new_idx


def _deleet(s: str) -> str:
    """Translate leet characters inside tokens that also contain a letter."""
    chars: list[str] | None = None
    done = 0
    n = len(s)
    for m in _LEET_CHAR_RE.finditer(s):
        i = m.start()
        if i < done:
            continue
        a = i
        while a > 0 and s[a - 1] in _TOKEN_CHARS:
            a -= 1
        b = i + 1
        while b < n and s[b] in _TOKEN_CHARS:
            b += 1
        done = b
        token = s[a:b]
        if any("a" <= c <= "z" for c in token):
            if chars is None:
                chars = list(s)
            chars[a:b] = token.translate(_LEET)
    return s if chars is None else "".join(chars)


def _normalise(text: str, with_map: bool = False) -> tuple[str, list[int] | None, bool]:
    """Return (normalised text, index map, aligned).

    ``aligned`` is True when normalised index i is original index i (the
    common case: ASCII, single spaces, no long letter runs); the map is then
    None. Otherwise the map (normalised index -> original index) is built
    only if ``with_map``: scan() asks for it again only when it has a match
    to report, so ordinary messages never pay for it.
    """
    idx: list[int] | None = None
    aligned = True
    if text.isascii():
        s = text.lower().replace("`", "'")
    else:
        s = text.translate(_FOLD)
        if len(s) != len(text) or any(len(_FOLD[ord(c)]) != 1 for c in set(text)):
            aligned = False
            if with_map:
                idx = [i for i, c in enumerate(text) for _ in _FOLD[ord(c)]]
    # Leetspeak (length-preserving). Cheap pre-checks skip most regex passes.
    if _LEET_CHAR_RE.search(s):
        s = _deleet(s)
    if "!" in s or "|" in s:
        s = _LEET_BANG_RE.sub("i", s)
    ascii_only = s.isascii()
    steps = []
    if not ascii_only or "  " in s or any(c in s for c in "\t\n\r\f\v"):
        steps.append((_SPACES_RE, " "))
    steps.append((_ASCII_REPEATS_RE if ascii_only else _REPEATS_RE, r"\1\1"))
    for rx, repl in steps:
        if aligned and not with_map:
            new = rx.sub(repl, s)
            aligned = len(new) == len(s)
            s = new
        else:
            if idx is None and with_map:
                idx = list(range(len(s)))
            if with_map:
                s, idx = _sub_mapped(rx, lambda m, r=repl: m.expand(r), s, idx)
            else:
                s = rx.sub(repl, s)
    return s, idx, aligned


# ------------------------------------------------------------------ excerpt


def _excerpt(text: str, start: int, end: int) -> str:
    """Cut text around [start, end) to <= EXCERPT_MAX chars incl. ellipses."""
    n = len(text)
    budget = EXCERPT_MAX - 2 * len(_ELLIPSIS)
    if end - start >= budget:
        s, e = start, start + budget
        cut = text.rfind(" ", start + 1, e + 1)
        if cut > start:
            e = cut
    else:
        room = budget - (end - start)
        left = room // 2
        right = room - left
        s = max(0, start - left)
        e = min(n, end + right)
        spare_left = left - (start - s)
        spare_right = right - (e - end)
        e = min(n, e + spare_left)
        s = max(0, s - spare_right)
        if s > 0 and not text[s - 1].isspace():  # starts mid-word: skip it
            k = s
            while k < start and not text[k].isspace():
                k += 1
            s = k if k < start else start
        if e < n and not text[e].isspace():  # ends mid-word: drop it
            k = e
            while k > end and not text[k - 1].isspace():
                k -= 1
            e = k if k > end else end
    while s < start and text[s].isspace():
        s += 1
    while e > max(end, s) and text[e - 1].isspace():
        e -= 1
    return (_ELLIPSIS if s > 0 else "") + text[s:e] + (_ELLIPSIS if e < n else "")


# --------------------------------------------------------------------- scan


def scan(text: str) -> RiskMatch | None:
    """Return the most severe risk phrase in ``text`` (first one of that kind)."""
    if not text or text.isspace():
        return None
    norm, _, aligned = _normalise(text)
    best: re.Match[str] | None = None
    best_rank = len(KINDS)
    for m in _RISK_RE.finditer(norm):
        rank = _RANK[m.lastgroup]
        if rank < best_rank:
            best, best_rank = m, rank
            if rank == 0:
                break
    if best is None:
        return None
    start, end = best.span()
    if not aligned:
        _, idx, _ = _normalise(text, with_map=True)
        if idx is not None:  # always, with_map=True
            start, end = idx[start], idx[end - 1] + 1
    while end < len(text) and unicodedata.combining(text[end]):
        end += 1
    return RiskMatch(kind=best.lastgroup, excerpt=_excerpt(text, start, end))
