#!/usr/bin/env bash
# The table of docs/performance.md: every load on every configuration, Circle beside the
# reference in each run, three runs each (the table shows the median and the spread).
#
#   bench/run-all.sh                 # everything (several hours on 2 cores)
#   RUNS=1 bench/run-all.sh          # one run each, for a first look
#   ONLY="L1 L2" bench/run-all.sh    # some loads only (L1 L2 L3 sustained C1 storm day)
#
# Needs PostgreSQL and Redis for the production rows (BENCH_POSTGRES_URL,
# BENCH_REDIS_URL; defaults: postgres://postgres@127.0.0.1:5432/postgres,
# redis://127.0.0.1:6379/0). Run it on a quiet machine: the servers are pinned to
# CPU 1 and the load generator to CPU 0, and anything else running skews both.
# Each invocation writes bench/results/<stamp>-<load>-<config>-<server>-w<n>.json;
# the table is printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
RUNS=${RUNS:-3}
ONLY=${ONLY:-"L1 L2 L3 sustained C1 storm day"}
started=$(date +%Y%m%d-%H%M%S)
mkdir -p bench/results

bench() { "$PY" -m bench run --runs "$RUNS" --no-fail "$@"; }
wanted() { [[ " $ONLY " == *" $1 "* ]]; }

for load in L1 L2 L3; do
  wanted "$load" || continue
  bench --config embedded --load "$load"
  bench --config production --load "$load"
  bench --config production --workers 2 --load "$load"
  bench --config production --server uvicorn --load "$load"
done
if wanted sustained; then
  # The stall's watch (issue 25): a minute at 80 % of L3, every second's p99 under 100 ms; Circle alone.
  bench --config production --load sustained --targets circle
fi
if wanted C1; then
  for connections in 2000 5000; do
    bench --config embedded --load C1 --connections "$connections"
    bench --config production --load C1 --connections "$connections"
  done
fi
if wanted storm; then
  # A reconnect storm (issue 25): one of two workers stopped mid-run; Circle alone (the tutorial has no ?since).
  bench --config production --workers 2 --load storm
fi
if wanted day; then
  # A clinic's day compressed into 30 minutes on two workers; the day takes no --runs: one JSON per run.
  for _ in $(seq "$RUNS"); do "$PY" -m bench run --no-fail --config production --load day; done
fi

"$PY" -m bench table $(find bench/results -name '*.json' -newermt "${started:0:8} ${started:9:2}:${started:11:2}:${started:13:2}" | sort)
