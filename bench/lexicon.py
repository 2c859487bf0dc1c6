"""Time the crisis lexicon's scan of one 2,000-character message, English and Spanish, harmless and risky.

    python -m bench lexicon [--rounds 7] [--number 300] [--lexicon-file PATH]

Each round times `number` scans of each message with `time.perf_counter` and
keeps the time per scan; the report is the median of the rounds (and the
fastest and slowest round), in microseconds. The messages are ordinary
group talk repeated to exactly 2,000 characters; a risky one has a relapse
phrase in the middle, so the whole message is still read (a suicide phrase
would stop the scan at the first match). `--lexicon-file` times another copy
of `moderation/lexicon.py` (e.g. an older commit's: `git show
<commit>:moderation/lexicon.py > /tmp/lexicon_before.py`), loaded from that
file, so before and after run in the same interpreter build on the same
messages.
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
    "pesado y que mi familia viene a visitarme pronto; me muero de ganas de ver a mis niños. "
    "Mi padrino me llamó dos veces, fuimos juntos a una junta y ya duermo mejor, gracias a Dios. "
)
ENGLISH_TRIGGER = " Honestly I relapsed last night after work. "
SPANISH_TRIGGER = " La neta anoche volví a consumir después del trabajo. "


def _to_length(talk: str, middle: str = "") -> str:
    """`talk` repeated around `middle` (at the centre), cut to exactly MESSAGE_CHARS."""
    half = (MESSAGE_CHARS - len(middle)) // 2
    filler = talk * (MESSAGE_CHARS // len(talk) + 1)
    text = filler[:half] + middle + filler[: MESSAGE_CHARS - half - len(middle)]
    assert len(text) == MESSAGE_CHARS
    return text


MESSAGES = {
    "english_harmless": _to_length(ENGLISH_TALK),
    "english_risky": _to_length(ENGLISH_TALK, ENGLISH_TRIGGER),
    "spanish_harmless": _to_length(SPANISH_TALK),
    "spanish_risky": _to_length(SPANISH_TALK, SPANISH_TRIGGER),
}


def load_lexicon(path: str | None) -> ModuleType:
    """moderation.lexicon, or the copy of it in the file at `path`."""
    if path is None:
        return importlib.import_module("moderation.lexicon")
    spec = importlib.util.spec_from_file_location("lexicon_under_test", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there while the class is made
    spec.loader.exec_module(module)
    return module


def time_per_scan(scan: Callable[[str], object], text: str, number: int) -> float:
    """Seconds per scan of `text`, over `number` scans."""
    started = time.perf_counter()
    for _ in range(number):
        scan(text)
    return (time.perf_counter() - started) / number


def command_lexicon(args: argparse.Namespace) -> int:
    lexicon = load_lexicon(args.lexicon_file)
    found = {name: lexicon.scan(text) for name, text in MESSAGES.items()}
    print(json.dumps({"lexicon": args.lexicon_file or "moderation/lexicon.py"}))
    for name, match in found.items():
        print(json.dumps({"message": name, "match": None if match is None else match.kind}))
    rounds: dict[str, list[float]] = {name: [] for name in MESSAGES}
    for _ in range(args.rounds):
        for name, text in MESSAGES.items():  # interleaved, so drift on a busy machine hits all alike
            rounds[name].append(time_per_scan(lexicon.scan, text, args.number))
    for name, seconds in rounds.items():
        print(
            json.dumps(
                {
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
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--number", type=int, default=300, help="scans of each message per round")
    parser.add_argument("--lexicon-file", help="time this copy of moderation/lexicon.py instead")
