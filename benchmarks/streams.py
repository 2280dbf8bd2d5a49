"""All four streams: request cost, throughput and peak memory of the installed tap-gong-calls.

Each case starts the Gong emulator (gong_emulator) in this process, with transcripts of
about ``--transcript-kb`` KB of JSON per call, runs the installed ``tap-gong-calls`` with every
stream selected as a whole process (through throughput.py's launcher, which reads its peak
RSS), and checks what it emitted against what the emulator holds. Prints a Markdown table and
PASS/FAIL per criterion; exits 1 if any fails.

Run it from the repository root:

    python -m benchmarks.streams            # memory 1,000 vs 4,000 calls; 2,000 at 1 s latency
    python -m benchmarks.streams --quick    # smoke run
    python -m benchmarks.streams --cases large   # 200 calls with ~1 MB transcripts, both modes
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from benchmarks.throughput import (
    CALLS_START,
    KEY,
    SECRET,
    SPACING,
    RecordingEmulator,
    range_config,
    run_tap,
    tap_executable,
    utc,
)
from gong_emulator import seed_calls

STREAMS = ("calls", "call_participants", "call_details", "call_transcripts")
# The range starts a day before the first call and ends a day after the last: a backfill of a
# busy period. (throughput.py's 30-day empty margins cost a few more requests for windows.)
MARGIN = timedelta(days=1)
LARGE_BYTES = 200_000  # transcripts above this are the large-transcript cases
CASE_GROUPS = ("memory", "large", "rate")


@dataclass(frozen=True)
class Case:
    name: str
    calls: int
    server_limit: float | None
    latency: float
    tap_limit: float
    transcript_bytes: int
    mode: str = "range"  # or "ids": the calls' ids as call_ids


@dataclass
class Result:
    case: Case
    returncode: int
    wall: float
    peak_rss_mib: float
    requests: int
    rejected: int
    span: float  # seconds from the first request's start to the last one's
    by_endpoint: Counter[str]
    records: Counter[str]
    transcript_calls: int  # distinct callIds among the transcripts
    stderr: str

    @property
    def achieved(self) -> float:
        """Successful requests per second over the run's requests (start-up excluded)."""
        return (self.requests - self.rejected - 1) / self.span if self.span > 0 else 0.0


def run_case(case: Case, tap: str) -> Result:
    calls = seed_calls(case.calls, utc(CALLS_START), SPACING)
    emulator = RecordingEmulator(
        access_key=KEY,
        access_key_secret=SECRET,
        rate_limit_per_second=case.server_limit,
        latency_seconds=case.latency,
        transcript_bytes=case.transcript_bytes,
    )
    emulator.add_calls(calls)
    print(f"running {case.name}: {case.calls} calls ...", file=sys.stderr, flush=True)
    with emulator:
        config = range_config(emulator.url, case.tap_limit, case.calls, MARGIN)
        if case.mode == "ids":
            config = {k: v for k, v in config.items() if not k.endswith("_date")}
            config["call_ids"] = [str(call["id"]) for call in calls]
        returncode, wall, rss, stdout, stderr = run_tap(tap, config, streams=None)  # every stream
        log = emulator.requests
    records: Counter[str] = Counter()
    transcript_calls: set[str] = set()
    for line in stdout.splitlines():
        message = json.loads(line)
        if message.get("type") == "RECORD":
            records[message["stream"]] += 1
            if message["stream"] == "call_transcripts":
                transcript_calls.add(message["record"]["callId"])
    return Result(
        case,
        returncode,
        wall,
        rss,
        len(log),
        sum(1 for r in log if r.status == 429),
        log[-1].started_at - log[0].started_at if log else 0.0,
        Counter(f"{r.method} {r.path}" for r in log),
        records,
        len(transcript_calls),
        stderr,
    )


def build_cases(args: argparse.Namespace) -> list[Case]:
    small, large = args.memory_calls
    size = args.transcript_kb * 1000
    big = args.large_transcript_kb * 1000
    groups = {
        "memory": [
            Case(f"memory {small}", small, None, 0.0, 1000, size),
            Case(f"memory {large}", large, None, 0.0, 1000, size),
        ],
        "large": [
            Case(f"large transcripts {mode}", args.large_calls, None, 0.0, 1000, big, mode)
            for mode in ("range", "ids")
        ],
        "rate": [Case("all streams, 1 s latency", args.rate_calls, 3, 1.0, 3, 4000)],
    }
    return [case for group in args.cases for case in groups[group]]


