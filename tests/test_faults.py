"""The fault matrix of issue 6: what a user sees when Gong misbehaves.

Each test runs the installed tap as a whole process against a started emulator and checks the
exit code, the records on stdout (each call exactly once), the message on stderr and, where it
matters, the STATE. Waits are kept sub-second: backoff_base_seconds 0.05, fractional
Retry-After, and a 1 s request timeout where a slow answer is tested.

A tap process spends most of its time starting Python, so the runs are declared as SCENARIOS,
played four at a time in the background by the module fixture ``outcomes`` (only those of the
selected tests), and each test checks its own outcome. No test bounds how long a run took:
"at once" is checked by what the tap did (no "Retrying ... in Ns" line, its announced waits,
the requests Gong received), which a busy CPU cannot change. Where a wait is itself under test
(Retry-After honoured), it is measured on the emulator's request timestamps.
"""

from __future__ import annotations

import base64
import datetime
import email.utils
import itertools
import json
import re
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

import pytest

from gong_emulator import ABSENT, Fault, GongEmulator, make_call, seed_calls
from tap_gong_calls.timestamps import parse_utc
from tests.tap_runner import (
    CREDENTIALS,
    Outcome,
    Scenario,
    TapRun,
    completed_range_state,
    config,
    play,
    play_selected,
    run_tap,
    split_usage,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from concurrent.futures import Future

pytestmark = pytest.mark.slow  # the fault matrix: ~40 tap processes and real 429 waits

START, END = "2024-01-01T00:00:00Z", "2024-01-05T00:00:00Z"
# 30 minutes apart: the date-range mode reads a 1-day window (48 calls), then a 4-day one of
# two pages (100 + 2 calls).
CALLS = seed_calls(150, START)
ALL_IDS = [call["id"] for call in CALLS]
IDS = ALL_IDS[:8]  # what the ids modes ask for
QUICK = {"backoff_base_seconds": 0.05, "requests_per_second": 50}  # sub-second waits
TOKEN = "tok-bearer-0b5e7c1d"
MODES = ("ids-batch", "ids-get", "date-range")
# The request of each mode that faults are aimed at, as the tap names it in its messages.
ENDPOINT = {
    "ids-batch": "POST /v2/calls/extensive",
    "ids-get": f"GET /v2/calls/{IDS[3]}",  # fetched by a worker thread, not the first request
    "date-range": "GET /v2/calls",
}


def not_before(emu: GongEmulator) -> list[tuple[float, float]]:
    """For each 429 with a Retry-After: (when that request started, when the wait ends)."""
    return [
        (r.started_at, r.started_at + _seconds_until(r.retry_after))
        for r in emu.requests
        if r.status == 429 and r.retry_after
    ]


def fault_request_ids(emu: GongEmulator) -> list[str]:
    """The requestId Gong sent with each queued fault that had an answer."""
    return [r.request_id for r in emu.requests if r.fault and r.request_id and r.status]


def _seconds_until(retry_after: str) -> float:
    """Retry-After as seconds from now: a number, or an HTTP-date."""
    try:
        return float(retry_after)
    except ValueError:
        return email.utils.parsedate_to_datetime(retry_after).timestamp() - time.time()


def settings_for(emu: GongEmulator, mode: str, **settings: Any) -> dict[str, Any]:
    """Settings for one of MODES, quick waits included; a setting of None is dropped."""
    if mode == "date-range":
        selection: dict[str, Any] = {"start_date": START, "end_date": END}
    else:
        selection = {"call_ids": IDS, "batch_call_ids": mode == "ids-batch"}
    return config(emu, **{**QUICK, **selection, **settings})


def play_one(scenario: Scenario) -> Outcome:
    """A Scenario against an emulator holding CALLS (+ its ``calls``)."""
    return play(scenario, CALLS, lambda emu, s: settings_for(emu, s.mode, **s.settings))


def announced_waits(run: TapRun) -> list[tuple[float, int]]:
    """(seconds, try) of each wait the tap took, from its "Retrying ... in Ns (try N)" lines."""
    return [
        (float(seconds), int(tries))
        for seconds, tries in re.findall(
            r"Retrying \S+ \S+ in (\d+\.\d\d)s \(try (\d+)\)", run.stderr
        )
    ]


def aimed(mode: str, kind: str, **options: Any) -> Fault:
    """A fault on the request ENDPOINT[mode] names."""
    method, path = ENDPOINT[mode].split(" ")
    return Fault(kind, path=path, method=method, **options)


def _page(*calls: dict[str, Any]) -> str:
    size = len(calls)
    records = {"totalRecords": size, "currentPageSize": size, "currentPageNumber": 0}
    return json.dumps({"requestId": "0123456789abcdefghi", "records": records, "calls": calls})


# -- the scenarios -------------------------------------------------------------------------

TRANSIENT_FAULTS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "500": ({"kind": "status", "status": 500}, {}),
    "502-html": (
        {"kind": "status", "status": 502, "body": "<html><h1>502 Bad Gateway</h1></html>"},
        {},
    ),
    "503": ({"kind": "status", "status": 503}, {}),
    "reset": ({"kind": "reset"}, {}),
    "truncated-json": ({"kind": "truncated"}, {}),
    "slower-than-timeout": ({"kind": "slow", "delay": 1.5}, {"request_timeout_seconds": 1}),
}
TRANSIENT = {
    f"{fault}:{mode}": Scenario(
        mode, (aimed(mode, **TRANSIENT_FAULTS[fault][0]),), TRANSIENT_FAULTS[fault][1]
    )
    for fault, mode in itertools.product(TRANSIENT_FAULTS, MODES)
}

