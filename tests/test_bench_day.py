"""The clinic's day (bench/day.py, issue 25 point 4): its schedule, its judgement, its plot, and a small day.

The smoke runs `bench run --load day` small: 3 sessions of 20 s on 2 workers (PostgreSQL and
Redis), driven as the full day drives them (start, prompt, floors, a round, two guests
admitted from the lobby, a third of the members dropping and resuming with ?since=, the
end). It checks that every step happened and that no client missed a message or got one
twice. No timing is judged: the day's figures come from the 30-minute run on a quiet machine.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from bench.clinic import clinic
from bench.day import MEMBERS, Plan, run_day, summarise
from bench.svgplot import day_svg
from tests.services import require_services


def live_at(plan: Plan, moment: float) -> int:
    return sum(1 for start in plan.starts() if start <= moment < start + plan.session_seconds)


def test_the_day_keeps_a_third_of_its_sessions_live_from_the_first_minute_to_the_last():
    plan = Plan()  # 100 sessions over 30 minutes, each live 10

    assert len(plan.starts()) == 100 and plan.session_seconds == 600
    assert max(plan.starts()) + plan.session_seconds <= 31 * 60  # over by a cohort's spread at most
    assert all(33 <= live_at(plan, moment) <= 34 for moment in range(60, 30 * 60, 5))


def test_the_cohorts_are_dealt_round():
    plan = Plan(minutes=3, sessions=10)

    cohorts = [sum(1 for start in plan.starts() if start // plan.session_seconds == c) for c in range(3)]

    assert cohorts == [4, 3, 3]


def day_report(rss: list[list[int]], lost: int = 0) -> dict:
    return {
        "samples": [
            {"t": 30.0 * n, "rss_kib": kib, "db_connections": 12, "db_bytes": 10 << 20, "steal_percent": 0.0}
            for n, kib in enumerate(rss)
        ],
        "latency_by_minute_ms": [{"minute": 0, "p99": 40.0}, {"minute": 1, "p99": 60.0}],
        "deliveries": {"lost": lost, "expected": 100, "duplicates": 0, "leaked_to_guests_before_admission": 0},
        "problem_count": 0,
        "problems": [],
        "messages": {"refused": 0},
        "timers": {"floor_expiry_late_s": {"all": {"max": 0.2}}},
    }


def test_rss_growing_by_5_percent_after_the_warm_up_fails_the_day():
    plan = Plan(minutes=3, sessions=10)  # warm-up: the first 30 s

    flat = summarise(day_report([[100_000], [110_000], [112_000], [114_000]]), plan)
    grows = summarise(day_report([[100_000], [110_000], [113_000], [116_000]]), plan)

    assert flat["ok"], flat["why_not"]
    assert flat["rss"][0]["growth_after_warm"] == pytest.approx(0.0364, abs=1e-4)
    assert not grows["ok"] and "RSS grew" in grows["why_not"][0]


def test_a_lost_message_fails_the_day():
    summary = summarise(day_report([[100_000], [100_000]], lost=1), Plan(minutes=3, sessions=10))

    assert not summary["ok"] and summary["why_not"] == ["lost 1 of 100"]


def test_the_plot_is_an_svg_of_three_panels():
    report = day_report([[100_000, 90_000], [101_000, 91_000]])
    document = {
        "report": report,
        "plan": {"minutes": 3, "sessions": 10, "members": MEMBERS},
        "config": {"workers": 2},
        "when": "2026-12-07T05:00:00+00:00",
        "summary": {"ok": True},
    }

    root = ET.fromstring(day_svg(document))  # noqa: S314 - our own output

    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    titles = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text") if t.get("font-weight") == "bold"]
    assert titles[1:] == ["Each worker's RSS", "p99 of live deliveries, per minute", "PostgreSQL: connections and size"]
    assert len(list(root.iter("{http://www.w3.org/2000/svg}polyline"))) == 5  # 2 workers, target, conns, size


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.services
@pytest.mark.timeout(240)
def test_a_small_day_every_step_taken_nothing_lost_nothing_twice():
    require_services()
    plan = Plan(minutes=1, sessions=3)  # a cohort of one session each, 20 s live
    with clinic("production") as made:
        made.provision_people(1, MEMBERS - 1)  # 12 people: password hashing is the set-up cost
        report, summary = run_day(made, plan, workers=2)

    steps = report["steps"]
    assert steps["start"] == steps["end"] == steps["prompt"] == steps["round"] == 3, steps
    assert steps["guest_admitted"] == 6, steps  # two a session, through the lobby
    assert steps["drop"] == steps["back"] == 12, steps  # a third of each session's 12 members
    assert report["problems"] == [] and report["server_problems"] == [], report["problems"]
    deliveries = report["deliveries"]
    assert deliveries["expected"] > 0, deliveries
    assert deliveries["lost"] == deliveries["duplicates"] == 0, deliveries
    assert deliveries["leaked_to_guests_before_admission"] == 0, deliveries
    assert report["messages"]["refused"] == 0, report["messages"]
    assert not [key for key in report["counts"] if key.startswith("closed_unexpectedly")], report["counts"]
    assert len(summary["rss"]) == 2 and report["samples"], summary
