"""Risk-phrase detection for chat messages (pure functions, no Django).

``scan(text)`` looks for wording, in English or Spanish, that suggests suicide,
self-harm, an overdose or a relapse and returns a :class:`RiskMatch` (kind + excerpt of the original
text) or ``None``. The chat layer delivers every message unchanged; a match only
raises a private alert for the facilitators.

LIMITS -- read before relying on it
-----------------------------------
* English and Spanish (Mexican, Caribbean and Central American usage) only.
  Both are looked for in every message, whatever the sender's language, since
  people switch languages mid-sentence. Other languages, and most slang or
  coded language that is not listed below, are simply missed.
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
lowercase; Unicode NFKC (e.g. full-width letters) and removal of accents
(NFD, then combining marks dropped: Spanish is typed as often without its
accents as with them, and misplaced ones are common, so every phrase is
listed once, unaccented, and "recaí", "recai" and "recaì" read alike; "ñ"
becomes "n") and of zero-width characters; curly/odd apostrophes to ``'``; leetspeak inside tokens
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
is written strictly. All phrases are compiled once, at import, into one
regex that branches once on the first letter of a word and then tries each
kind's phrases in severity order, one capturing group per kind; phrases of a
letter and kind that follow each other and start alike share that start. The
light negation (below) is checked on a match, not inside the regex. The
compile costs about 0.8 s of CPU at import (0.1 s for English alone): most of
it is ``re`` parsing the pattern, in which a phrase whose first words begin
with several letters ("quiero|voy a|ganas de ... matarme") is written out
once per letter.

Performance (``python -m bench lexicon``: CPU time, median of 9 rounds of 300
scans, CPython 3.11, dev container with 2 busy CPUs): a 2,000-character
message takes about 0.22 ms to scan in English and 0.24 ms in Spanish, with
or without a trigger in the middle; the English-only lexicon before Spanish
took 0.25 ms in English. Well under 1 ms.

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

Spanish decisions (tested in tests/test_lexicon_es.py)
------------------------------------------------------
* The same policy as in English: recall over precision for suicide and
  self-harm, never suppressed by negation ("no me quiero morir pero ya no
  puedo más" alerts); light negation for overdose and relapse ("no", "nunca",
  "nunca más", "jamás", "ni", "no he", "no haber"... right before the phrase:
  "no he vuelto a tomar", "nunca me drogué", "no he recaído" do not alert).
* Suicide: any "suicidio/suicida/suicidarme" and misspellings ("suisidarme"),
  a wish or plan to die or to kill oneself ("me quiero morir", "quiero
  matarme", "ya no quiero vivir", "quitarme la vida", "pegarme un tiro",
  "aventarme del puente", "cortarme las venas"), being a burden, nobody
  missing them, no reason to live, "ya no puedo más". Idioms do NOT alert:
  "me muero de risa / de hambre", "me quería morir de la vergüenza", "estoy
  muerto de cansancio", "mataría por un café", "esa película me mata", "me
  voy a matar estudiando" (a gerund after "matar"), "mi mamá me va a matar",
  "no quiero vivir con mis papás", "ya no puedo más con este tráfico",
  "estoy mejor sin mi ex". "me mato" alone is a known miss ("me mato
  trabajando" is everyday talk).
* Self-harm: "me corté", "me corto", "cortarme" alert, also by accident (as
  "cut myself" does), except with hair, nails, a finger, a cable, a call...
  ("me corto el pelo", "se me cortó la llamada"); burning, hitting, "a
  propósito", "hasta sangrar", "autolesión", Spanglish "cutting otra vez".
* Overdose: "sobredosis" (also "sobre dosis", "sobredocis"), about anyone,
  except teaching ("prevención de sobredosis", "kit contra sobredosis") and
  "una sobredosis de azúcar / de Netflix"; all or too many pills, a whole
  bottle, pills mixed with alcohol, "me pasé de pastillas", naloxone given.
  "me tomé todas mis pastillas de la mañana / como dijo el doctor" is taking
  them as prescribed. "la sobredosis es un tema que vimos" is a known false
  positive, like "suicide prevention walk".
* Relapse: reported use ("recaí", "volví a tomar/usar/consumir", "he vuelto a
  tomar", "me metí coca", "anduve en la coca", "fumé mota", "le di al foco",
  "me eché unas chelas / unos guaros", "le llamé a mi dealer", back to day
  one), being drunk or high now ("estoy bien pedo", "ando bien pasado",
  "estoy jendío", "andaba bolo", "ando crudo") and a first-person intention
  ("voy a recaer", "hoy voy a tomar."), as in English. "tomar" and "usar" are
  everyday verbs: they alert alone, with a time ("tomé anoche") or a drink or
  drug, not with an object ("volví a tomar clases", "tomé mi medicina", "me
  tomé una coca", "un trago de agua", "volví a usar mi bici"). "me metí"
  alerts only with a drug ("me metí a bañar" does not); "coca" only after a
  verb that cannot be about the soda. The noun "recaída" alone does not alert
  ("la recaída de mi teléfono", "hablamos de la recaída"); "tuve una recaída"
  does. Fears and cravings do not ("tengo miedo de recaer", "ganas de tomar").
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
    # "kill myself" -- but not "20 kms", "unos kms" (kilometres)
    r"k(?<!\d k)(?<!unos k)(?<!muchos k)(?<!pocos k)(?<!varios k)(?<!algunos k)(?<!los k)(?<!mas k)ms",
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
# An object pronoun before the verb means it took an object: "lo tomé ayer"
# (the bus, the test), "la usé otra vez" (the bike).
_RELAPSE_ONLY_NEGATIONS_ES = ("lo", "la", "los", "las", "le", "les")

# ------------------------------------------------------------------ Spanish
# Written for Mexican, Caribbean and Central American Spanish as it is typed
# in a chat: with or without accents (the text is folded, so phrases are
# listed unaccented and "ñ" is written "n"), the common misspellings (b/v,
# s/c/z, "k"/"q" for "qu", "e" for "he") and the slang of the region. Every
# group below is scanned in every message, whatever the sender's language:
# people switch languages mid-sentence. The English negations above also
# apply to these phrases and the Spanish ones to the English phrases.

_ES_WANT = "(quiero|kiero|qiero|quero|kero|quisiera|kisiera|queria|keria)"
# Before a reflexive infinitive ("... matarme"); the English words catch a
# sentence that switches language in the middle ("I want to matarme").
_ES_INTENT = (
    f"({_ES_WANT[1:-1]}|voy a|boy a|vo a|ganas de|pienso en|pensando en|pense en|he pensado en|"
    "deberia|intente|trate de|planeo|planeando|planeado para|un plan para|want to|wanna|going to|gonna)"
)
# "me voy a matar estudiando" (I'll work myself to death) is an idiom.
_ES_NOT_GERUND = "(?! [a-z]+(ando|iendo))"
# "me quiero morir de risa / de la vergüenza / de hambre" are idioms. Sadness is not among them.
_ES_NOT_DYING_OF = (
    "(?! de (la )?(risa|hambre|sed|sueno|frio|calor|verguenza|pena|ganas|aburrimiento|envidia|cansancio|"
    "nervios|miedo|susto|emocion|ternura|gusto|antojo|amor|celos|coraje|flojera|asco|cringe|felicidad|alegria))"
)
# "no quiero vivir con mis papás / en esta ciudad / solo" is about where or how.
_ES_NOT_LIVING_SOMEWHERE = "(?! (con|en|aqui|aca|alla|ahi|solo|sola|lejos|cerca|de|junto|juntos|sin|para|por|a|al))"
_ES_NOT_WAKE_AT = "(?! (temprano|tan temprano|a|al|antes|para|el|los|en))"
# "ya no puedo más con este tráfico" is exasperation with something.
_ES_NOT_WITH_THING = (
    "(?! (con|de|del|al|a|en|el|la|los|las|este|esta|estos|estas|esto|eso|esa|ese|mi|mis|tu|tus|su|sus|que|lo))"
)
# "me corté el pelo / las uñas / el dedo", "se me cortó la llamada".
_ES_NOT_CUT_OBJECT = (
    "(?! (((el|la|los|las|mi|mis|tu|tus|su|sus|un|una|unos|con el|con la|con un|con una|con) )?"
    "(pelo|cabello|fleco|flequillo|copete|barba|bigote|patillas|puntas|rizos|grenas|melena|dedo|dedos|mano|manos|"
    "pie|pies|labio|lengua|papel|lata|cebolla|carne|pan|pastel|cable|llamada|senal|linea|luz|agua|internet|wifi|"
    "conexion|comunicacion|leche|mayonesa|digestion|respiracion|inspiracion|rollo|onda)|(las|mis|tus|sus) unas))"
)
_ES_BODY = "(brazo|brazos|muneca|munecas|pierna|piernas|muslo|muslos|piel|panza|estomago|abdomen|cuerpo|cara)"
_ES_PILLS = (
    "(pastillas|pastas|pildoras|tabletas|chochos|medicinas|medicamentos|clonazepam|rivotril|xanax|tafil|alprazolam|"
    "benzos|diazepam|valium|tramadol|oxicodona|morfina|fentanilo|fenta)"
)
# Street drugs, as named after a verb of using or buying. "coca" (also a
# Coca-Cola), "polvo", "piedra", "pastas" (also noodles) only follow verbs
# that cannot be about a soda, dust, a stone or dinner: see _ES_SNORTED.
_ES_DRUGS = (
    "(cocaina|perico|crack|cristal|cristi|meth|metanfetamina|heroina|chiva|mota|marihuana|mariguana|marijuana|"
    "hierba|yerba|weed|porro|porros|tachas|tacha|extasis|molly|mdma|lsd|acido|hongos|ketamina|keta|fentanilo|fenta|"
    "fentanil|droga|drogas|bazuco|basuco|activo|resistol|thinner|tiner|popper|poppers|heroina|oxicodona)"
)
# Bought, never anything else, with no "un"/"una" before it ("un cristal" is a
# window pane): not "hongos"
# (mushrooms), "yerba mate", "ácido muriático", thinner for the paint.
_ES_BOUGHT = (
    "(cocaina|perico|crack|cristal|meth|metanfetamina|heroina|chiva|mota|marihuana|mariguana|marijuana|weed|porro|porros|"
    "tachas|extasis|molly|mdma|lsd|ketamina|keta|fentanilo|fenta|fentanil|droga|drogas|bazuco|basuco|popper|poppers)"
)
_ES_SNORTED = f"(coca|polvo|piedra|pastas|pastillas|chochos|la mona|{_ES_DRUGS[1:-1]})"
# A dose, as counted after a verb of using: "me metí unas rayas", "jalé un pase".
_ES_DOSES = (
    "(pase|pases|pasesito|pasecito|raya|rayas|linea|lineas|toque|toques|jalon|pericazo|pericaso|bump|globo|foco|"
    "churro|gallo|cuadro|cuadros|grapa|pastilla)"
)
_ES_ALCOHOL = (
    "(alcohol|alcol|trago|tragos|chela|chelas|cheve|cheves|cerveza|cervezas|birra|birras|frias|guaro|guaros|"
    "tequila|tequilas|mezcal|mezcales|ron|romo|romos|vodka|whisky|whiskey|wiski|guisqui|aguardiente|"
    "mamajuana|pitorro|chinguere|vino|vinos|cuba|cubas|cubita|cubitas|caguama|caguamas|caguamon|six|pomo|"
    "pulque|charanda|shot|shots|copa|copas|copita|copitas|pachita|octavo|botella|licor)"
    # "un trago de agua", "una copa de helado", "una cerveza sin alcohol"
    "(?! (sin alcohol|sin|0|cero|de (agua|cafe|jugo|refresco|leche|te|coca|helado|nieve|fruta|frutas|yogurt|"
    "espresso|jengibre|limonada|horchata|jamaica|atole|chocolate)))"
)
_ES_FEW = (
    "(un |una |unos |unas |dos |tres |cuatro |cinco |seis |varias |varios |unas cuantas |unos cuantos |"
    "un par de |otra |otro |otras |otros |mas |mi |mis |el |la |los |las |toda la |todo el |harto |harta |"
    "bastante |mucho |mucha |muchas |muchos )?"
)
_ES_AGAIN = (
    "(otra vez|de nuevo|anoche|ayer|hoy|esta manana|este fin de semana|este fin|el fin de semana|el finde|"
    "el sabado|el viernes|en la fiesta|en la boda|toda la noche|todo el dia|todo el fin|despues del trabajo)"
)
# What follows "tomar" / "usar" when it is not a drink or a drug:
# "volví a tomar clases", "tomé anoche mi medicina", "volví a usar la bici".
_ES_NOT_AN_OBJECT = (
    "(?! (el(?! (fin|finde|sabado|viernes|domingo|dia))|la(?! (semana|noche|fiesta|boda))|"
    "los|las|lo|mi|mis|tu|tus|su|sus|un|una|unos|unas|este|esta|ese|esa|agua|cafe|te|leche|jugo|"
    "refresco|coca|clases|clase|nota|notas|fotos|foto|aire|medicina|medicinas|medicamento|medicamentos|pastillas|"
    "vitaminas|decisiones|cursos|curso|terapia|lentes|ropa|app|aplicacion|computadora|bici|carro|internet|lugar|"
    "asiento|control|fuerza|fuerzas|valor|turno|camion|metro|bus|taxi|uber|en cuenta|conciencia|tiempo|"
    "aliento|vacaciones|datos|tecnicas|herramientas))"
)
_ES_TALKED_END = r"(?=\s?[^\w\s]|$)"  # only followed by punctuation, an emoji or the end of the message
_ES_WHEN = (
    "(hoy|esta noche|ahorita|ahora|otra vez|de nuevo|este fin de semana|este fin|el fin de semana|el finde|"
    "en la fiesta|en la boda|y)"
)
_ES_VOLVI = "(volvi|bolvi|volbi|bolbi|ya volvi|he vuelto|e vuelto|ya he vuelto|ya e vuelto|estoy volviendo|volvimos)"

_SUICIDE_ES = [
    # suicidio, suicida, suicidarme, me suicido, suisidarme, suizidio...
    "su(i|y)?(c|s|z)i?d(io|ios|a|as|ar|arme|arse|arte|are|aria|ado|ada|o|an|amos|ando|andome|aron)",
    f"{_ES_INTENT} (matarme{_ES_NOT_GERUND}|matarme ya|morirme{_ES_NOT_DYING_OF}|morir{_ES_NOT_DYING_OF}|"
    "quitarme la vida|ahorcarme|colgarme(?! (el|la|los|las|mi|mis|un|una|del|de tu))|envenenarme|"
    "acabar con mi vida|terminar con mi vida|dejar de vivir|dejar de existir|desaparecer para siempre|"
    "no despertar|no despertarme|pegarme un tiro|darme un tiro|volarme la cabeza|"
    "(acabar|terminar) con todo(?! (el|la|los|las|lo|esto|eso|mi|mis|tu|tus|su|sus)))",
    f"me ({_ES_WANT[1:-1]}|voy a|boy a|vo a|dan ganas de|gustaria) "
    f"(matar{_ES_NOT_GERUND}|morir{_ES_NOT_DYING_OF}|quitar la vida|ahorcar|envenenar|ir de este mundo|"
    "colgar(?! (el|la|los|las|mi|mis|un|una|del|de tu))|pegar un tiro|dar un tiro|volar la cabeza)",
    f"me matare{_ES_NOT_GERUND}",
    f"mejor me muero{_ES_NOT_DYING_OF}",
    "(quitarme|quitarse|me quite|se quito|me quito) la vida",
    "(acabar|terminar|acabe|termine) con mi (propia )?vida",
    f"ojala (me muera{_ES_NOT_DYING_OF}|me muriera{_ES_NOT_DYING_OF}|estuviera muerto|estuviera muerta|"
    "no despierte|no despertara|no despertar|no hubiera nacido|nunca hubiera nacido|me atropelle|me atropellen|"
    "me maten)",
    "(quiero|kiero|quisiera|prefiero|preferiria|deberia) estar (muerto|muerta|bajo tierra)",
    "(estaria|estarias|estaria yo) mejor (muerto|muerta)",
    # "estarían mejor sin mí" -- but not "estoy mejor sin mi ex": a word right after it is "mi" + a noun
    r"(estaria|estarian|estarias|estaran|estan|vivirian|viviria|seria|serian|seran|son|es) mejor sin mi(?!\ [a-z]+)",
    "(ya no|no) (quiero|kiero|qiero|quero|kero) (vivir en este mundo|seguir en este mundo|estar en este mundo|"
    f"vivir{_ES_NOT_LIVING_SOMEWHERE}|seguir viviendo|seguir vivo|seguir viva|estar vivo|estar viva|existir|"
    f"despertar{_ES_NOT_WAKE_AT}|despertarme{_ES_NOT_WAKE_AT})",
    "ya no (quiero|kiero) estar aqui",
    "(ya no|no) (tengo|hay) (nada|ninguna razon|ningun motivo|razon|razones|motivo|motivos|ganas|ningunas ganas) "
    "(de|para|por que|porque|por la que|por el que) "
    f"(vivir{_ES_NOT_LIVING_SOMEWHERE}|seguir viviendo|seguir vivo|seguir viva|estar vivo|estar viva)",
    "(ya no|no) (tengo|hay) (por que|porque|para que|pa que) vivir(?! (asi|con|en|de))",
    "(ya no|no) vale la pena (vivir|seguir viviendo|seguir vivo|seguir viva|estar vivo|estar viva)",
    "(la|mi) vida (ya )?no (vale la pena|vale nada|tiene sentido|tiene caso)",
    "no le (veo|encuentro) (sentido|caso) a (la|mi) vida",
    "ya nada tiene sentido",
    "(estoy|ando|me siento) (cansado|cansada|harto|harta|agotado|agotada) de "
    "(vivir|la vida|estar vivo|estar viva|existir)",
    f"ya no (puedo|aguanto|soporto) mas{_ES_NOT_WITH_THING}",
    "no (puedo|aguanto) seguir (asi|viviendo)",
    "no aguanto (vivir|la vida|seguir viviendo|estar vivo|estar viva)",
    "nadie me (extranaria|extranara|va a extranar|echaria de menos|va a echar de menos|notaria|va a notar)",
    "a nadie le (importaria|importa|va a importar) si me (muero|muriera|mato|matara|voy|fuera)",
    "soy (una|un) (carga|estorbo)",
    "(escribi|escribo|escribiendo|dejar|deje|dejo|voy a dejar|voy a escribir|ya tengo|tengo lista) (una|mi) "
    "(carta|nota) de despedida",
    "(este|esta|esto) es mi (despedida|ultimo mensaje|adios)",
    "(dormir|dormirme|acostarme) y (ya )?no (volver a )?(despertar|despertarme)",
    "(pienso|pensando|pense|he pensado) (mucho )?en la muerte(?! de)",
    "(quisiera|deseo) no (volver a )?(despertar|despertarme|haber nacido)",
    "(no|nunca) (debi|debi de) (haber )?(nacer|nacido)",
    "(aventarme|tirarme|lanzarme|arrojarme|me voy a aventar|me voy a tirar|me voy a lanzar|me quiero aventar|"
    "me quiero tirar|me quiero lanzar|me aviento|me tiro|me avente) (de|del|desde|al|a|frente a|enfrente de) "
    "(la |el |un |una |los |las |ese |esa |este |esta )?(puente|edificio|techo|azotea|metro|tren|camion|carro|"
    "coche|balcon|barranco|precipicio|ventana|vias)",
    "(pegarme|darme|meterme|me voy a pegar|me voy a dar|me voy a meter|me quiero pegar|me quiero dar|me pego|me doy) "
    "un (tiro|balazo|plomazo|pistolazo|escopetazo)",
    "(cortarme|me corte|me corto|me voy a cortar|me quiero cortar|me kiero cortar|abrirme|me voy a abrir) las venas",
    "(tomarme|me voy a tomar|me quiero tomar|quiero tomarme|voy a tomarme) (todas|todo) (las |mis |el |la )?"
    "(pastillas|pastas|pildoras|medicinas|medicamentos|frasco|bote|caja)",
    # rural Central America: pesticide, and the phosphine tablets for stored beans ("pastillas de curar frijol")
    "(tomarme|me voy a tomar|me tome|tome|trague|me trague|tomar) (el |un |una |la |las |unas )?(veneno|raticida|"
    "matarratas|gramoxone|herbicida|insecticida|pesticida|pastilla de curar|pastillas de curar)",
]

_SELF_HARM_ES = [
    # the lookbehind: "se me cortó" is a dropped call or a power cut
    # the lookbehinds: "mi novio va a cortarme" is a break-up, "se me cortó" a dropped call
    "(c(?<!va a c)(?<!van a c)(?<!iba a c)(?<!quiere c)ortarme|cortandome|m(?<!se m)e (corte|he cortado|e cortado|"
    "estoy cortando|estaba cortando|volvi a cortar|vuelvo a cortar|voy a cortar|quiero cortar|kiero cortar)|"
    f"volvi a cortarme){_ES_NOT_CUT_OBJECT}",
    # "me corto" also reads "me cortó" once accents are gone ("mi novia me cortó": she left me)
    f"m(?<!se m)e corto (los |las |mis )?({_ES_BODY[1:-1]}|brazos|otra vez|de nuevo|cuando|para|con (una |la )?"
    "(navaja|cuchilla|gillette|rastrillo|vidrio))",
    "cortes (nuevos|frescos|recientes)",
    f"({_ES_WANT[1:-1]}|ganas de|necesito|voy a) (lastimarme|quemarme|golpearme|rasgunarme|aranarme|hacerme dano)",
    "(lastimarme|hacerme dano|me hago dano|me hice dano|me he hecho dano|me e hecho dano|me quiero hacer dano|"
    "me voy a hacer dano|me quiero lastimar|me voy a lastimar|me estoy lastimando|me estoy haciendo dano)"
    # "me hice daño en la rodilla jugando futbol"
    "(?! ((en|con) )?(la|el|mi|los|las|un|una) (rodilla|rodillas|espalda|tobillo|pie|pies|mano|manos|hombro|cuello|"
    "dedo|dedos|cadera|pierna|brazo|gym|gimnasio|partido|trabajo))",
    "(me|te) (lastimo|lastime|quemo|queme|corto|corte|golpeo|golpee|rasguno|rasgune|rasco|rasque) a proposito",
    "(quemarme|me queme|me quemo|me estoy quemando) (con|los|el|mi|mis) (un |el |los |mi )?"
    "(cigarro|cigarros|cigarrillo|encendedor|cerillo|cerillos|brazo|brazos|piel|muneca|munecas)",
    "auto-lesi(on|ones|onarme|ono|onaba|onando|onandome|onado|onada|onarse)",
    "(volvi al|vuelvo al|hago|hacia|hacer) cutting",
    "cutting (otra vez|de nuevo)",
    "(golpearme|me golpeo|me golpee|me pego|me pegue|me doy|me di|darme|pegarme) "
    "(la cabeza|de topes|de cabezazos|cabezazos|topes) (contra|en) (la|el) (pared|muro|piso|suelo)",
    "hasta (sangrar|que (me )?(sangre|sangro|sangraron|sangrara|saliera sangre|salio sangre))",
    "(navaja|navajas|cuchilla|cuchillas|gillette|gilette|rastrillo|hoja de afeitar|cutter) (en|por|sobre|contra) "
    f"(el|la|los|las|mi|mis) {_ES_BODY}",
    "(recai|volvi|he vuelto|e vuelto) (en|a|al) (cortarme|los cortes|la autolesion|las autolesiones|lastimarme|"
    "hacerme dano)",
]

# "prevención de sobredosis", "kit contra sobredosis", "muertes por sobredosis":
# talk about overdoses, not one.
_OVERDOSE_TEACHING_ES = (
    "prevencion de",
    "prevencion de la",
    "prevencion de las",
    "prevenir",
    "prevenir la",
    "prevenir una",
    "prevenir las",
    "evitar",
    "evitar una",
    "evitar la",
    "revertir",
    "revertir una",
    "revertir la",
    "revierte la",
    "revierte una",
    "kit de",
    "kit para",
    "kit contra",
    "kits de",
    "contra",
    "contra la",
    "muertes por",
    "casos de",
    "signos de",
    "senales de",
    "sintomas de",
    "riesgo de",
    "taller de",
    "taller sobre",
    "curso de",
    "curso sobre",
    "capacitacion de",
    "capacitacion sobre",
    "crisis de",
    "epidemia de",
    "tasa de",
    "tasas de",
    "en caso de",
)
_OVERDOSE_ES = [
    # sobredosis, sobre dosis, sobredocis, sovredosis -- not "una sobredosis de azúcar"
    "so(b|v)re" + "".join(f"(?<!{words} sobre)" for words in _OVERDOSE_TEACHING_ES) + "-do(s|c|z)i(s|z)?"
    "(?! (de|por) (azucar|chocolate|cafeina|cafe|dulce|dulces|netflix|series|amor|informacion|trabajo|tele|"
    "television|memes|redes|felicidad|ternura|carbohidratos|pizza|tacos|comida|sol|estres|noticias|tiktok|futbol|"
    "musica|drama|cumbia|reggaeton|tarea|tareas|juntas|emociones|carino|belleza|flow))",
    f"(me|se|te) (pase|paso) (de|con) (la |las |el |los |mis |sus )?(dosis|{_ES_PILLS[1:-1]}|{_ES_SNORTED[1:-1]})",
    f"se me (paso|fue) la mano con (la |las |el |los |mis )?({_ES_PILLS[1:-1]}|{_ES_SNORTED[1:-1]})",
    "(me tome|tome|me trague|trague|me meti|me empine) (todas|toditas|todo|toda) (las |mis |el |la |los |sus )?"
    f"({_ES_PILLS[1:-1]}|frasco|bote|caja|blister|tira)"
    # "me tomé todas mis pastillas de la mañana, como dijo el doctor"
    "(?! (del dia|de hoy|de la manana|de la tarde|de la noche|de la semana|a tiempo|a sus horas|a su hora|como|"
    "que me (receto|recetaron|indico|indicaron|toca|tocan|tocaban)|hoy|en la manana|en la noche|en ayunas|"
    "con (la )?comida|de (agua|leche|jugo|refresco|helado|cafe|te|yogurt|cereal|galletas|chocolate|coca)))",
    "(me tome|tome|me trague|trague|me empine) (un|el|una|la) (frasco|bote|caja|blister|tira|paquete) "
    f"(entero|entera|completo|completa|de {_ES_PILLS[1:-1]})",
    "(me tome|tome|me trague|trague|me meti) (demasiadas|un punado de|un monton de|un chingo de|"
    f"bastantes|un buen de|una bola de|un puno de|varias cajas de) {_ES_PILLS}",
    # "tomé muchas medicinas cuando estuve enfermo" is not one
    "(me tome|me trague|trague|me meti) muchas (pastillas|pastas|pildoras|tabletas|chochos|clonazepam|rivotril|"
    "xanax|tafil|benzos)",
    f"(me tome|tome|me trague|trague|me meti) {_ES_PILLS} de mas",
    f"(me tome|tome|me meti|me inyecte|me pique|jale|fume) (demasiado|demasiada|de mas) {_ES_SNORTED}",
    "(mezcle|mezclo|mezclando|estoy mezclando|he mezclado|e mezclado) (las |mis |unas |el |la |los )?"
    f"({_ES_PILLS[1:-1]}|{_ES_SNORTED[1:-1]}) (con|y) {_ES_FEW}{_ES_ALCOHOL}",
    "me (dieron|pusieron|tuvieron que dar|tuvieron que poner|aplicaron|inyectaron|salvaron con|revivieron con|"
    "reanimaron con) (el |la |un |una )?(narcan|naloxona|naloxone)",
    "(el narcan|la naloxona|narcan|naloxona) me (salvo|revivio|regreso)",
    "me tuvieron que (revivir|resucitar|reanimar)",
    f"me intoxique (con|de) (las |el |la |unas |unos )?({_ES_PILLS[1:-1]}|{_ES_SNORTED[1:-1]}|alcohol)",
]

_RELAPSE_ES = [
    # recaí, recaído, recayó, recaímos -- not the noun "recaída" ("la recaída de mi teléfono")
    "reca(i|y)(do|mos|ste|o)?",
    "(estoy|ando|sigo) recayendo",
    "(tuve|he tenido|e tenido|tengo|estoy teniendo) (una|otra|una pequena|una fuerte|una gran|mi primera) recaida",
    "(estoy|ando|sigo) en (una )?recaida",
    "tuve un desliz",
    f"{_ES_VOLVI} a (consumir|drogarme|drogar|meterme|inyectarme|picarme|emborracharme|empedarme|ponerme pedo|"
    "ponerme bien pedo|pistear|chupar|recaer)",
    f"{_ES_VOLVI} a (tomar|beber|usar|consumir){_ES_NOT_AN_OBJECT}",
    f"{_ES_VOLVI} a (tomar|beber|comprar) {_ES_FEW}{_ES_ALCOHOL}",
    f"{_ES_VOLVI} a (usar|consumir|fumar|meterme|jalar|inhalar) {_ES_FEW}{_ES_SNORTED}",
    f"{_ES_VOLVI} a comprar {_ES_BOUGHT}",
    f"{_ES_VOLVI} a caer"
    "(?! (de|del|desde|al|en la|en el|en cuenta|por|enfermo|enferma|dormido|dormida|en cama|bien|mal))",
    "(volvi|bolvi|regrese|he vuelto|e vuelto|he regresado|cai|cai otra vez|cai de nuevo|recai) "
    "(en|a|al|a la|a las|a los|con) (el |la |las |los )?(vicio|alcohol|trago|bebida|botella|droga|drogas|cristal|"
    "coca|perico|piedra|chiva|heroina|mota|guaro|andadas|pipa|foco|pastillas|pastas|tachas|fentanilo|fenta|peda)",
    # "me metí" is a relapse only with a drug: "me metí a bañar / en problemas" is not
    f"(me meti|me volvi a meter|volvi a meterme|me estoy metiendo|me meto) {_ES_FEW}({_ES_SNORTED[1:-1]}|"
    f"{_ES_DOSES[1:-1]})",
    # not "usé" / "probé": unaccented they are the English "use" and "probe" ("use :meth:`get`")
    "(jale|me jale|inhale|esnife|aspire|me inyecte|me pique|consumi|ya use|volvi a probar) "
    f"{_ES_FEW}({_ES_SNORTED[1:-1]}|{_ES_DOSES[1:-1]})",
    f"(fume|me fume|estuve fumando|estoy fumando|ando fumando) {_ES_FEW}(mota|marihuana|mariguana|piedra|crack|"
    "cristal|foco|hierba|yerba|pasto|weed|porro|porros|churro|churros|gallo|toque|bazuco|basuco|pipa|de la pipa)",
    f"(anduve|ando|andaba|estuve|estoy|andamos|andabamos|sigo) (en|con) (la |el |las |los )?(coca|{_ES_DRUGS[1:-1]}|"
    "peda|vicio|pipa|foco|mona|pastas|guaro|trago|alcohol|chupe|chela|chelas|cheve|pomo)",
    "(anduve|andaba|ando|me fui|nos fuimos|estuve|estoy|estuvimos) (de|en la|en una) peda",
    "(me puse|agarre|me agarre|me aviente|me eche) (una|tremenda|buena|la) peda",
    f"(le di|le meti|le pegue|le entre|le di duro) (a la|al|a las|a los) (coca|{_ES_DRUGS[1:-1]}|piedra|foco|pipa|"
    "botella|perico|peda|chela|chelas|cerveza|bebida|trago|tragos|pastas)",
    "(me di|me eche|me aviente) un (toque|jalon|pase|pasesito|pasecito|bump)(?! (electrico|de (luz|corriente)))",
    f"(me tome|tome|bebi|me bebi|me eche|me aviente|me empine|pistie|chupe|compre|consegui) {_ES_FEW}{_ES_ALCOHOL}"
    # "compré unas cervezas para mi papá"
    "(?! (para|pa) (mi|mis|la|el|los|las|su|sus|una|un))",
    "(me tome|tome|bebi|me eche|pistie|chupe|consumi|use|me drogue|me inyecte|me pique|me arpone|estuve tomando|"
    f"estuve bebiendo|anduve tomando) "
    f"{_ES_AGAIN}{_ES_NOT_AN_OBJECT}",
    "(compre|consegui|pille|me consegui|fui a comprar|fui por|le compre a|voy a comprar|voy por) (unos |unas |"
    f"mas |un poco de |un gramo de |una grapa de |un globo de |una bolsita de )?{_ES_BOUGHT}",
    "(le llame|le marque|le hable|le escribi|le mande mensaje|le mande un mensaje|fui con|fui a ver|vi a|busque|"
    "busque a|contacte|contacte a|llame|llame a|marque|marque a|le hable a|le escribi a|fui a ver a) (a )?(mi|al|el) "
    "(dealer|diler|tirador|conecte|connect|plug|camello|narcomenudista|puntero)",
    "(me emborrache|me embriague|me drogue|me empede|me estoy emborrachando|me estoy drogando|me la pase tomando|"
    "me la pase pisteando)",
    "me (drogo|emborracho) (diario|todos los dias|todas las noches|cada dia|cada noche|cada fin)",
    "(estoy|ando|he estado|e estado|estuve|andaba|anduve|sigo) (tomando|bebiendo|consumiendo|usando|drogandome|"
    "pisteando|chupando|jalando|inyectandome|picandome|metiendome) (otra vez|de nuevo|diario|todos los dias|"
    f"todas las noches|cada dia|cada noche|toda la semana|todo el fin|sin parar|bien fuerte){_ES_NOT_AN_OBJECT}",
    "(otra vez|de nuevo) (tomando|bebiendo|consumiendo|drogandome|pisteando|en el vicio|en las drogas|en la peda)"
    f"{_ES_NOT_AN_OBJECT}",
    "me pase de (copas|tragos|chelas|cervezas)",
    "tome de mas",
    "(me puse|quede|acabe|termine) (bien |muy |re |bien bien |super )?(pedo|peda|borracho|borracha|ebrio|ebria|"
    "hasta atras|hasta la madre|hasta las chanclas|hasta las manitas|drogado|drogada|high|moto|grifo|grifa|"
    "empericado|empericada|pacheco|pacheca|cuete)",
    "(ando|estoy|andaba|anduve|sigo|andamos|estamos) (bien |muy |re |super |medio |algo |un poco |todavia |aun |"
    "todo |toda )?(pedo|borracho|borracha|ebrio|ebria|drogado|drogada|high|empericado|empericada|marihuano|"
    "marihuana|moto|grifo|grifa|hasta atras|tomado|tomada|pisteado|pisteada|jendio|jumo|juma|jumao|curda|"
    "volao|bolo|bola|pacheco|pacheca|motorolo|cuete|hasta las manitas)",
    # "ando bien pasado": high. Not "el año pasado", "estoy pasado de peso".
    "(ando|estoy|andaba|anduve|sigo|me puse) (bien |muy |re |super |medio |algo |un poco |todavia |aun )?"
    "(pasado|pasada|pasadisimo|pasadisima)(?! (de|en|por|con|a|al))",
    "(estoy|ando|amaneci) (bien |muy |re |super )?(crudo|cruda|de goma|engomado|engomada)(?! (de|para|en|con))",
    f"(voy a|me voy a|boy a|vo a) (recaer|drogarme|emborracharme|empedarme|ponerme pedo|ponerme bien pedo|pistear|"
    f"volver a (tomar|beber|usar|consumir|drogarme){_ES_TALKED_END})",
    "me voy a (poner|poner bien) (pedo|borracho|borracha|hasta atras|hasta la madre)",
    f"(voy a|me voy a|boy a|vo a) (volver a )?(tomar|beber|usar|consumir)({_ES_TALKED_END}| {_ES_WHEN})",
    "(perdi|perdi toda) (mi|mis) (sobriedad|tiempo limpio|tiempo sobrio|dias limpios|dias sobrios|meses limpios|"
    "anos limpios|fecha de sobriedad|abstinencia)",
    "(perdi|perdi todos) (mis|los) [0-9]+ (dias|meses|anos) (limpio|limpia|limpios|sobrio|sobria|sobrios|"
    "de sobriedad)",
    "(de vuelta|otra vez|volvi|regrese|estoy|ando|vuelvo|empiezo|empece|regreso) (en|al|a|de) (el )?dia "
    "(uno|1|cero|0)(?! (de|del) (la|el|mi|mis|su|sus|curso|trabajo|dieta|escuela|clases))",
    "dia (uno|1) (otra vez|de nuevo)",
    "mi (conteo|contador|fecha|sobriedad|tiempo limpio) (esta |regreso |volvio |se fue )?(en|a) cero",
    "reinicie (mi|el) (conteo|contador|fecha de sobriedad|tiempo limpio|tiempo sobrio|sobriedad)",
]

# Spanish negation right before a phrase ("no volví a tomar", "nunca más me
# drogué", "no he recaído"); like the English ones, for overdose and relapse only.
_NEGATIONS_ES = (
    "no",
    "nunca",
    "jamas",
    "ni",
    "tampoco",
    "nunca mas",
    "jamas he",
    "no he",
    "no e",
    "nunca he",
    "ni he",
    "no ha",
    "no han",
    "no hemos",
    "no haber",
    "sin haber",
)


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
    parts: list[str] = []
    cur: list[str] = []
    depth = 0
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

    def linear(self) -> tuple[list[str], str]:
        """The pieces every leading alternative starts with, and the regex of the rest."""
        pieces: list[str] = []
        node = self
        while len(node.children) == 1 and not node.tails:
            (piece, node), = node.children.items()
            pieces.append(piece)
        return pieces, node.regex()

    def regex(self) -> str:
        alts = [_lit(p) + child.regex() for p, child in self.children.items()]
        alts += [t for t in self.tails if t]
        if "" in self.tails:
            alts.append("")  # shortest last: prefer the longest alternative
        if len(alts) == 1 and "|" not in alts[0]:
            return alts[0]
        return "(?:" + "|".join(alts) + ")"


def _factor(entries: list[tuple[list[str], str]]) -> list[str]:
    """Alternatives in order, consecutive ones that start alike sharing their common start.

    "ab|ac|d" becomes "a(?:b|c)|d": the same matches tried in the same order,
    with the shared start read once.
    """
    out: list[str] = []
    i = 0
    while i < len(entries):
        pieces, rest = entries[i]
        j = i + 1
        while pieces and j < len(entries) and entries[j][0][:1] == pieces[:1]:
            j += 1
        if j == i + 1:
            out.append("".join(_lit(p) for p in pieces[:1]) + "".join(pieces[1:]) + rest)
        else:
            inner = _factor([(p[1:], r) for p, r in entries[i:j]])
            out.append(_lit(pieces[0]) + "(?:" + "|".join(inner) + ")")
        i = j
    return out


def _by_first_letter(phrases: list[str], raw: list[str]) -> dict[str, str]:
    """One kind's phrases as {first letter: regex of the rest of the phrase}.

    A phrase's leading alternatives share their prefixes in one trie; a raw
    pattern is added as is, after the phrases of its letter.
    """
    buckets: dict[str, list[tuple[list[str], str]]] = {}
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
            pieces, rest = trie.linear()
            buckets.setdefault(first, []).append((pieces, rest + tail_re))
    rests = {c: f"{c}*(?:{'|'.join(_factor(entries))})" for c, entries in buckets.items()}
    for pattern in raw:
        first = pattern[0]
        if not "a" <= first <= "z":
            raise ValueError(f"raw pattern must start with a letter: {pattern!r}")
        rests[first] = f"{rests[first]}|{pattern[1:]}" if first in rests else pattern[1:]
    return rests


def _compile(kinds: dict[str, tuple[list[str], list[str]]]) -> tuple[re.Pattern[str], dict[int, str]]:
    """One regex for every kind, and the kind of each of its capturing groups.

    It branches once on the first letter of a word, then tries each kind's
    phrases for that letter in severity order, each kind in a capturing group
    of its own (``Match.lastindex`` tells the kind). Every branch starts with
    a literal letter, so CPython's re rejects a non-matching branch with a
    single comparison; this is what keeps some five hundred phrases in two
    languages fast at every word start.
    """
    by_letter: dict[str, list[tuple[str, str]]] = {}
    for kind in KINDS:
        phrases, raw = kinds[kind]
        for first, rest in _by_first_letter(phrases, raw).items():
            by_letter.setdefault(first, []).append((kind, rest))
    group_kinds: dict[int, str] = {}
    branches = []
    for first in sorted(by_letter, key=_LETTERS_BY_FREQUENCY.index):
        parts = []
        for kind, rest in by_letter[first]:
            group_kinds[len(group_kinds) + 1] = kind
            parts.append(f"({rest})(?![a-z0-9]|'[a-z])")
        branches.append(f"{first}(?:{'|'.join(parts)})")
    return re.compile(r"(?<![a-z0-9])(?<![a-z]')(?:" + "|".join(branches) + ")"), group_kinds


# The order the dispatch tries first letters in (words of English and Spanish chat).
_LETTERS_BY_FREQUENCY = "tsmacdpeihlbwnofrgyquvkjzx"
_RISK_RE, _GROUP_KINDS = _compile(
    {
        "suicide": (_SUICIDE + _SUICIDE_ES, _SUICIDE_RAW),
        "self_harm": (_SELF_HARM + _SELF_HARM_ES, []),
        "overdose": (_OVERDOSE + _OVERDOSE_ES, _OVERDOSE_RAW),
        "relapse": (_RELAPSE + _RELAPSE_ES, []),
    }
)
# Checked on a match rather than inside the regex, where it would cost a
# few lookbehinds at every word start. Each is "word " before the phrase.
_NEGATED_BY = {
    "suicide": (),
    "self_harm": (),
    "overdose": tuple(f"{w} " for w in _NEGATIONS + _NEGATIONS_ES),
    "relapse": tuple(
        f"{w} " for w in _NEGATIONS + _RELAPSE_ONLY_NEGATIONS + _NEGATIONS_ES + _RELAPSE_ONLY_NEGATIONS_ES
    ),
}
_RANK = {k: r for r, k in enumerate(KINDS)}

# ------------------------------------------------------------- normalisation

_APOSTROPHES = str.maketrans({c: "'" for c in "\u2018\u2019\u201b\u02bc\u02bb\u2032\u00b4\u0060\uff07"})
_LEET = str.maketrans("013457@$", "oieastas")
_LEET_CHAR_RE = re.compile(r"[013457@$]")
_TOKEN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789@$")
# "!" or "|" between two letters; the class first lets re skip to the next "!"
# or "|" (Spanish "¡...!" puts one in many messages).
_LEET_BANG_RE = re.compile(r"[!|](?<=[a-z][!|])(?=[a-z])")
_NON_ASCII_RE = re.compile(r"[^\x00-\x7f]")
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


def _fold(text: str) -> tuple[str, bool, set[str]]:
    """``text.translate(_FOLD)``, whether every character folded to exactly one,
    and the non-ASCII characters left in the result ("¿", "¡", emoji...).

    Accented text (Spanish: "qué", "recaí", "niño") holds a handful of distinct
    non-ASCII characters. Replacing each of them (``str.replace``, in C) and
    lowercasing the rest costs a quarter of ``translate``, which looks every
    character of the message up in the table. When a folded character is
    itself non-ASCII, a later replacement could fold it a second time, so
    ``translate`` does it.
    """
    folds = {c: _FOLD[ord(c)] for c in set(_NON_ASCII_RE.findall(text))}
    aligned = all(len(folded) == 1 for folded in folds.values())
    left = {c for folded in folds.values() for c in folded if not c.isascii()}
    changed = [(c, folded) for c, folded in folds.items() if folded != c]
    if not all(folded.isascii() for _, folded in changed):
        return text.translate(_FOLD), aligned, left
    for c, folded in changed:
        text = text.replace(c, folded)
    return text.lower().replace("`", "'"), aligned, left


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
    left: set[str] = set()  # the non-ASCII characters of the folded text
    if text.isascii():
        s = text.lower().replace("`", "'")
    else:
        s, aligned, left = _fold(text)
        if not aligned and with_map:
            idx = [i for i, c in enumerate(text) for _ in _FOLD[ord(c)]]
    # Leetspeak (length-preserving). Cheap pre-checks skip most regex passes.
    if _LEET_CHAR_RE.search(s):
        s = _deleet(s)
    if "!" in s or "|" in s:
        s = _LEET_BANG_RE.sub("i", s)
    # The Unicode-aware passes only when the text needs them: Spanish keeps
    # "¿" and "¡" after folding, and neither is a space or a letter.
    steps = []
    odd_spaces = "\t\n\r\f\v" if not left else "\t\n\r\f\v\x1c\x1d\x1e\x1f"
    if "  " in s or any(c in s for c in odd_spaces) or any(c.isspace() for c in left):
        steps.append((_SPACES_RE, " "))
    letters_left = any(c.isalnum() and not c.isdecimal() for c in left)  # what [^\W\d_] matches
    steps.append((_REPEATS_RE if letters_left else _ASCII_REPEATS_RE, r"\1\1"))
    for rx, repl in steps:
        if aligned and not with_map:
            new = rx.sub(repl, s)
            aligned = len(new) == len(s)
            s = new
        elif with_map:
            if idx is None:
                idx = list(range(len(s)))
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
    best_kind = ""
    best_rank = len(KINDS)
    pos = 0
    while (m := _RISK_RE.search(norm, pos)) is not None:
        kind = _GROUP_KINDS[m.lastindex or 0]
        if norm.endswith(_NEGATED_BY[kind], 0, m.start()):
            # Negated here; the relapse negations include the overdose ones, so
            # no other phrase can match at this position either.
            pos = m.start() + 1
            continue
        rank = _RANK[kind]
        if rank < best_rank:
            best, best_kind, best_rank = m, kind, rank
            if rank == 0:
                break
        pos = m.end()
    if best is None:
        return None
    start, end = best.span()
    if not aligned:
        _, idx, _ = _normalise(text, with_map=True)
        if idx is not None:  # always, with_map=True
            start, end = idx[start], idx[end - 1] + 1
    while end < len(text) and unicodedata.combining(text[end]):
        end += 1
    return RiskMatch(kind=best_kind, excerpt=_excerpt(text, start, end))