HTTP_DATE_IDS = IDS[:2]
RATE_LIMITED = {
    "no-retry-after": Scenario(
        "ids-batch", (aimed("ids-batch", "rate_limit", retry_after=None, times=2),)
    ),
    # One request a second: the second GET is refused until the next whole second (1-2 s on).
    "http-date": Scenario(
        "ids-get",
        settings={"call_ids": HTTP_DATE_IDS},
        emulator={"rate_limit_per_second": 1, "retry_after_style": "http-date"},
    ),
}
QUOTA = {
    "retry-after-7200": Scenario("ids-batch", (Fault("rate_limit", retry_after="7200"),)),
    "daily-quota-used-up": Scenario(
        "ids-batch", emulator={"daily_quota": 0, "quota_retry_after": 7200}
    ),
}

PERSISTENT_FAULTS: dict[str, dict[str, Any]] = {
    "500": {"kind": "status", "status": 500},
    "reset": {"kind": "reset"},
}
# In date-range mode the first window is let through (a "slow" fault of no delay is a normal
# answer), so that the run fails with records and a STATE already out.
LET_FIRST_THROUGH = {"date-range": (aimed("date-range", "slow"),)}
PERSISTENT = {
    f"{fault}-forever:{mode}": Scenario(
        mode,
        (*LET_FIRST_THROUGH.get(mode, ()), aimed(mode, times=-1, **PERSISTENT_FAULTS[fault])),
    )
    for fault, mode in itertools.product(PERSISTENT_FAULTS, MODES)
}
EMITTED_BEFORE_FAILURE = {"ids-batch": [], "ids-get": IDS[:3]}

WITHOUT_ID = make_call(IDS[3], "2024-01-01T01:30:00Z", id=ABSENT)
ID_LESS_BODY = {
    "ids-batch": _page({"metaData": CALLS[0]}, {"metaData": WITHOUT_ID}),
    "ids-get": json.dumps({"call": WITHOUT_ID}),
    "date-range": _page(CALLS[0], WITHOUT_ID),
}
EXTRA = make_call(IDS[2], CALLS[2]["started"], futureField="x")
NOT_JSON = {"not-json": Scenario("ids-batch", (aimed("ids-batch", "not_json", times=-1),))}
EMPTY_JSON = {
    f"empty-json:{mode}": Scenario(mode, (aimed(mode, "json_body", body="{}"),)) for mode in MODES
}
ID_LESS = {
    f"id-less:{mode}": Scenario(mode, (aimed(mode, "json_body", body=ID_LESS_BODY[mode]),))
    for mode in MODES
}
EXTRA_FIELD = {f"extra-field:{mode}": Scenario(mode, calls=(EXTRA,)) for mode in MODES}

