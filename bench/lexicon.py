"""Time the crisis lexicon's scan of one 2,000-character message, English and Spanish, harmless and risky.

    python -m bench lexicon [--rounds 9] [--number 300] [--lexicon-file PATH ...]

Each round times `number` scans of each message and keeps the CPU time per
scan (`time.process_time`: other work on a busy machine barely moves it); the
report is the median of the rounds (and the fastest and slowest round), in
microseconds. The messages are ordinary group talk repeated to exactly 2,000
characters; a risky one has a relapse phrase in the middle, so the whole
message is still read (a suicide phrase would stop the scan at the first
match). `--lexicon-file` (repeatable) times other copies of
`moderation/lexicon.py` beside it, e.g. an older commit's (`git show
<commit>:moderation/lexicon.py > /tmp/lexicon_before.py`), loaded from that
file: every copy is timed in the same rounds, one after the other, so a
busier moment of the machine weighs on all of them alike.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import statistics
import sys
import time
from collections.abc import Callable
from types import ModuleType

MESSAGE_CHARS = 2_000

ENGLISH_TALK = (
    "Today in group we talked about how the week went for everybody, and I shared that work "
    "has been stressful and my family is visiting soon. My sponsor called me twice and we went "
    "to a meeting together; I cut back on coffee and I'm sleeping better. "
)
SPANISH_TALK = (
    "Hoy en el grupo hablamos de cómo nos fue en la semana. Conté que el trabajo ha estado "
    "pesado y que mi familia viene a visitarme pronto; ¡me muero de ganas de ver a mis niños! "
    "¿Y ustedes? Mi padrino me llamó dos veces, fuimos juntos a una junta y ya duermo mejor, gracias a Dios. "
)
ENGLISH_TRIGGER = "Honestly I relapsed last night after work. "
SPANISH_TRIGGER = "La neta anoche volví a consumir después del trabajo. "


def _to_length(talk: str, middle: str = "") -> str:
    """`talk` repeated around `middle` (at the centre, after a word), cut to exactly MESSAGE_CHARS.

    Single spaces throughout: a run of spaces would make the scan map the
    match back to the original text, a cost of its own.
    """
    filler = talk * (MESSAGE_CHARS // len(talk) + 1)
    head = filler[: (MESSAGE_CHARS - len(middle)) // 2]
    head = head[: head.rfind(" ") + 1]
    text = head + middle + filler[: MESSAGE_CHARS - len(head) - len(middle)]
    assert len(text) == MESSAGE_CHARS
    return text


MESSAGES = {
    "english_harmless": _to_length(ENGLISH_TALK),
    "english_risky": _to_length(ENGLISH_TALK, ENGLISH_TRIGGER),
    "spanish_harmless": _to_length(SPANISH_TALK),
    "spanish_risky": _to_length(SPANISH_TALK, SPANISH_TRIGGER),
}
CURRENT = "moderation/lexicon.py"


def load_lexicon(path: str) -> ModuleType:
    """moderation.lexicon, or the copy of it in the file at `path`."""
    if path == CURRENT:
        return importlib.import_module("moderation.lexicon")
    name = f"lexicon_under_test_{abs(hash(path))}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there while the class is made
    spec.loader.exec_module(module)
    return module


def time_per_scan(scan: Callable[[str], object], text: str, number: int) -> float:
    """CPU seconds per scan of `text`, over `number` scans."""
    started = time.process_time()
    for _ in range(number):
        scan(text)
    return (time.process_time() - started) / number


def command_lexicon(args: argparse.Namespace) -> int:
    paths = [*(args.lexicon_file or []), CURRENT]
    lexicons = {}
    for path in paths:
        started = time.process_time()
        lexicons[path] = load_lexicon(path)
        compile_ms = round(1000 * (time.process_time() - started))
        found = {name: getattr(lexicons[path].scan(text), "kind", None) for name, text in MESSAGES.items()}
        print(json.dumps({"lexicon": path, "import_ms": compile_ms, "matches": found}), flush=True)
    rounds: dict[tuple[str, str], list[float]] = {(path, name): [] for path in paths for name in MESSAGES}
    for _ in range(args.rounds):
        for name, text in MESSAGES.items():
            for path, lexicon in lexicons.items():
                rounds[path, name].append(time_per_scan(lexicon.scan, text, args.number))
    for (path, name), seconds in rounds.items():
        print(
            json.dumps(
                {
                    "lexicon": path,
                    "message": name,
                    "chars": len(MESSAGES[name]),
                    "us_per_scan_median": round(1e6 * statistics.median(seconds), 1),
                    "min": round(1e6 * min(seconds), 1),
                    "max": round(1e6 * max(seconds), 1),
                    "rounds": args.rounds,
                    "scans_per_round": args.number,
                }
            )
        )
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--number", type=int, default=300, help="scans of each message per round")
    parser.add_argument(
        "--lexicon-file", action="append", help="also time this copy of moderation/lexicon.py (repeatable)"
    )
