"""The bench works: a tiny load through real servers, Circle and the reference, nothing lost.

A smoke of `python -m bench run --load smoke` (2 rooms x 4 clients, 4 messages/s per
room, 3 s). It checks that the tooling measures something real (connections made,
every expected delivery received once) and never judges a timing: the figures belong
in docs/performance.md, measured on a quiet machine.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.clinic import clinic
from bench.loadgen import by_second
from bench.run import LOADS, Options, run_target
from tests.services import require_services

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def assert_worked(report: dict, load) -> None:
    connections = report["connections"]
    wanted = load.rooms * load.clients
    assert connections["made"] == wanted, connections
    deliveries = report["deliveries"]
    assert report["messages"]["sent"] > 0
    assert report["messages"]["refused"] == 0, report["messages"]
    assert deliveries["expected"] == report["messages"]["sent"] * load.clients
    assert deliveries["received"] == deliveries["expected"], deliveries
    assert deliveries["lost"] == 0, deliveries
    assert deliveries["duplicates"] == 0, deliveries
    assert report["closed_unexpectedly"] == {}, report["closed_unexpectedly"]
    assert report["server"]["problems"] == [], report["server"]["problems"]
    assert report["latency_ms"]["p50"] is not None  # measured, never judged
    # The cost is measured to the end of the drain (bench.run._server_report), which the run reached.
    assert report["server"]["cpu_seconds_with_drain"] >= report["server"]["cpu_seconds"], report["server"]
    by_second = report["latency_by_second_ms"]
    # The window's seconds (and one more when the last sends straddle a second), every one with deliveries.
    assert len(by_second["max"]) in (load.duration, load.duration + 1), by_second
    assert None not in by_second["max"], by_second
    assert max(by_second["max"]) == report["latency_ms"]["max"]
    assert report["ok"], report["why_not"]


@pytest.mark.timeout(240)
def test_bench_smoke_embedded():
    load = LOADS["smoke"]
    with clinic("embedded") as made:
        made.provision_people(1, load.clients - 1)
        for target in ("circle", "reference"):
            report = run_target(made, target, load, Options(config="embedded", server_cpus=None))
            assert_worked(report, load)
            if target == "circle":
                # Every chat.send was acknowledged after its commit.
                assert report["messages"]["acked"] == report["messages"]["sent"] + report["messages"]["sent_warmup"]
                assert report["deliveries"]["out_of_order"] == 0


@pytest.mark.services
@pytest.mark.timeout(240)
def test_bench_smoke_production_two_workers():
    """PostgreSQL + Redis, two daphne workers: each room's clients are split across both."""
    require_services()
    load = dataclasses.replace(LOADS["smoke"], clients=4)
    with clinic("production") as made:
        made.provision_people(1, load.clients - 1)
        for target in ("circle", "reference"):
            report = run_target(made, target, load, Options(config="production", workers=2, server_cpus=None))
            assert report["server"]["workers"] == 2
            assert_worked(report, load)


def bench_json_lines(*args: str) -> list[dict]:
    """What `python -m bench ARGS` printed as JSON lines, once it exited 0."""
    completed = subprocess.run(
        [sys.executable, "-m", "bench", *args],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=200,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return [json.loads(line) for line in completed.stdout.splitlines() if line.startswith("{")]


@pytest.mark.services
@pytest.mark.timeout(240)
def test_bench_duties_measures_every_step():
    """`python -m bench duties`, tiny: one JSON line per step, every room's stats built (asserted inside)."""
    require_services()
    steps = bench_json_lines("duties", "--rooms", "3", "--people", "4", "--per-room", "5,20")
    assert [s["messages_per_room"] for s in steps] == [5, 20]
    assert all(s["rooms"] == 3 and s["stats_tick_wall_ms"] > 0 and s["due_timer_sweep_wall_ms"] > 0 for s in steps)


@pytest.mark.services
@pytest.mark.timeout(240)
@pytest.mark.parametrize("busy", [[], ["--busy"]], ids=["quiet", "busy"])
def test_bench_txn_measures_both_settings_in_alternating_rounds(busy):
    """`python -m bench txn`, tiny: a JSON line per round, alternating the setting, then one median per setting."""
    require_services()
    lines = bench_json_lines("txn", "--clients", "3", "--messages", "20", "--rounds", "2", *busy)
    rounds, summaries = lines[:4], lines[4:]
    assert [r["prepared"] for r in rounds] == ["on", "off", "on", "off"]
    assert all(r["client_cpu_us"] > 0 and r["wall_us"] > 0 and r["backend_cpu_us"] >= 0 for r in rounds), rounds
    assert [(s["prepared"], s["median_of"], s["busy"]) for s in summaries] == [
        ("on", 2, bool(busy)),
        ("off", 2, bool(busy)),
    ]


def test_bench_sendpath_measures_both_stacks_in_alternating_rounds():
    """`python -m bench sendpath`, tiny: a JSON line per round, alternating the stacks, then one median per stack."""
    lines = bench_json_lines("sendpath", "--frames", "200", "--rounds", "2")
    rounds, summaries = lines[:4], lines[4:]
    assert [r["stack"] for r in rounds] == ["channels", "circle", "channels", "circle"]
    assert all(r["cpu_ns_per_frame"] > 0 for r in rounds), rounds
    assert [(s["stack"], s["median_of"]) for s in summaries] == [("channels", 2), ("circle", 2)]


def test_latency_by_second_puts_each_delivery_in_the_second_its_message_was_sent():
    second = 1_000_000_000
    ms = 1_000_000
    latencies = [4 * ms, 6 * ms, 200 * ms, 5 * ms]
    sent_times = [10 * second, 10 * second + 900 * ms, 11 * second + 1, 13 * second]
    assert by_second(latencies, sent_times) == {
        "p50": [4.0, 200.0, None, 5.0],
        "p99": [6.0, 200.0, None, 5.0],
        "max": [6.0, 200.0, None, 5.0],
    }