DEBUG = {"LOGLEVEL": "DEBUG", "TAP_GONG_CALLS_LOGLEVEL": "DEBUG"}
BEARER = {"access_key": None, "access_key_secret": None, "access_token": TOKEN}
DEBUG_RUNS = {
    "success-basic": Scenario("ids-batch", env=DEBUG),
    "success-bearer": Scenario(
        "date-range", settings=BEARER, emulator={"access_token": TOKEN}, env=DEBUG
    ),
    "401-basic": Scenario("ids-batch", emulator={"access_key_secret": "other"}, env=DEBUG),
    "401-bearer": Scenario("ids-batch", settings=BEARER, env=DEBUG),
    "500-forever": Scenario("ids-batch", (aimed("ids-batch", "status", times=-1),), env=DEBUG),
    # Both ways to authenticate: every secret is in the config.
    "bad-config": Scenario("ids-batch", settings={"access_token": TOKEN}, env=DEBUG),
    "quota": Scenario("ids-batch", (Fault("rate_limit", retry_after="7200"),), env=DEBUG),
}

# The ones that mostly wait come first, so their waits overlap the others' start-up.
SCENARIOS = {
    **RATE_LIMITED,
    **QUOTA,
    **TRANSIENT,
    **PERSISTENT,
    **NOT_JSON,
    **EMPTY_JSON,
    **ID_LESS,
    **EXTRA_FIELD,
    **{f"debug:{name}": scenario for name, scenario in DEBUG_RUNS.items()},
}


@pytest.fixture(scope="module")
def outcomes(request: pytest.FixtureRequest) -> Iterator[dict[str, Future[Outcome]]]:
    """The outcome of each SCENARIOS entry a selected test of this module names."""
    yield from play_selected(request, SCENARIOS, play_one)


def assert_each_once(run: TapRun, expected: list[str]) -> None:
    counts = Counter(run.ids)
    twice = sorted(i for i, n in counts.items() if n > 1)
    missing = sorted(set(expected) - set(counts))
    extra = sorted(set(counts) - set(expected))
    assert (twice, missing, extra) == ([], [], []), run.explain()


def expected_ids(mode: str) -> list[str]:
    return ALL_IDS if mode == "date-range" else IDS


def bookmark(run: TapRun) -> str | None:
    return (run.last_state or {}).get("bookmarks", {}).get("calls", {}).get("replication_key_value")


def assert_bookmark_owes_nothing(run: TapRun) -> None:
    """No call emitted twice, and every call before the last bookmark emitted.

    Windows are fetched side by side, so which of them were out when a run failed depends on
    timing; that nothing is lost or repeated does not.
    """
    assert len(run.ids) == len(set(run.ids))
    if (value := bookmark(run)) is not None:
        moment = parse_utc(value)
        owed = {c["id"] for c in CALLS if parse_utc(c["started"]) < moment} - set(run.ids)
        assert owed == set(), f"bookmark {value} but {len(owed)} of its calls never came out"


# -- a 429 storm, first and alone ----------------------------------------------------------


# How long after a 429 left the emulator a request may still start without having waited: the
# tap cannot honour a Retry-After it has not read yet, and a thread that had claimed its start
# before then may send. The emulator logs when a request started, not when the tap read the
# answer, so this margin stands in for that reaction time: generous (four 50 ms slots at 20
# requests/s) so that a starved CPU does not fail the test, yet well inside the waits checked.
REACTION_SECONDS = 0.2