def checks(results: list[Result]) -> list[tuple[bool, str]]:
    rows: list[tuple[bool, str]] = []
    for result in results:
        calls = result.case.calls
        rows.append((result.returncode == 0, f"{result.case.name}: exit {result.returncode}"))
        once = all(result.records[s] == calls for s in ("calls", "call_details")) and (
            result.records["call_transcripts"] == result.transcript_calls == calls
        )
        rows.append((once, f"{result.case.name}: every call, details, transcript once"))
        if result.case.transcript_bytes > LARGE_BYTES:
            continue  # large transcripts cost more transcript requests, by design
        # Per 100 calls a page and a transcript request; per window of ~300 calls one page
        # that is not full; the probe, an empty window at each end, and the first transcript
        # request (a few ids, to learn how large transcripts are).
        allowed = 2 * -(-calls // 100) + -(-calls // 300) + 4
        rows.append(
            (
                result.requests - result.rejected <= allowed,
                f"{result.case.name}: {result.requests} requests (allowed {allowed}: 2 per 100 "
                f"calls, 1 per 300 for windows, 4)",
            )
        )
    for result in results:
        bound = 400 if result.case.transcript_bytes > LARGE_BYTES else 250
        if result.case.server_limit is None:
            rows.append(
                (
                    result.peak_rss_mib < bound,
                    f"{result.case.name}: peak RSS {result.peak_rss_mib:.1f} MiB (under {bound})",
                )
            )
    memory = [r for r in results if r.case.name.startswith("memory")]
    if len(memory) == 2:
        small, large = memory
        growth = large.peak_rss_mib / small.peak_rss_mib - 1
        rows.append(
            (
                growth <= 0.25,
                f"memory: peak RSS {large.peak_rss_mib:.1f} MiB for {large.case.calls} calls vs "
                f"{small.peak_rss_mib:.1f} MiB for {small.case.calls} ({growth:+.1%}; at most "
                f"+25%)",
            )
        )
    rate = results[-1]
    if rate.case.server_limit:
        ratio = rate.achieved / rate.case.server_limit
        rows.append(
            (
                ratio >= 0.85 and rate.rejected == 0,
                f"{rate.case.name}: {rate.achieved:.2f} successful req/s = {ratio:.3f} of the "
                f"limit, {rate.rejected} 429s (at least 0.85, no 429)",
            )
        )
    return rows


def table(results: list[Result]) -> str:
    header = (
        "| case | calls | transcript KB | server limit | latency s | wall s | requests "
        "(extensive; transcript; other) | 429s | successful req/s | records (calls; "
        "participants; details; transcripts) | peak RSS MiB |"
    )
    lines = [header, "|" + "---|" * header.count(" | ") + "---|"]
    for r in results:
        extensive = r.by_endpoint["POST /v2/calls/extensive"]
        transcript = r.by_endpoint["POST /v2/calls/transcript"]
        other = r.requests - extensive - transcript
        counts = "; ".join(str(r.records[s]) for s in STREAMS)
        lines.append(
            f"| {r.case.name} | {r.case.calls} | {r.case.transcript_bytes / 1000:g} "
            f"| {r.case.server_limit or 'none'} | {r.case.latency:g} | {r.wall:.1f} "
            f"| {r.requests} ({extensive}; {transcript}; {other}) | {r.rejected} "
            f"| {r.achieved:.2f} | {counts} | {r.peak_rss_mib:.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.streams", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke run")
    parser.add_argument("--memory-calls", type=int, nargs=2, metavar=("SMALL", "LARGE"))
    parser.add_argument("--rate-calls", type=int, help="calls of the latency case (2000)")
    parser.add_argument("--transcript-kb", type=int, default=50)
    parser.add_argument("--large-calls", type=int, default=200, help="calls of the large cases")
    parser.add_argument("--large-transcript-kb", type=int, default=1000)
    parser.add_argument(
        "--cases",
        type=lambda text: [name.strip() for name in text.split(",")],
        default=list(CASE_GROUPS),
        help=f"comma-separated, of {', '.join(CASE_GROUPS)} (default: all)",
    )
    args = parser.parse_args(argv)
    args.memory_calls = args.memory_calls or ([200, 800] if args.quick else [1000, 4000])
    args.rate_calls = args.rate_calls or (300 if args.quick else 2000)
    tap = tap_executable()
    results = [run_case(case, tap) for case in build_cases(args)]
    print(table(results))
    print()
    rows = checks(results)
    for passed, detail in rows:
        print(f"- {'PASS' if passed else 'FAIL'} {detail}")
    for result in results:
        if result.returncode != 0:
            print(
                f"\n{result.case.name} stderr tail:\n" + "\n".join(result.stderr.splitlines()[-10:])
            )
    return 0 if all(passed for passed, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
