"""The streams beside the calls: requests, time and peak memory of the installed tap-gong-calls
on an account of 2,000 users and 20,000 reviews (issue 22).

One account in the Gong emulator (this process; Gong's 3 requests/s and 0.3 s of latency): the
company's workspaces, trackers and scorecards (``seed_company``), ``--users`` users, ``--calls``
calls spread over the last ``--days`` days and ``--reviews`` answered scorecards of them
(``seed_answered_scorecards``, manual and automatic, every one published before the run). The
installed ``tap-gong-calls`` runs as a whole process with ``users, workspaces, trackers,
scorecards, answered_scorecards`` selected, ``start_date`` ``--days`` days ago, the company's
time zone set and the default ``requests_per_second``:

- first run: no state;
- next day: the first run's state with its ``review_day`` moved a day back (the first run was
  yesterday's), and ``--new-reviews`` reviews published today, of calls up to weeks old;
- same day, again: the first run's state as it is, the same new reviews (an hourly schedule).

Requests are told apart by endpoint in the emulator's log; the privacy look-ups of the reviews'
calls (``POST /v2/calls/extensive``) have their own column. Prints Markdown tables and
PASS/FAIL per criterion; exits 1 if any fails.

Run it from the repository root:

    python -m benchmarks.company            # 2,000 users, 20,000 reviews (a few minutes)
    python -m benchmarks.company --quick    # smoke run
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from benchmarks.throughput import KEY, SECRET, RecordingEmulator, run_tap, tap_executable, utc
from gong_emulator import (
    ANSWERED_ID_BASE,
    RequestRecord,
    make_answered_scorecard,
    seed_answered_scorecards,
    seed_calls,
    seed_scorecards,
    seed_users,
)

STREAMS = ("users", "workspaces", "trackers", "scorecards", "answered_scorecards")
ENDPOINTS = {
    "users": "GET /v2/users",
    "workspaces": "GET /v2/workspaces",
    "trackers": "GET /v2/settings/trackers",
    "scorecards": "GET /v2/settings/scorecards",
    "answered_scorecards": "POST /v2/stats/activity/scorecards",
}
LOOK_UP = "POST /v2/calls/extensive"  # the privacy of the reviews' calls
PAGED = ("users", "answered_scorecards")  # 100 a page; the others come whole
KEYS = {"trackers": "trackerId", "scorecards": "scorecardId"}
REVIEW_KEY = "answeredScorecardId"
NEW_REVIEW_BASE = ANSWERED_ID_BASE + 990_000  # past the seeded reviews' ids
SERVER_LIMIT = 3.0  # Gong's requests per second per company
LATENCY = 0.3
SYNC_DURATION = re.compile(r'"metric":"sync_duration","value":([\d.]+),"tags":\{"stream":"(\w+)"')
SUMMARY = re.compile(r"Summary: .*requests (\d+), 429s (\d+)")


class TimedEmulator(RecordingEmulator):
    """The emulator, also adding up the seconds it spends answering each endpoint (after its
    latency): its own CPU, in this process, beside the tap's on the same cores."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.answering: defaultdict[str, float] = defaultdict(float)
        self._timing = threading.Lock()

    def _answer(self, request: RequestRecord, *, enforce_access: bool = True) -> Any:
        started = time.perf_counter()
        try:
            return super()._answer(request, enforce_access=enforce_access)
        finally:
            with self._timing:
                self.answering[f"{request.method} {request.path}"] += time.perf_counter() - started

    def reset_log(self) -> None:
        super().reset_log()
        with self._timing:
            self.answering.clear()


@dataclass
class Account:
    """What the emulator holds, and what the tap should read of it."""

    emulator: TimedEmulator
    zone: ZoneInfo
    start_date: datetime
    calls: list[dict[str, Any]]
    users: list[dict[str, Any]]
    reviews: dict[str, dict[str, Any]] = field(default_factory=dict)  # by answeredScorecardId

    def day_of(self, review: dict[str, Any]) -> date:
        return datetime.fromisoformat(review["reviewTime"]).astimezone(self.zone).date()


