"""Throughput, request cost, rate-limit manners and memory of the installed tap-gong-calls.

Each case starts the Gong emulator (package gong_emulator) in this process (with a server
rate limit and a latency), runs the installed ``tap-gong-calls`` as a whole process, and reads the
emulator's request log and the tap's Singer output. Prints a Markdown table and PASS/FAIL per
criterion; exits 1 if any criterion fails.

Run it from the repository root:

    python -m benchmarks.throughput            # full sizes (a few minutes)
    python -m benchmarks.throughput --quick    # smoke run, under a minute
"""

from __future__ import annotations

import argparse
import base64
import bisect
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from gong_emulator import GongEmulator, RequestRecord, seed_calls
from tests.tap_runner import catalog_selecting

KEY, SECRET = "bench-key", "bench-secret"
CALLS_START = datetime(2024, 1, 1, tzinfo=UTC)
SPACING = timedelta(minutes=5)
MARGIN = timedelta(days=30)  # date-range mode starts this long before the first call
TOLERANCE = 0.005  # seconds of clock and scheduling slack in the Retry-After check
TAP_TIMEOUT = 1800.0
CASE_GROUPS = (
    "per-id",
    "batched",
    "date-range",
    "date-range-latency",
    "memory",
    "over-limit",
    "shared-quota",
)
COMPETITOR_MARK = "other-client"  # query parameter naming the competing client's requests
# The adaptive rate's targets: at most this share of 429s, at least this share of what is left.
MAX_429_SHARE = 0.05
MIN_SHARE_OF_AVAILABLE = 0.85


@dataclass(frozen=True)
class Case:
    name: str
    mode: str  # "ids" or "range"
    calls: int
    server_limit: float | None  # None: the emulator does not rate limit
    latency: float
    tap_limit: float
    batch: bool = False
    retry_after_style: str = "float"
    competitor_rate: float = 0.0  # requests/second another client sends on the same quota

    @property
    def available(self) -> float | None:
        """Requests/second the server leaves the tap."""
        return None if self.server_limit is None else self.server_limit - self.competitor_rate


@dataclass
class Result:
    case: Case
    returncode: int
    wall: float
    peak_rss_mib: float
    log: list[RequestRecord]
    retry_afters: list[tuple[float, float]]  # (answered at, Retry-After seconds) per 429
    emitted: list[str]
    expected: set[str]
    stderr: str
    others: list[RequestRecord] = field(default_factory=list)  # the competing client's

    @property
    def admitted(self) -> int:
        return self.requests - self.rejected

    @property
    def admitted_rate(self) -> float:
        """Admitted requests/second: intervals between first and last start over that span."""
        span = self.log[-1].started_at - self.log[0].started_at if self.log else 0.0
        return (self.admitted - 1) / span if span > 0 else float("nan")

    @property
    def share_of_available(self) -> float | None:
        available = self.case.available
        return self.admitted_rate / available if available else None

    @property
    def rate_at_end(self) -> str:
        found = re.search(r"rate at end ([\d.]+)/s", self.stderr)
        return found[1] if found else "?"

    @property
    def requests(self) -> int:
        return len(self.log)

    @property
    def rejected(self) -> int:
        return sum(1 for record in self.log if record.status == 429)

    @property
    def log_rate(self) -> float:
        """Request starts per second: intervals between first and last start over that span."""
        span = self.log[-1].started_at - self.log[0].started_at if self.log else 0.0
        return (self.requests - 1) / span if span > 0 else float("nan")

    @property
    def wall_rate(self) -> float:
        return self.requests / self.wall

    @property
    def ratio(self) -> float | None:
        limit = self.case.server_limit
        return self.log_rate / limit if limit else None

    @property
    def requests_per_call(self) -> float:
        return self.requests / max(1, self.case.calls)

    def retry_after_check(self) -> tuple[float | None, int, int]:
        """Worst margin (first start after a 429's answer minus answer + Retry-After), the
        number of starts before that (violations) and of starts within TOLERANCE of the answer
        (sent before the tap could have read the 429)."""
        starts = [record.started_at for record in self.log]
        worst: float | None = None
        violations = in_transit = 0
        for answered, wait in self.retry_afters:
            first = bisect.bisect_right(starts, answered + TOLERANCE)
            in_transit += first - bisect.bisect_right(starts, answered)
            violations += max(0, bisect.bisect_left(starts, answered + wait - TOLERANCE) - first)
            if first < len(starts):
                margin = starts[first] - (answered + wait)
                worst = margin if worst is None else min(worst, margin)
        return worst, violations, in_transit

    def summary_counts(self) -> tuple[int, int] | None:
        """``requests N, 429s N`` from the tap's closing Summary line."""
        found = re.search(r"Summary: .*requests (\d+), 429s (\d+)", self.stderr)
        return (int(found[1]), int(found[2])) if found else None