def assert_retry_after_honoured(emu: GongEmulator) -> None:
    """No request started before the Retry-After of an earlier 429 had passed.

    Measured on the emulator's own request timestamps (when each request reached it), with
    REACTION_SECONDS of grace after each 429 and 5 ms for rounding; never on the wall time of
    the whole run.
    """
    starts = [r.started_at for r in emu.requests]
    early = [
        (round(start - limited, 3), round(wait_end - start, 3))
        for limited, wait_end in not_before(emu)
        for start in starts
        if limited + REACTION_SECONDS < start < wait_end - 0.005
    ]
    assert early == [], "(s after the 429, s too early) of requests that did not wait"


def test_429_storm_waits_out_every_retry_after() -> None:
    # Before `outcomes` starts its background runs, so that they do not share the CPU with it;
    # what a 429 still in flight may cost is REACTION_SECONDS' to say, not this ordering.
    ids = ALL_IDS[:12]
    settings = {"call_ids": ids, "requests_per_second": 20}
    outcome = play_one(
        Scenario("ids-get", settings=settings, emulator={"rate_limit_per_second": 2})
    )

    assert outcome.run.returncode == 0, outcome.run.explain()
    assert_each_once(outcome.run, ids)
    assert len(not_before(outcome.emu)) >= 5, "the tap outpaced the limit: there should be 429s"
    assert "HTTP 429 from GET /v2/calls/" in outcome.run.stderr
    assert_retry_after_honoured(outcome.emu)


def test_over_the_limit_the_tap_lowers_its_rate_and_says_where_it_ended() -> None:
    # Also before the background runs. 6 requests/s against a server allowing 3: the tap lowers
    # its rate after a 429 and still waits out every Retry-After. How well it settles is for
    # the benchmark (benchmarks/throughput.py, case over-limit) to measure, not a test.
    ids = ALL_IDS[:12]
    settings = {"call_ids": ids, "requests_per_second": 6}
    outcome = play_one(
        Scenario("ids-get", settings=settings, emulator={"rate_limit_per_second": 3})
    )

    assert outcome.run.returncode == 0, outcome.run.explain()
    assert_each_once(outcome.run, ids)
    assert not_before(outcome.emu), "the tap outpaced the limit: there should be a 429"
    assert_retry_after_honoured(outcome.emu)
    stderr = outcome.run.stderr
    lowered = re.findall(
        r"Rate limit: lowering to (\d+\.\d\d) requests/s after a 429 \(ceiling 6\)", stderr
    )
    assert lowered, outcome.run.explain()
    assert len(lowered) <= len(not_before(outcome.emu)), "one line per lowering, not per request"
    ended = re.search(r"Summary: .*, rate at end (\d+\.\d\d)/s", stderr)
    assert ended, outcome.run.explain()
    assert 0 < float(ended[1]) <= 6


# -- transient faults ------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", TRANSIENT)
def test_transient_fault_then_success(outcomes: dict[str, Future[Outcome]], scenario: str) -> None:
    run, mode = outcomes[scenario].result().run, SCENARIOS[scenario].mode

    assert run.returncode == 0, run.explain()
    assert_each_once(run, expected_ids(mode))
    assert "Retrying " in run.stderr
    if mode == "date-range":
        state, _ = split_usage(run.last_state)  # the budget's count, by hour, aside
        assert state == completed_range_state(END)


# -- other rate limits -----------------------------------------------------------------------


@pytest.mark.parametrize("scenario", ["no-retry-after"])
def test_429_without_retry_after_backs_off(
    outcomes: dict[str, Future[Outcome]], scenario: str
) -> None:
    outcome = outcomes[scenario].result()

    assert outcome.run.returncode == 0, outcome.run.explain()
    assert_each_once(outcome.run, IDS)
    requests = outcome.emu.requests
    assert [r.status for r in requests] == [429, 429, 200]
    assert outcome.run.stderr.count("Retrying ") == 2
    # Backed off, not hammered: at least half of 0.05 s, then of 0.1 s.
    gaps = [
        later.started_at - earlier.started_at for earlier, later in itertools.pairwise(requests)
    ]
    assert gaps[0] >= 0.025 - 0.005
    assert gaps[1] >= 0.05 - 0.005


