"""The markdown table of docs/performance.md, from bench result files."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def _fmt(cell: dict[str, Any] | None, unit: str = "") -> str:
    if not cell:
        return "-"
    median, low, high = cell["median"], cell["min"], cell["max"]
    if low == high:
        return f"{median:g}{unit}"
    return f"{median:g}{unit} ({low:g}-{high:g})"


def rows(document: dict[str, Any]) -> list[str]:
    summary = document["summary"]
    label = document["label"]
    circle, reference, ratio = summary.get("circle", {}), summary.get("reference", {}), summary.get("ratio", {})
    load = document["load"]["name"]
    out = []
    if load == "L3":
        out.append(
            f"| {label} | saturation rate /room/s | {_fmt(circle.get('rate'))} | {_fmt(reference.get('rate'))} "
            f"| {_fmt(ratio.get('saturation_rate'), 'x')} |"
        )
        return out
    if "rss_per_connection_kib" in circle or "rss_per_connection_kib" in reference:
        conns = document["load"]["connections"]
        out.append(
            f"| {label} ({conns}) | RSS/connection KiB | {_fmt(circle.get('rss_per_connection_kib'))} "
            f"| {_fmt(reference.get('rss_per_connection_kib'))} "
            f"| {_fmt(ratio.get('rss_per_connection_kib_difference'), ' KiB')} more |"
        )
        out.append(
            f"| {label} ({conns}) | idle server CPU % | {_fmt(circle.get('idle_cpu_percent'))} "
            f"| {_fmt(reference.get('idle_cpu_percent'))} | |"
        )
        out.append(
            f"| {label} ({conns}) | ramp s | {_fmt(circle.get('ramp_seconds'))} "
            f"| {_fmt(reference.get('ramp_seconds'))} | |"
        )
        return out
    for name, title, ratio_key in (
        ("p50_ms", "p50 ms", "p50"),
        ("p99_ms", "p99 ms", "p99"),
        ("lost", "lost deliveries", None),
        ("deliveries_per_s", "deliveries/s", None),
        ("cpu_us_per_delivery", "server CPU us/delivery", "cpu_per_delivery"),
        ("server_cpu_percent", "server CPU %", "server_cpu"),
    ):
        out.append(
            f"| {label} | {title} | {_fmt(circle.get(name))} | {_fmt(reference.get(name))} "
            f"| {_fmt(ratio.get(ratio_key), 'x') if ratio_key else ''} |"
        )
    return out


def command_table(args: argparse.Namespace) -> int:
    print("| load, configuration | figure | Circle | reference | Circle / reference |")
    print("|---|---|---|---|---|")
    for name in args.files:
        document = json.loads(Path(name).read_text())
        for line in rows(document):
            print(line)
    return 0