class RecordingEmulator(GongEmulator):
    """The emulator, also noting when each 429 was answered and the Retry-After it carried.

    The answer time is taken here, not from ``started_at``: the emulator sleeps its latency
    before it checks the rate limit, so a 429 leaves ``latency`` seconds after its request came.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.retry_afters: list[tuple[float, float]] = []  # the tap's only

    def _answer(self, request: RequestRecord, *, enforce_access: bool = True) -> Any:
        reply = super()._answer(request, enforce_access=enforce_access)
        tap = COMPETITOR_MARK not in request.query
        if tap and reply.status == 429 and reply.retry_after is not None:
            self.retry_afters.append((time.monotonic(), float(reply.retry_after)))
        return reply


class Competitor(threading.Thread):
    """Another integration on the same company quota: one GET every 1 / rate seconds.

    It sends on its own schedule, whatever the answer: a steady load the tap has to share with.
    """

    def __init__(self, url: str, rate: float) -> None:
        super().__init__(name="competitor", daemon=True)
        self.url, self.interval = f"{url}/v2/calls/{{}}?{COMPETITOR_MARK}=1", 1.0 / rate
        self.stopped = threading.Event()
        self.call_id = ""

    def run(self) -> None:
        token = base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
        next_start = time.monotonic()
        while not self.stopped.wait(max(0.0, next_start - time.monotonic())):
            next_start += self.interval
            request = urllib.request.Request(
                self.url.format(self.call_id), headers={"Authorization": f"Basic {token}"}
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as reply:
                    reply.read()
            except urllib.error.HTTPError:
                pass  # a 429 is the emulator's to log; this client does not retry


def tap_executable() -> str:
    beside_python = Path(sys.executable).parent / "tap-gong-calls"
    found = str(beside_python) if beside_python.exists() else shutil.which("tap-gong-calls")
    if not found:
        sys.exit("tap-gong-calls is not installed: run `pip install -e .[dev]` first")
    return found


def utc(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def tap_config(case: Case, url: str, ids: list[str]) -> dict[str, Any]:
    if case.mode == "ids":
        config = base_config(url, case.tap_limit)
        return config | {"call_ids": ids, "batch_call_ids": case.batch}
    return range_config(url, case.tap_limit, case.calls, MARGIN)


def base_config(url: str, tap_limit: float) -> dict[str, Any]:
    return {
        "access_key": KEY,
        "access_key_secret": SECRET,
        "api_url": url,
        "requests_per_second": tap_limit,
    }


def range_config(url: str, tap_limit: float, calls: int, margin: timedelta) -> dict[str, Any]:
    """Date-range mode over seed_calls(calls) with ``margin`` empty on each side."""
    last = CALLS_START + (calls - 1) * SPACING
    return base_config(url, tap_limit) | {
        "start_date": utc(CALLS_START - margin),
        "end_date": utc(last + margin),
    }


# Linux carries the hiwater RSS of the memory image a process had before exec() into its
# ru_maxrss, so a tap spawned straight from this (large) process would report our own RSS.
# This small launcher forks the tap from a fresh interpreter and reports the tap's wait4 rusage.
LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as report:
    report.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_tap(
    tap: str,
    config: dict[str, Any],
    streams: tuple[str, ...] | None = ("calls",),
    state: dict[str, Any] | None = None,
) -> tuple[int, float, float, str, str]:
    """Run the tap once with ``streams`` selected (None: all), from ``state`` if given; exit
    code, wall seconds, peak RSS (MiB), stdout, stderr."""
    with tempfile.TemporaryDirectory() as folder:
        config_path, rss_path = Path(folder, "config.json"), Path(folder, "maxrss")
        config_path.write_text(json.dumps(config))
        out_path, err_path = Path(folder, "stdout"), Path(folder, "stderr")
        command = [sys.executable, "-c", LAUNCHER, str(rss_path), tap, "--config", str(config_path)]
        if streams is not None:
            catalog_path = Path(folder, "catalog.json")
            catalog_path.write_text(json.dumps(catalog_selecting(config, streams)))
            command += ["--catalog", str(catalog_path)]
        if state is not None:
            state_path = Path(folder, "state.json")
            state_path.write_text(json.dumps(state))
            command += ["--state", str(state_path)]
        with out_path.open("wb") as out, err_path.open("wb") as err:
            started = time.monotonic()
            process = subprocess.Popen(
                command, stdout=out, stderr=err, cwd=folder, start_new_session=True
            )
            timer = threading.Timer(TAP_TIMEOUT, os.killpg, (process.pid, signal.SIGKILL))
            timer.start()
            returncode = process.wait()
            wall = time.monotonic() - started
            timer.cancel()
        stdout, stderr = out_path.read_text(), err_path.read_text()
        peak_kib = int(rss_path.read_text()) if rss_path.exists() else 0
    return returncode, wall, peak_kib / 1024, stdout, stderr


def run_case(case: Case, tap: str) -> Result:
    calls = seed_calls(case.calls, utc(CALLS_START), SPACING)
    ids = [str(call["id"]) for call in calls]
    emulator = RecordingEmulator(
        access_key=KEY,
        access_key_secret=SECRET,
        rate_limit_per_second=case.server_limit,
        latency_seconds=case.latency,
        retry_after_style=case.retry_after_style,
    )
    emulator.add_calls(calls)
    del calls
    print(f"running {case.name}: {case.calls} calls ...", file=sys.stderr, flush=True)
    with emulator:
        competitor = Competitor(emulator.url, case.competitor_rate or 1.0)
        competitor.call_id = ids[0]
        if case.competitor_rate:
            competitor.start()
        returncode, wall, rss, stdout, stderr = run_tap(tap, tap_config(case, emulator.url, ids))
        competitor.stopped.set()
        if competitor.is_alive():
            competitor.join()
        log = emulator.requests
    others = [record for record in log if COMPETITOR_MARK in record.query]
    log = [record for record in log if COMPETITOR_MARK not in record.query]
    emitted = []
    for line in stdout.splitlines():
        message = json.loads(line)
        if message.get("type") == "RECORD":
            emitted.append(str(message["record"]["id"]))
    return Result(
        case,
        returncode,
        wall,
        rss,
        log,
        sorted(emulator.retry_afters),
        emitted,
        set(ids),
        stderr,
        others,
    )


def build_cases(args: argparse.Namespace) -> list[Case]:
    small, large = args.memory_calls
    cases = {
        "per-id": [Case("per-id", "ids", args.ids, 3, 0.6, 3)],
        "batched": [Case("batched", "ids", args.batch_ids, 3, 0.6, 3, batch=True)],
        "date-range": [Case("date-range", "range", args.range_calls, 3, 0.3, 3)],
        "date-range-latency": [
            Case(f"date-range {latency:g} s", "range", args.latency_calls, 3, latency, 3)
            for latency in (0.3, 1.0, 2.0)
        ],
        "memory": [
            Case(f"memory {small}", "range", small, None, 0.0, 1000),
            Case(f"memory {large}", "range", large, None, 0.0, 1000),
        ],
        "over-limit": [Case("over-limit", "ids", args.shared_ids, 3, 0.3, 6)],
        "shared-quota": [
            Case("shared-quota", "ids", args.shared_ids, 3, 0.3, 3, competitor_rate=1.0)
        ],
    }
    return [case for group in args.cases for case in cases[group]]


@dataclass
class Checks:
    rows: list[tuple[str, str, bool, str]] = field(default_factory=list)

    def add(self, case: str, criterion: str, passed: bool, detail: str) -> None:
        self.rows.append((case, criterion, passed, detail))

    @property
    def failed(self) -> bool:
        return not all(passed for _, _, passed, _ in self.rows)


def check_result(result: Result, checks: Checks) -> None:
    name, case = result.case.name, result.case
    checks.add(name, "exit code 0", result.returncode == 0, f"exit {result.returncode}")
    counts: dict[str, int] = {}
    for call_id in result.emitted:
        counts[call_id] = counts.get(call_id, 0) + 1
    missing = len(result.expected - counts.keys())
    twice = sum(1 for n in counts.values() if n > 1)
    extra = len(counts.keys() - result.expected)
    checks.add(
        name,
        "every call id emitted exactly once",
        missing == twice == extra == 0,
        f"{len(result.emitted)} records; {missing} missing, {twice} repeated, {extra} unexpected",
    )
    logged = (result.requests, result.rejected)
    summary = result.summary_counts()
    checks.add(
        name,
        "tap Summary line agrees with the emulator log",
        summary == logged,
        f"tap (requests, 429s) {summary}, log {logged}",
    )
    if name == "per-id":
        ratio = result.ratio or 0.0
        checks.add(name, "achieved >= 95% of limit", ratio >= 0.95, f"ratio {ratio:.3f}")
        checks.add(name, "zero 429s", result.rejected == 0, f"{result.rejected} 429s")
    elif name == "batched":
        allowed = 0.01 * case.calls + 1
        checks.add(
            name,
            "requests per call <= 0.01 (+1 fallback probe)",
            result.requests <= allowed,
            f"{result.requests} requests for {case.calls} ids (allowed {allowed:g})",
        )
    elif name.startswith("date-range ") and case.server_limit:
        # Issue 10: wall time at most 1.3 x (requests / limit) + 3 s, no 429.
        allowed = 1.3 * result.requests / case.server_limit + 3
        checks.add(
            name,
            "wall <= 1.3 x requests / limit + 3 s, no 429",
            result.wall <= allowed and result.rejected == 0,
            f"{result.wall:.1f} s for {result.requests} requests (allowed {allowed:.1f} s), "
            f"{result.rejected} 429s, ratio {result.ratio or 0:.3f}",
        )
    if name in ("over-limit", "shared-quota"):
        check_adaptive_rate(result, checks)
    if name in ("over-limit", "shared-quota"):
        worst, violations, in_transit = result.retry_after_check()
        worst_text = "n/a" if worst is None else f"{worst * 1000:+.1f} ms"
        admitted = (result.requests - result.rejected) / result.wall
        checks.add(
            name,
            "no request before a Retry-After passed",
            violations == 0 and (worst is None or worst >= -TOLERANCE),
            f"{len(result.retry_afters)} 429s, worst margin {worst_text}, "
            f"{violations} early starts, {in_transit} already in transit; "
            f"{admitted:.2f} admitted req/s over the wall time",
        )


def check_adaptive_rate(result: Result, checks: Checks) -> None:
    """Few 429s, and most of the rate the server leaves the tap put to use."""
    name, available = result.case.name, result.case.available or 0.0
    share_429 = result.rejected / max(1, result.requests)
    checks.add(
        name,
        f"at most {MAX_429_SHARE:.0%} of requests answered 429",
        share_429 <= MAX_429_SHARE,
        f"{result.rejected} of {result.requests} ({share_429:.1%})",
    )
    share = result.share_of_available or 0.0
    checks.add(
        name,
        f"admitted req/s >= {MIN_SHARE_OF_AVAILABLE:.0%} of the {available:g}/s left",
        share >= MIN_SHARE_OF_AVAILABLE,
        f"{result.admitted_rate:.2f} req/s, {share:.3f} of {available:g}; rate at end "
        f"{result.rate_at_end}/s",
    )


def check_memory(results: list[Result], checks: Checks) -> None:
    memory = [result for result in results if result.case.name.startswith("memory")]
    if len(memory) != 2:
        return
    small, large = sorted(memory, key=lambda result: result.case.calls)
    growth = large.peak_rss_mib / small.peak_rss_mib - 1
    checks.add(
        "memory",
        f"peak RSS with {large.case.calls} calls within 10% of {small.case.calls}",
        abs(growth) <= 0.10,
        f"{large.peak_rss_mib:.1f} vs {small.peak_rss_mib:.1f} MiB ({growth:+.1%})",
    )


def table(results: list[Result]) -> str:
    header = (
        "| case | mode | calls | server limit (req/s) | latency (s) | tap limit (req/s) "
        "| wall s | requests | achieved req/s (log span; wall) | ratio to server limit "
        "| 429s | requests per call | peak RSS MiB |"
    )
    lines = [header, "|" + "---|" * header.count(" | ") + "---|"]
    for result in results:
        case = result.case
        lines.append(
            f"| {case.name} | {case.mode}{' batched' if case.batch else ''} | {case.calls} "
            f"| {case.server_limit or 'none'} | {case.latency:g} | {case.tap_limit:g} "
            f"| {result.wall:.1f} | {result.requests} "
            f"| {result.log_rate:.2f}; {result.wall_rate:.2f} "
            f"| {'-' if result.ratio is None else f'{result.ratio:.3f}'} "
            f"| {result.rejected} | {result.requests_per_call:.4f} | {result.peak_rss_mib:.1f} |"
        )
    return "\n".join(lines)


def adaptive_table(results: list[Result]) -> str:
    """The cases where the tap has to find the rate the server grants it."""
    header = (
        "| case | tap limit (req/s) | other client (req/s) | left for the tap (req/s) "
        "| requests | 429s | admitted req/s | share of what was left | wall s | rate at end "
        "| other client's requests (429s) |"
    )
    lines = [header, "|" + "---|" * header.count(" | ") + "---|"]
    for result in results:
        case = result.case
        if case.name not in ("over-limit", "shared-quota"):
            continue
        share_429 = result.rejected / max(1, result.requests)
        lines.append(
            f"| {case.name} | {case.tap_limit:g} | {case.competitor_rate:g} "
            f"| {case.available:g} | {result.requests} | {result.rejected} ({share_429:.1%}) "
            f"| {result.admitted_rate:.2f} | {result.share_of_available or 0:.3f} "
            f"| {result.wall:.1f} | {result.rate_at_end} "
            f"| {len(result.others)} ({sum(1 for r in result.others if r.status == 429)}) |"
        )
    return "\n".join(lines) if len(lines) > 2 else ""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.throughput", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke run")
    parser.add_argument(
        "--cases",
        type=lambda text: [name.strip() for name in text.split(",")],
        default=list(CASE_GROUPS),
        help=f"comma-separated, of {', '.join(CASE_GROUPS)} (default: all)",
    )
    parser.add_argument("--ids", type=int, help="ids of the per-id case (60)")
    parser.add_argument(
        "--shared-ids", type=int, help="ids of the over-limit and shared-quota cases (120)"
    )
    parser.add_argument("--batch-ids", type=int, help="ids of the batched case (1000)")
    parser.add_argument("--range-calls", type=int, help="calls of the date-range case (2000)")
    parser.add_argument(
        "--latency-calls", type=int, help="calls of the date-range-latency cases (5000)"
    )
    parser.add_argument(
        "--memory-calls", type=int, nargs=2, metavar=("SMALL", "LARGE"), help="(20000 40000)"
    )
    args = parser.parse_args(argv)
    unknown = set(args.cases) - set(CASE_GROUPS)
    if unknown:
        parser.error(f"unknown cases {sorted(unknown)}; choose from {', '.join(CASE_GROUPS)}")
    quick = (30, 200, 300, [5000, 10000], 60, 500)
    defaults = quick if args.quick else (60, 1000, 2000, [20000, 40000], 120, 5000)
    names = ("ids", "batch_ids", "range_calls", "memory_calls", "shared_ids", "latency_calls")
    for name, default in zip(names, defaults, strict=True):
        if getattr(args, name) is None:
            setattr(args, name, default)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tap = tap_executable()
    results = [run_case(case, tap) for case in build_cases(args)]
    checks = Checks()
    for result in results:
        check_result(result, checks)
    check_memory(results, checks)
    print(table(results))
    print()
    if adaptive := adaptive_table(results):
        print(adaptive)
        print()
    for case, criterion, passed, detail in checks.rows:
        print(f"- {'PASS' if passed else 'FAIL'} {case}: {criterion} ({detail})")
    for result in results:
        if result.returncode != 0:
            tail = "\n".join(result.stderr.splitlines()[-10:])
            print(f"\n{result.case.name} stderr tail:\n{tail}")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