@dataclass
class Run:
    case: str
    returncode: int
    wall: float
    peak_rss_mib: float
    by_endpoint: Counter[str]
    rejected: int
    span: float  # seconds from the first request's start to the last one's
    answering: float  # seconds the emulator spent answering (beyond its latency)
    records: dict[str, list[dict[str, Any]]]
    seconds: dict[str, float]  # singer-sdk's sync_duration of each stream
    summary: tuple[int, int] | None  # (requests, 429s) of the Summary line
    state: dict[str, Any] | None
    expected_reviews: set[str]
    review_window: str
    stderr: str

    @property
    def requests(self) -> int:
        return sum(self.by_endpoint.values())

    @property
    def achieved(self) -> float:
        """Request starts per second: intervals between the first and the last over that span."""
        return (self.requests - 1) / self.span if self.span > 0 else 0.0

    def keys(self, stream: str) -> list[str]:
        key = KEYS.get(stream, REVIEW_KEY if stream == "answered_scorecards" else "id")
        return [str(record.get(key)) for record in self.records.get(stream, [])]


def build_account(args: argparse.Namespace, now: datetime) -> Account:
    """Calls over the last ``days`` days, users, definitions and reviews published by ``now``."""
    emulator = TimedEmulator(
        access_key=KEY,
        access_key_secret=SECRET,
        rate_limit_per_second=SERVER_LIMIT,
        latency_seconds=LATENCY,
    )
    zone = ZoneInfo(emulator.company_time_zone)
    start_date = now - timedelta(days=args.days)
    first = start_date + timedelta(hours=1)
    calls = seed_calls(args.calls, utc(first), (now - timedelta(hours=1) - first) / args.calls)
    emulator.add_calls(calls)
    emulator.seed_company(users=args.users, reviews=0)  # workspaces, trackers, scorecards
    users = seed_users(args.users)  # the users seed_company added
    account = Account(emulator, zone, start_date, calls, users)
    # seed_answered_scorecards publishes a review up to 3 weeks after its call: those of the
    # last weeks' calls would be published after now. Keep the first n published by now.
    candidates = math.ceil(args.reviews * 1.25)
    while True:
        reviews = seed_answered_scorecards(
            calls, users, candidates, seed_scorecards(), time_zone=zone.key
        )
        published = [r for r in reviews if datetime.fromisoformat(r["reviewTime"]) <= now]
        if len(published) >= args.reviews or not reviews:
            break
        candidates *= 2
    add_reviews(account, published[: args.reviews])
    return account


def add_reviews(account: Account, reviews: list[dict[str, Any]]) -> None:
    account.emulator.add_answered_scorecards(reviews)
    account.reviews.update((str(review[REVIEW_KEY]), review) for review in reviews)


