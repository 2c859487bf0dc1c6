"""The reconnect storm works, small: 2 workers, 60 clients, one worker stopped; everyone back, every seq once.

A smoke of `python -m bench run --config production --workers 2 --load storm` at 10 rooms x 6
(60 clients; 6 people to sign in, for a short set-up).
It checks what the storm is for (issue 25, item 3): the stopped worker's clients were closed
with 1012, every one of them came back on the other worker, and every client holds every
seq of its room exactly once (live frames plus the ?since catch-up, against the database).
No timing is judged: the figures belong in docs/performance.md, measured on a quiet machine.
"""

from __future__ import annotations

import dataclasses
import random
from collections import Counter

import pytest

from bench.clinic import clinic
from bench.run import LOADS, Options
from bench.storm import BACKOFF_SECONDS, backoff_delay, run_storm, seq_check
from tests.services import require_services


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.services
@pytest.mark.timeout(120)
def test_storm_smoke_everyone_back_every_seq_once():
    require_services()
    load = dataclasses.replace(LOADS["storm"], rooms=10, clients=6, duration=6, warmup=1, drain=10)
    with clinic("production") as made:
        made.provision_people(1, load.clients - 1)  # 6 people: password hashing is the set-up cost
        report = run_storm(made, load, Options(config="production", workers=2, server_cpus=None))
    assert report["connections"]["made"] == 60, report["connections"]
    storm = report["storm"]
    assert storm["clients_closed"] > 0, storm  # the SIGTERM reached the stopped worker's clients...
    assert storm["close_codes"] == {"1012": storm["clients_closed"]}, storm  # ...with 1012 (rooms/shutdown.py)
    assert storm["clients_not_back"] == 0 and storm["final_closes"] == [], storm
    assert storm["last_back_after_sigterm_s"] is not None  # measured, not judged
    assert report["server"]["victim_exit_code"] is not None, report["server"]  # the worker did stop
    seqs = report["seqs"]
    assert seqs["expected"] > 0, seqs
    assert (seqs["missing"], seqs["duplicated"], seqs["unexpected"]) == (0, 0, 0), report["per_client"]
    assert report["messages"]["never_acknowledged"] == 0 and report["messages"]["refused"] == {}, report["messages"]
    assert report["server"]["problems"] == [], report["server"]["problems"]
    assert report["ok"], report["why_not"]


def test_storm_backoff_is_the_pages():
    """socket.js: the table's step for the attempt, times a jitter of 0.75 to 1.25; the last step repeats."""
    rng = random.Random(7)
    for attempt in range(10):
        base = BACKOFF_SECONDS[min(attempt, len(BACKOFF_SECONDS) - 1)]
        delays = [backoff_delay(attempt, rng) for _ in range(200)]
        assert all(0.75 * base <= delay <= 1.25 * base for delay in delays)
        assert max(delays) - min(delays) > 0.4 * base  # jittered, not fixed
    assert BACKOFF_SECONDS == (0.5, 1, 2, 3, 5, 8)


def test_storm_seq_check_names_what_is_missing_twice_or_unexpected():
    received = Counter({4: 1, 5: 2, 7: 1, 9: 1})
    assert seq_check({4, 5, 6, 7}, received) == {"missing": [6], "duplicated": [5], "unexpected": [9]}
    assert seq_check({4, 5}, Counter({4: 1, 5: 1})) == {"missing": [], "duplicated": [], "unexpected": []}