@pytest.mark.parametrize("scenario", ["http-date"])
def test_429_with_retry_after_as_http_date(
    outcomes: dict[str, Future[Outcome]], scenario: str
) -> None:
    outcome = outcomes[scenario].result()

    assert outcome.run.returncode == 0, outcome.run.explain()
    assert_each_once(outcome.run, HTTP_DATE_IDS)
    assert 429 in [r.status for r in outcome.emu.requests]
    assert_retry_after_honoured(outcome.emu)


@pytest.mark.parametrize("scenario", QUOTA)
def test_retry_after_above_max_stops_at_once(
    outcomes: dict[str, Future[Outcome]], scenario: str
) -> None:
    outcome = outcomes[scenario].result()

    run = outcome.run
    assert run.returncode != 0
    # It refused to sleep on the Retry-After: it announced no wait ("Retrying ... in Ns"), and
    # sent nothing more. Checked on what the tap did, not on how long the run took.
    assert announced_waits(run) == [], "it slept on a Retry-After it should refuse"
    assert "Retrying" not in run.stderr
    assert run.ids == []
    assert len(outcome.emu.requests) == 1
    for words in ("quota", "max_retry_after_seconds", "Retry-After 7200s"):
        assert words in run.stderr, run.explain()
    retry_at = re.search(r"Retry after (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC", run.stderr)
    assert retry_at is not None, run.explain()
    when = datetime.datetime.fromisoformat(retry_at[1]).replace(tzinfo=datetime.UTC)
    in_two_hours = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=2)
    assert abs((when - in_two_hours).total_seconds()) < 60


@pytest.fixture
def quota_emulator() -> Iterator[GongEmulator]:
    """Window 1 (1 request) and page 1 of window 2 pass; page 2 of window 2 hits the quota."""
    emu = GongEmulator(**CREDENTIALS, daily_quota=2, quota_retry_after=7200)
    with emu:
        emu.add_calls(CALLS)
        yield emu


def test_quota_mid_range_then_resume_from_state(quota_emulator: GongEmulator) -> None:
    emu = quota_emulator
    settings = settings_for(emu, "date-range", lookback_days=0)

    first = run_tap(settings)

    assert first.returncode != 0
    assert "quota" in first.stderr, first.explain()
    assert len(first.ids) < len(ALL_IDS)
    assert_bookmark_owes_nothing(first)
    emu.daily_quota = None  # the next day
    emu.reset_log()

    second = run_tap(settings, state=first.last_state)

    assert second.returncode == 0, second.explain()
    resumed_from = bookmark(first) or START
    assert emu.requests[0].query["fromDateTime"] == resumed_from  # resumed, not restarted
    for run in (first, second):
        assert len(run.ids) == len(set(run.ids))
    assert set(first.ids) | set(second.ids) == set(ALL_IDS)
    assert bookmark(second) == END


# -- persistent faults ---------------------------------------------------------------------


@pytest.mark.parametrize("scenario", PERSISTENT)
def test_persistent_fault_fails_naming_endpoint(
    outcomes: dict[str, Future[Outcome]], scenario: str
) -> None:
    outcome, mode = outcomes[scenario].result(), SCENARIOS[scenario].mode
    kind = SCENARIOS[scenario].faults[-1].kind

    run = outcome.run
    errors = "\n".join(line for line in run.stderr.splitlines() if "| ERROR" in line)
    assert run.returncode != 0
    # It gave up after short waits: each announced wait (full jitter) is within the backoff cap
    # of its try, 0.05 s doubling, and no try waited on a 429. Read from the tap's own lines,
    # not timed, so a busy CPU cannot fail it.
    waits = announced_waits(run)
    assert waits, run.explain()
    assert all(s <= QUICK["backoff_base_seconds"] * 2 ** (t - 1) + 0.005 for s, t in waits), waits
    assert all(t < 5 for _, t in waits), waits
    # The tries for one request; windows in flight beside it may have spent theirs too.
    tries = [r.fault for r in outcome.emu.requests].count(kind)
    assert tries == 5 if mode != "date-range" else tries >= 5
    assert ENDPOINT[mode] in errors, run.explain()
    if kind == "status":
        assert f"HTTP 500 from {ENDPOINT[mode]}" in errors
        # Gong's requestId of a refused try (one of them, when windows were side by side).
        assert any(f"requestId {rid}" in errors for rid in fault_request_ids(outcome.emu))
    # What came out before the failure is valid Singer (tap_runner parsed each line as JSON).
    assert len(run.messages) == len(run.stdout.splitlines())
    assert {m["type"] for m in run.messages} <= {"SCHEMA", "RECORD", "STATE"}
    if mode == "date-range":
        assert_bookmark_owes_nothing(run)
    else:
        assert run.ids == EMITTED_BEFORE_FAILURE[mode]