def todays_reviews(account: Account, n: int, now: datetime) -> list[dict[str, Any]]:
    """``n`` reviews published today (company time) before ``now``, of calls spread over the
    whole range (most of them weeks old), manual, every fifth automatic."""
    local = now.astimezone(account.zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    older = [c for c in account.calls if datetime.fromisoformat(c["started"]) < midnight]
    people = {str(user["id"]): user for user in account.users}
    cards = [card for card in seed_scorecards() if card["enabled"]]
    manual = [card for card in cards if card["reviewMethod"] == "MANUAL"]
    automatic = [card for card in cards if card["reviewMethod"] == "AUTOMATIC"]
    reviews = []
    for index in range(n):
        call = older[index * len(older) // n]
        host = str(call.get("primaryUserId"))
        reviewed = host if host in people else str(account.users[0]["id"])
        manager = people[reviewed].get("managerId") or str(account.users[0]["id"])
        card = automatic[0] if index % 5 == 4 else manual[index % len(manual)]
        reviews.append(
            make_answered_scorecard(
                call,
                card,
                answered_scorecard_id=NEW_REVIEW_BASE + index,
                review_time=midnight + (local - midnight) * (index + 1) / (n + 1),
                reviewed_user_id=reviewed,
                reviewer_user_id=manager,
                time_zone=account.zone.key,
            )
        )
    return reviews


def a_day_earlier(state: dict[str, Any]) -> dict[str, Any]:
    """``state`` with the reviews' bookmark a day back: the run that left it was yesterday's."""
    reviews = dict(state["bookmarks"]["answered_scorecards"])
    reviews["review_day"] = (
        date.fromisoformat(reviews["review_day"]) - timedelta(days=1)
    ).isoformat()
    return {**state, "bookmarks": {**state["bookmarks"], "answered_scorecards": reviews}}


def run_case(case: str, account: Account, tap: str, state: dict[str, Any] | None) -> Run:
    """One run of the tap from ``state``; the reviews it should emit are those published from
    the state's bookmark day on (company_time_zone set; all of them without a state)."""
    emulator = account.emulator
    emulator.reset_log()
    config = {
        "access_key": KEY,
        "access_key_secret": SECRET,
        "api_url": emulator.url,
        "start_date": utc(account.start_date),
        "company_time_zone": account.zone.key,
    }  # requests_per_second: the tap's default (3)
    if state is None:
        since = account.start_date.astimezone(account.zone).date()
    else:
        bookmark = state["bookmarks"]["answered_scorecards"]["review_day"]
        since = date.fromisoformat(bookmark)
    expected = {key for key, review in account.reviews.items() if account.day_of(review) >= since}
    print(f"running {case} ...", file=sys.stderr, flush=True)
    returncode, wall, rss, stdout, stderr = run_tap(tap, config, STREAMS, state=state)
    log = emulator.requests
    records: dict[str, list[dict[str, Any]]] = {stream: [] for stream in STREAMS}
    last_state = None
    for line in stdout.splitlines():
        message = json.loads(line)
        if message.get("type") == "RECORD":
            records.setdefault(message["stream"], []).append(message["record"])
        elif message.get("type") == "STATE":
            last_state = message["value"]
    found = SUMMARY.search(stderr)
    return Run(
        case,
        returncode,
        wall,
        rss,
        Counter(f"{r.method} {r.path}" for r in log),
        sum(1 for r in log if r.status == 429),
        log[-1].started_at - log[0].started_at if log else 0.0,
        sum(emulator.answering.values()),
        records,
        {stream: float(value) for value, stream in SYNC_DURATION.findall(stderr)},
        (int(found[1]), int(found[2])) if found else None,
        last_state,
        expected,
        f"{since.isoformat()} to today",
        stderr,
    )


def allowed(run: Run, stream: str) -> int:
    """ceil(n / 100) + 1 requests for a stream of 100 a page, 1 for a table that comes whole."""
    return math.ceil(len(run.records[stream]) / 100) + 1 if stream in PAGED else 1


def review_kinds(run: Run) -> str:
    kinds = Counter(
        str(record.get("reviewMethod")) for record in run.records["answered_scorecards"]
    )
    return f"{kinds['MANUAL']} manual; {kinds['AUTOMATIC']} automatic"


def distinct_calls(run: Run) -> int:
    return len({str(record.get("callId")) for record in run.records["answered_scorecards"]})


def checks(account: Account, runs: list[Run], new_reviews: set[str]) -> list[tuple[bool, str]]:
    rows: list[tuple[bool, str]] = []
    held = {
        "users": {str(user["id"]) for user in account.users},
        "workspaces": {str(w["id"]) for w in account.emulator.workspaces},
        "trackers": {str(t["trackerId"]) for t in account.emulator.trackers},
        "scorecards": {str(s["scorecardId"]) for s in account.emulator.scorecards},
    }
    for run in runs:
        rows.append((run.returncode == 0, f"{run.case}: exit {run.returncode}"))
        for stream, keys in held.items():
            emitted = run.keys(stream)
            rows.append(
                (
                    sorted(emitted) == sorted(keys),
                    f"{run.case}: every {stream} row once ({len(emitted)} records, "
                    f"{len(set(emitted))} distinct, {len(keys)} held)",
                )
            )
        emitted = run.keys("answered_scorecards")
        rows.append(
            (
                sorted(emitted) == sorted(run.expected_reviews),
                f"{run.case}: every review published {run.review_window} once ({len(emitted)} "
                f"records: {review_kinds(run)}; {len(set(emitted))} distinct, "
                f"{len(run.expected_reviews)} expected)",
            )
        )
        if run is not runs[0]:
            got = new_reviews & set(emitted)
            rows.append(
                (
                    got == new_reviews,
                    f"{run.case}: the {len(new_reviews)} reviews published today all read "
                    f"({len(got)})",
                )
            )
        for stream in STREAMS:
            sent, most = run.by_endpoint[ENDPOINTS[stream]], allowed(run, stream)
            rule = "ceil(n/100) + 1" if stream in PAGED else "whole table"
            rows.append(
                (
                    sent <= most,
                    f"{run.case}: {stream}: requests {sent} for {len(run.records[stream])} "
                    f"records (at most {most}: {rule})",
                )
            )
        rows.append((run.rejected == 0, f"{run.case}: {run.rejected} 429s (none)"))
        rows.append(
            (
                run.summary == (run.requests, run.rejected),
                f"{run.case}: Summary line (requests, 429s) {run.summary or 'absent'} = "
                f"emulator log ({run.requests}, {run.rejected})",
            )
        )
    for run in runs:
        # The privacy of the reviews' calls: one look-up per 100 calls, across pages.
        look_ups = run.by_endpoint[LOOK_UP]
        calls = {str(r.get("callId")) for r in run.records["answered_scorecards"]}
        most = math.ceil(len(calls) / 100) + 1
        rows.append(
            (
                look_ups <= most,
                f"{run.case}: {look_ups} call look-ups for the {len(calls)} calls reviewed (at "
                f"most {most}: ceil(calls/100) + 1)",
            )
        )
    return rows


def table(runs: list[Run]) -> str:
    header = (
        "| case | stream | records | requests | allowed (ceil(n/100) + 1; whole: 1) "
        f"| call look-ups ({LOOK_UP}) | seconds (singer-sdk sync_duration) |"
    )
    lines = [header, "|" + "---|" * header.count(" | ") + "---|"]
    for run in runs:
        for stream in STREAMS:
            records = str(len(run.records[stream]))
            look_ups = "-"
            if stream == "answered_scorecards":
                records += f" ({review_kinds(run)})"
                look_ups = (
                    f"{run.by_endpoint[LOOK_UP]} (for {distinct_calls(run)} calls: "
                    f"ceil(calls/100) = {math.ceil(distinct_calls(run) / 100)})"
                )
            lines.append(
                f"| {run.case} | {stream} | {records} | {run.by_endpoint[ENDPOINTS[stream]]} "
                f"| {allowed(run, stream)} | {look_ups} | {run.seconds.get(stream, 0.0):.1f} |"
            )
    return "\n".join(lines)


def run_table(runs: list[Run]) -> str:
    header = (
        "| case | reviews read (published) | wall s | requests (emulator log) "
        "| of which call look-ups | other | Summary line's requests | 429s "
        "| achieved req/s (log span) | emulator answering s | peak RSS MiB |"
    )
    lines = [header, "|" + "---|" * header.count(" | ") + "---|"]
    known = {*ENDPOINTS.values(), LOOK_UP}
    for run in runs:
        other = sum(n for endpoint, n in run.by_endpoint.items() if endpoint not in known)
        summary = "no Summary line" if run.summary is None else str(run.summary[0])
        lines.append(
            f"| {run.case} | {len(run.records['answered_scorecards'])} ({run.review_window}) "
            f"| {run.wall:.1f} | {run.requests} | {run.by_endpoint[LOOK_UP]} | {other} "
            f"| {summary} | {run.rejected} | {run.achieved:.2f} | {run.answering:.1f} "
            f"| {run.peak_rss_mib:.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.company", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke run")
    parser.add_argument("--users", type=int, help="users (2000)")
    parser.add_argument("--reviews", type=int, help="answered scorecards (20000)")
    parser.add_argument("--calls", type=int, help="calls they review (5000)")
    parser.add_argument("--new-reviews", type=int, help="reviews published today (50)")
    parser.add_argument("--days", type=int, default=90, help="days of calls, and start_date")
    args = parser.parse_args(argv)
    args.users = args.users or (200 if args.quick else 2000)
    args.reviews = args.reviews or (1000 if args.quick else 20_000)
    args.calls = args.calls or (500 if args.quick else 5000)
    args.new_reviews = args.new_reviews or (10 if args.quick else 50)
    tap = tap_executable()
    began = time.monotonic()
    account = build_account(args, datetime.now(UTC))
    print(
        f"seeded {args.users} users, {len(account.reviews)} reviews of {args.calls} calls in "
        f"{time.monotonic() - began:.1f} s",
        file=sys.stderr,
        flush=True,
    )
    runs: list[Run] = []
    with account.emulator:
        first = run_case("first run", account, tap, None)
        runs.append(first)
        new = todays_reviews(account, args.new_reviews, datetime.now(UTC))
        add_reviews(account, new)
        if first.state is not None:
            runs.append(run_case("next day", account, tap, a_day_earlier(first.state)))
            runs.append(run_case("same day, again", account, tap, first.state))
    print(run_table(runs))
    print()
    print(table(runs))
    print()
    rows = checks(account, runs, {str(review[REVIEW_KEY]) for review in new})
    if first.state is None:
        rows.append((False, "first run: no STATE to start the next runs from"))
    for passed, detail in rows:
        print(f"- {'PASS' if passed else 'FAIL'} {detail}")
    for run in runs:
        if run.returncode != 0:
            print(f"\n{run.case} stderr tail:\n" + "\n".join(run.stderr.splitlines()[-10:]))
    print(f"\nbenchmark took {time.monotonic() - began:.0f} s", file=sys.stderr)
    return 0 if all(passed for passed, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
