"""The daily request budget: a backfill in runs of 20 requests against one unbudgeted run.

5,000 calls (5 minutes apart, the range 30 days wider on each side, as throughput.py's
date-range case), the `calls` stream, server and tap at 3 requests/s with 0.3 s of latency.
First one run with a budget that does not bind; then runs with ``daily_request_budget: 20``,
each from the last STATE of the one before, until one ends without the budget line. Between
runs the state's usage is moved a day back, as if each run were the next day's.

Criteria: every run exits 0 and sends at most 20 requests, every call is emitted exactly once
across the runs (lookback 0: runs share no window), and the runs' requests together are
within 5 % of the unbudgeted run's. Prints a Markdown table; exits 1 if a criterion fails.

    python -m benchmarks.budget                  # 5,000 calls, 20 a run
    python -m benchmarks.budget --calls 2000 --budget 10
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time
from typing import Any

from benchmarks.throughput import KEY, SECRET, SPACING, RecordingEmulator, range_config
from gong_emulator import seed_calls
from tests.tap_runner import run_tap

MAX_RUNS = 40


def a_day_earlier(state: dict[str, Any]) -> dict[str, Any]:
    """``state`` with its recorded usage moved 25 hours back: the next day's run."""
    calls = dict(state["bookmarks"]["calls"])
    shifted = []
    for hour, count in calls.get("requests", []):
        moment = datetime.datetime.fromisoformat(hour.replace("Z", "+00:00"))
        earlier = moment - datetime.timedelta(hours=25)
        shifted.append([earlier.isoformat().replace("+00:00", "Z"), count])
    calls["requests"] = shifted
    return {**state, "bookmarks": {**state["bookmarks"], "calls": calls}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--budget", type=int, default=20)
    args = parser.parse_args()
    calls = seed_calls(args.calls, spacing=SPACING)
    expected = sorted(str(c["id"]) for c in calls)
    emulator = RecordingEmulator(
        access_key=KEY, access_key_secret=SECRET, rate_limit_per_second=3, latency_seconds=0.3
    )
    emulator.add_calls(calls)
    rows: list[tuple[str, int, int, int, float, str]] = []
    failures: list[str] = []
    with emulator:
        config = range_config(emulator.url, 3, args.calls, datetime.timedelta(days=30))
        config |= {"access_key": KEY, "access_key_secret": SECRET, "lookback_days": 0}
        started = time.monotonic()
        whole = run_tap({**config, "daily_request_budget": 1_000_000}, timeout=600)
        wall = time.monotonic() - started
        unbudgeted = len(emulator.requests)
        rows.append(("unbudgeted", whole.returncode, unbudgeted, len(whole.ids), wall, "-"))
        if whole.returncode != 0 or sorted(whole.ids) != expected:
            failures.append("unbudgeted run: exit or records")
        emitted: list[str] = []
        state: dict[str, Any] | None = None
        for number in range(1, MAX_RUNS + 1):
            emulator.reset_log()
            started = time.monotonic()
            run = run_tap({**config, "daily_request_budget": args.budget}, state=state)
            wall = time.monotonic() - started
            stopped = "budget reached" in run.stderr
            rows.append(
                (f"run {number}", run.returncode, len(emulator.requests), len(run.ids), wall,
                 "budget line" if stopped else "done")
            )  # fmt: skip
            emitted += run.ids
            if run.returncode != 0 or len(emulator.requests) > args.budget:
                failures.append(f"run {number}: exit {run.returncode}, {len(emulator.requests)}")
            if run.last_state is None or not stopped:
                break
            state = a_day_earlier(run.last_state)
    runs = rows[1:]
    total = sum(row[2] for row in runs)
    print("| run | exit | requests | calls emitted | wall s | ended with |")
    print("|---|---|---|---|---|---|")
    for name, code, requests, ids, wall, end in rows:
        print(f"| {name} | {code} | {requests} | {ids} | {wall:.1f} | {end} |")
    print(f"| {len(runs)} budgeted runs | - | {total} | {len(emitted)} | - | - |")
    once = sorted(emitted) == expected
    within = total <= 1.05 * unbudgeted
    print(f"\nevery call exactly once across runs: {'PASS' if once else 'FAIL'}")
    print(
        f"requests {total} vs {unbudgeted} unbudgeted ({total / unbudgeted - 1:+.1%}), "
        f"within 5 %: {'PASS' if within else 'FAIL'}"
    )
    for failure in failures:
        print(f"FAIL: {failure}")
    return 0 if once and within and not failures else 1


if __name__ == "__main__":
    sys.exit(main())