# -- bad responses ---------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", NOT_JSON)
def test_body_that_is_never_json_fails_after_retries(
    outcomes: dict[str, Future[Outcome]], scenario: str
) -> None:
    outcome = outcomes[scenario].result()

    run = outcome.run
    assert run.returncode != 0
    assert "POST /v2/calls/extensive with HTTP 200 but a body that is not JSON" in run.stderr, (
        run.explain()
    )
    assert len(outcome.emu.requests) == 5
    assert run.ids == []


@pytest.mark.parametrize("scenario", EMPTY_JSON)
def test_json_without_expected_keys_fails_naming_endpoint(
    outcomes: dict[str, Future[Outcome]], scenario: str
) -> None:
    run, mode = outcomes[scenario].result().run, SCENARIOS[scenario].mode

    assert run.returncode != 0
    missing = "a 'call' object" if mode == "ids-get" else "the 'records' paging object"
    assert f"Gong answered {ENDPOINT[mode]} without {missing}" in run.stderr, run.explain()
    assert run.ids == (IDS[:3] if mode == "ids-get" else [])


ID_LESS_MESSAGE = {
    "ids-batch": "POST /v2/calls/extensive with a call that has no metaData.id",
    "ids-get": "Gong sent a call (id None) that does not match the calls schema: "
    "'id' is a required property",
    "date-range": "Gong answered GET /v2/calls with a call that has no id",
}


@pytest.mark.parametrize("scenario", ID_LESS)
def test_call_without_id_is_an_error_not_a_skip(
    outcomes: dict[str, Future[Outcome]], scenario: str
) -> None:
    run, mode = outcomes[scenario].result().run, SCENARIOS[scenario].mode

    assert run.returncode != 0
    assert ID_LESS_MESSAGE[mode] in run.stderr, run.explain()
    # Only the calls before the id-less one came out (none of its window in date-range mode).
    assert run.ids == {"ids-batch": [], "ids-get": IDS[:3], "date-range": []}[mode]


@pytest.mark.parametrize("scenario", EXTRA_FIELD)
def test_unknown_field_is_passed_through(
    outcomes: dict[str, Future[Outcome]], scenario: str
) -> None:
    run, mode = outcomes[scenario].result().run, SCENARIOS[scenario].mode

    assert run.returncode == 0, run.explain()
    assert_each_once(run, expected_ids(mode))
    (record,) = (r for r in run.records if r["id"] == IDS[2])
    assert record["futureField"] == "x"


# -- secrets ---------------------------------------------------------------------------------

SECRETS = {
    "access key": CREDENTIALS["access_key"],
    "secret": CREDENTIALS["access_key_secret"],
    "bearer token": TOKEN,
    "basic header": base64.b64encode(
        f"{CREDENTIALS['access_key']}:{CREDENTIALS['access_key_secret']}".encode()
    ).decode(),
}


@pytest.mark.parametrize("scenario", [f"debug:{name}" for name in DEBUG_RUNS])
def test_debug_output_holds_no_secret(outcomes: dict[str, Future[Outcome]], scenario: str) -> None:
    run = outcomes[scenario].result().run

    assert (run.returncode == 0) is scenario.startswith("debug:success"), run.explain()
    assert "| DEBUG " in run.stderr  # debug logging was really on
    leaked = [name for name, value in SECRETS.items() if value in run.stdout + run.stderr]
    assert leaked == []
