"""The bench's references (issue 25): the tutorial on each layer, ratios against the strongest; steal; the stall."""

from __future__ import annotations

from typing import Any

from bench.run import LOADS, compare, judge, steal, with_references
from bench.servers import ServerProcess


def test_reference_stands_for_the_layers_named():
    assert with_references(["circle", "reference"], "circle") == ["circle", "reference"]
    assert with_references(["circle", "reference"], "all") == [
        "circle",
        "reference",
        "reference-core",
        "reference-pubsub",
    ]
    assert with_references(["reference", "circle"], "pubsub,core") == ["reference-pubsub", "reference-core", "circle"]


def saturated(rate: float) -> dict[str, Any]:
    return {"rate": rate}


def test_l3_is_against_the_reference_with_the_highest_rate():
    run = {"circle": saturated(90), "reference": saturated(22.5), "reference-pubsub": saturated(30)}

    assert compare(run, LOADS["L3"]) == {"against": "reference-pubsub", "saturation_rate": 3.0}


def latency(p99: float, loss: float) -> dict[str, Any]:
    return {
        "latency_ms": {"p50": p99 / 2, "p99": p99},
        "deliveries": {"loss_ratio": loss},
        "server": {"cpu_seconds": 1.0, "cpu_us_per_delivery": 100.0},
    }


def test_a_reference_that_loses_messages_is_not_the_strongest_however_fast():
    run = {"circle": latency(20, 0), "reference-core": latency(5, 0.5), "reference-pubsub": latency(40, 0)}

    assert compare(run, LOADS["L2"])["against"] == "reference-pubsub"


def test_steal_is_the_share_of_the_cpus_time_the_hypervisor_took():
    # user nice system idle iowait irq softirq steal guest guest_nice
    before = {"cpu": [100, 0, 0, 100, 0, 0, 0, 0, 0, 0], "cpu1": [50, 0, 0, 50, 0, 0, 0, 0, 0, 0]}
    after = {"cpu": [160, 0, 0, 120, 0, 0, 0, 20, 0, 0], "cpu1": [90, 0, 0, 50, 0, 0, 0, 10, 0, 0]}

    assert steal(before, after, {1}) == {"percent": 20.0, "by_cpu": {"cpu1": 20.0}, "server_cpus": [1]}


def sustained_report(p99_by_second: list[float | None]) -> dict[str, Any]:
    return {
        "connections": {"failed": 0},
        "server": {},
        "deliveries": {"lost": 0, "duplicates": 0, "expected": 100},
        "messages": {"refused": 0},
        "closed_unexpectedly": 0,
        "latency_by_second_ms": {"p99": p99_by_second},
    }


def test_one_slow_second_fails_the_sustained_run_and_is_named():
    ok, why = judge(sustained_report([12.0, 15.0, 480.0, None, 14.0]), LOADS["sustained"])

    assert not ok
    assert why == ["1 seconds with p99 >= 100 ms (worst 480.0 ms)"]
    assert judge(sustained_report([12.0, 15.0, 99.0]), LOADS["sustained"]) == (True, [])


def test_the_pubsub_layers_clean_up_traceback_is_not_a_problem_but_any_other_is(tmp_path):
    cleanup = [
        "Unexpected exception while cleaning-up channel:",
        "Traceback (most recent call last):",
        '  File "channels_redis/pubsub.py", line 176, in receive',
        "asyncio.exceptions.CancelledError",
        "",
        "During handling of the above exception, another exception occurred:",
        "",
        "Traceback (most recent call last):",
        '  File "channels_redis/pubsub.py", line 190, in receive',
        "asyncio.exceptions.CancelledError",
    ]
    other = ["Exception inside application: boom", "Traceback (most recent call last):", "ValueError: boom"]
    server = ServerProcess("reference-pubsub", "daphne", {}, port=1)
    server.log_path = tmp_path / "server.log"

    server.log_path.write_text("\n".join(cleanup))
    assert server.problems() == []

    server.log_path.write_text("\n".join([*cleanup, *other]))
    assert server.problems() == ["Traceback (most recent call last):"]
