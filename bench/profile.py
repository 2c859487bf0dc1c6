"""Profiles of a server under load: py-spy attached for the measured window, summarised by function.

    python -m bench run --load L2 --profile circle      # writes bench/results/<stamp>-profile-*.txt
    python -m bench profile bench/results/...-profile-circle.txt [--top 40] [--all]

The summary lists, per function, its share of all samples: `self` (the
function itself running) and `total` (it or anything it called).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

from bench.servers import BIN

FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^:()]*)(?::(?P<line>\d+))?\)$")


def py_spy() -> str | None:
    local = BIN / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


def start(pid: int, seconds: float, out: Path, rate: int = 250, gil: bool = False) -> subprocess.Popen[bytes] | None:
    """Attach py-spy to `pid` for `seconds`; None when py-spy is not installed (pip install py-spy)."""
    binary = py_spy()
    if binary is None:
        print("py-spy is not installed: .venv/bin/pip install py-spy", file=sys.stderr)
        return None
    return subprocess.Popen(
        [
            binary,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(max(1, int(seconds))),
            "--rate",
            str(rate),
            "--format",
            "raw",
            "--output",
            str(out),
            "--nonblocking",
            *(["--gil"] if gil else []),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def short(frame: str) -> str:
    match = FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    path = match.group("file")
    for marker in ("site-packages/", "/work/main/", "lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{match.group('func')} ({path})"


def summarise(path: Path, top: int = 40, only_project: bool = True) -> str:
    total = 0
    self_counts: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    idle = 0
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        stack, _, count_text = line.rpartition(" ")
        try:
            count = int(count_text)
        except ValueError:
            continue
        frames = [short(f) for f in stack.split(";") if f and not f.startswith(("thread ", "process "))]
        if not frames:
            continue
        total += count
        leaf = frames[-1]
        if (
            leaf.startswith(("select (", "epoll", "wait (threading", "_worker (concurrent", "poll ("))
            or "(idle)" in stack
        ):
            idle += count
        self_counts[leaf] += count
        for name in set(frames):
            inclusive[name] += count
    if not total:
        return "no samples"
    lines = [
        f"{total} samples ({idle / total:.0%} in waits: select/epoll/thread-pool idle)",
        "",
        "total% self%  function",
    ]
    project = ("rooms/", "accounts/", "facilitator/", "moderation/", "config/", "bench/")
    shown = 0
    for name, count in inclusive.most_common():
        if only_project and not any(f"({p}" in name for p in project) and shown >= 25:
            continue
        lines.append(f"{100 * count / total:5.1f} {100 * self_counts[name] / total:5.1f}  {name}")
        shown += 1
        if shown >= top:
            break
    lines += ["", "by self time:", "self%  function"]
    for name, count in self_counts.most_common(top // 2):
        lines.append(f"{100 * count / total:5.1f}  {name}")
    return "\n".join(lines)


def command_profile(args: argparse.Namespace) -> int:
    for name in args.files:
        print(f"== {name}")
        print(summarise(Path(name), args.top, not args.all))
    return 0
