"""The bench's CPU per delivery counts the drain: a server that fell behind is not made to look cheaper.

A server that cannot keep up delivers part of the window's messages after the last
send, during the drain. Those deliveries are counted as received, so their CPU must
be counted too; how busy the server was (`cpu_percent`) stays the window's.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

from bench.run import LOADS, _server_report
from bench.servers import ServerGroup


def group_of_one_worker() -> ServerGroup:
    """A stand-in: the report reads only the group's processes and pids."""
    return cast(ServerGroup, SimpleNamespace(processes=[object()], pids=lambda: [4242]))


def report_received(received: int) -> dict:
    return {"deliveries": {"received": received}}


def test_deliveries_late_into_the_drain_are_paid_for_with_the_drains_cpu():
    # 10 s window at full load (10 CPU s), then 10 more CPU s to deliver the backlog.
    samples = {"cpu_open": 100.0, "cpu_close": 110.0, "cpu_drained": 120.0, "t_open": 0.0, "t_close": 10.0}

    server = _server_report(group_of_one_worker(), samples, report_received(1000), LOADS["L2"])

    assert server["cpu_percent"] == 100.0
    assert server["cpu_seconds"] == 10.0
    assert server["cpu_seconds_with_drain"] == 20.0
    assert server["cpu_us_per_delivery"] == 20000.0  # not 10000: the window's CPU alone


def test_a_server_that_kept_up_costs_the_same_either_way():
    samples = {"cpu_open": 5.0, "cpu_close": 7.0, "cpu_drained": 7.0, "t_open": 0.0, "t_close": 20.0}

    server = _server_report(group_of_one_worker(), samples, report_received(400), LOADS["L1"])

    assert server["cpu_percent"] == 10.0
    assert server["cpu_us_per_delivery"] == 5000.0


def test_nothing_received_gives_no_cost_rather_than_a_division_by_zero():
    samples = {"cpu_open": 5.0, "cpu_close": 7.0, "cpu_drained": 9.0, "t_open": 0.0, "t_close": 20.0}

    server = _server_report(group_of_one_worker(), samples, report_received(0), LOADS["L1"])

    assert server["cpu_us_per_delivery"] is None
    assert server["cpu_seconds_with_drain"] == 4.0
