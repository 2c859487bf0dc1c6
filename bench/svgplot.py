"""The day's plot as SVG, written by hand: `python -m bench.svgplot RESULT.json docs/day.svg`.

Hand-written because the bench's environment has no plotting library and the
plot needs only lines, bars and axes; a dependency (matplotlib and its numpy)
for three panels would cost more than these hundred lines. The SVG is plain
text, so docs/day.svg diffs and renders on GitHub as it is.

Panels, against the minute of the day: each worker's RSS (MiB), the p99 of live
deliveries per minute (ms, the 100 ms target dashed), and the database's
connections and size.
"""

from __future__ import annotations

import json
import math
import sys
from html import escape
from pathlib import Path
from typing import Any

WIDTH = 760
PANEL = 170
LEFT, RIGHT, TOP, GAP = 64, 24, 40, 46
COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]


def _ticks(high: float, count: int = 4, low: float = 0.0) -> list[float]:
    """Round steps from at most `low` to at least `high`."""
    if high <= low:
        return [low, low + 1.0]
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    return [start + step * n for n in range(count + 3) if start + step * (n - 1) < high]


class Panel:
    def __init__(self, top: float, title: str, x_max: float, y_max: float, unit: str, y_min: float = 0.0) -> None:
        self.top, self.title, self.unit = top, title, unit
        self.x_max = max(x_max, 1e-9)
        self.y_ticks = _ticks(y_max, low=y_min)
        self.y_min, self.y_max = self.y_ticks[0], self.y_ticks[-1]
        self.parts: list[str] = []

    def x(self, value: float) -> float:
        return LEFT + (WIDTH - LEFT - RIGHT) * value / self.x_max

    def y(self, value: float) -> float:
        return self.top + PANEL - PANEL * (value - self.y_min) / (self.y_max - self.y_min)

    def axes(self) -> None:
        self.parts.append(
            f'<text x="{LEFT}" y="{self.top - 8}" font-weight="bold">{escape(self.title)}</text>'
            f'<text x="{WIDTH - RIGHT}" y="{self.top - 8}" text-anchor="end" fill="#555">{escape(self.unit)}</text>'
        )
        for tick in self.y_ticks:
            y = self.y(tick)
            self.parts.append(
                f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
                f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{tick:g}</text>'
            )
        for tick in _ticks(self.x_max, 6):
            if tick > self.x_max:
                break
            x = self.x(tick)
            self.parts.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{self.top + PANEL}" y2="{self.top + PANEL + 4}" stroke="#333"/>'
                f'<text x="{x:.1f}" y="{self.top + PANEL + 16}" text-anchor="middle">{tick:g}</text>'
            )
        self.parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{self.top + PANEL}" y2="{self.top + PANEL}" stroke="#333"/>'
        )

    def line(
        self, points: list[tuple[float, float]], colour: str, label: str, index: int, dashed: bool = False
    ) -> None:
        if not points:
            return
        path = " ".join(f"{self.x(x):.1f},{self.y(y):.1f}" for x, y in points)
        dash = ' stroke-dasharray="5,4"' if dashed else ""
        self.parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="1.6"{dash}/>')
        self.legend(colour, label, index)

    def bars(self, points: list[tuple[float, float]], width: float, colour: str, label: str, index: int) -> None:
        for x, y in points:
            left, right = self.x(x), self.x(x + width)
            top = self.y(min(y, self.y_max))
            self.parts.append(
                f'<rect x="{left + 1:.1f}" y="{top:.1f}" width="{max(1.0, right - left - 2):.1f}" '
                f'height="{self.top + PANEL - top:.1f}" fill="{colour}"/>'
            )
        self.legend(colour, label, index)

    def legend(self, colour: str, label: str, index: int) -> None:
        x = LEFT + 10 + 180 * index
        y = self.top + 12
        self.parts.append(
            f'<rect x="{x}" y="{y - 8}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{x + 14}" y="{y + 1}">{escape(label)}</text>'
        )


def day_svg(document: dict[str, Any]) -> str:
    report, plan = document["report"], document["plan"]
    samples = report["samples"]
    minutes = [s["t"] / 60 for s in samples]
    x_max = max([plan["minutes"], *minutes]) if minutes else plan["minutes"]
    panels: list[Panel] = []

    top = TOP
    rss = [[kib / 1024 for kib in s["rss_kib"]] for s in samples]
    # The axis starts near the lowest RSS, not at 0: the target is growth under 5 %, which a 0-based axis flattens.
    lowest = min((min(r) for r in rss if r), default=0.0)
    highest = max((max(r) for r in rss if r), default=1.0)
    memory = Panel(top, "Each worker's RSS", x_max, highest, "MiB (axis not from 0)", y_min=0.9 * lowest)
    memory.axes()
    for worker in range(max((len(r) for r in rss), default=0)):
        points = [(m, r[worker]) for m, r in zip(minutes, rss, strict=True) if len(r) > worker]
        memory.line(points, COLOURS[worker % len(COLOURS)], f"worker {worker + 1}", worker)
    warm = plan["minutes"] / 6
    memory.parts.append(
        f'<line x1="{memory.x(warm):.1f}" x2="{memory.x(warm):.1f}" y1="{top}" y2="{top + PANEL}" '
        'stroke="#999" stroke-dasharray="2,3"/>'
    )
    panels.append(memory)

    top += PANEL + GAP + 10
    by_minute = report["latency_by_minute_ms"]
    p99 = [(m["minute"], m["p99"]) for m in by_minute if m["p99"] is not None]
    latency = Panel(top, "p99 of live deliveries, per minute", x_max, max([120.0, *(v for _, v in p99)]), "ms")
    latency.axes()
    latency.bars(p99, 1.0, "#4c72b0", "p99", 0)
    latency.line([(0, 100.0), (x_max, 100.0)], "#d62728", "target 100 ms", 1, dashed=True)
    panels.append(latency)

    top += PANEL + GAP + 10
    connections = [(m, float(s["db_connections"])) for m, s in zip(minutes, samples, strict=True)]
    size = [(m, s["db_bytes"] / 2**20 / 10) for m, s in zip(minutes, samples, strict=True)]
    high = max([1.0, *(v for _, v in connections + size)])
    database = Panel(top, "PostgreSQL: connections and size", x_max, high, "")
    database.axes()
    database.line(connections, "#2ca02c", "connections", 0)
    database.line(size, "#8c564b", "size (MiB / 10)", 1)
    panels.append(database)

    height = top + PANEL + 40
    summary = document.get("summary", {})
    caption = (
        f"{plan['sessions']} sessions x {plan['members']} over {plan['minutes']:g} min, "
        f"{document['config']['workers']} workers; {document['when']}; "
        f"{'targets met' if summary.get('ok') else 'NOT OK: ' + '; '.join(summary.get('why_not', []))[:90]}"
    )
    body = "".join(part for panel in panels for part in panel.parts)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="11">'
        f'<rect width="{WIDTH}" height="{height}" fill="white"/>'
        f'<text x="{LEFT}" y="18" font-size="13" font-weight="bold">A clinic\'s day, compressed</text>'
        f'<text x="{WIDTH - RIGHT}" y="{height - 8}" text-anchor="end" fill="#555">minute of the day</text>'
        f'<text x="{LEFT}" y="{height - 8}" fill="#555">{escape(caption)}</text>'
        f"{body}</svg>\n"
    )


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        sys.stderr.write("usage: python -m bench.svgplot RESULT.json OUT.svg\n")
        return 2
    document = json.loads(Path(argv[0]).read_text())
    Path(argv[1]).write_text(day_svg(document))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
