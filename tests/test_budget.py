"""daily_request_budget: a run stops cleanly at it, the next one resumes, usage counts for a day.

Each test runs the installed tap against the emulator and reads what a user (and a target)
sees: records and STATE on stdout, the exit code, the budget line on stderr, and the
emulator's log of the requests that reached it.
"""

from __future__ import annotations

import base64
import datetime
import json
import logging
import signal
from typing import TYPE_CHECKING, Any

import pytest

from gong_emulator import GongEmulator, seed_calls
from tap_gong_calls.progress import RunStats
from tests.tap_runner import CREDENTIALS, run_tap, start_tap

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

START, END = "2024-01-01T00:00:00Z", "2024-01-20T00:00:00Z"
CALLS = seed_calls(5000, "2024-01-01T06:00:00Z", datetime.timedelta(minutes=5))
STARTED = {c["id"]: datetime.datetime.fromisoformat(c["started"]) for c in CALLS}
NOW_HOUR = datetime.datetime.now(datetime.UTC).replace(minute=0, second=0, microsecond=0)


@pytest.fixture
def emulator() -> Iterator[GongEmulator]:
    with GongEmulator(**CREDENTIALS) as emu:
        emu.add_calls(CALLS)
        yield emu


def config(emu: GongEmulator, budget: int, **settings: object) -> dict[str, Any]:
    return {
        **CREDENTIALS,
        "api_url": emu.url,
        "start_date": START,
        "end_date": END,
        "lookback_days": 0,  # so that runs share no call: each must be emitted exactly once
        "requests_per_second": 500,
        "daily_request_budget": budget,
        **settings,
    }


def calls_state(state: dict[str, Any] | None) -> dict[str, Any]:
    assert state is not None
    return dict(state["bookmarks"]["calls"])


def used(state: dict[str, Any] | None) -> int:
    """The requests the state records for the last 24 hours."""
    return sum(count for _, count in calls_state(state).get("requests", []))


def budget_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "budget reached" in line]


def test_a_budget_stops_a_backfill_cleanly_and_later_runs_finish_it_once(
    emulator: GongEmulator,
) -> None:
    first = run_tap(config(emulator, 20))

    assert first.returncode == 0, first.explain()
    assert len(emulator.requests) <= 20
    (line,) = budget_lines(first.stderr)
    assert f"{len(emulator.requests)} of 20 requests used in the last 24 hours" in line
    assert "calls left" in line
    assert "returns at" in line
    assert "Plan: about 5,000 calls in the range" in first.stderr
    bookmark = calls_state(first.last_state)["replication_key_value"]
    assert used(first.last_state) == len(emulator.requests)
    # Nothing fetched was thrown away: every call before the bookmark was emitted, none after.
    moment = datetime.datetime.fromisoformat(bookmark.replace("Z", "+00:00"))
    assert set(first.ids) == {i for i, started in STARTED.items() if started < moment}
    assert len(first.ids) >= 1500  # ~19 pages of 100 calls, not a few windows' worth
    emulator.reset_log()

    second = run_tap(config(emulator, 1000), state=first.last_state)

    assert second.returncode == 0, second.explain()
    assert budget_lines(second.stderr) == []
    assert sorted(first.ids + second.ids) == sorted(STARTED)  # every call exactly once
    assert calls_state(second.last_state)["replication_key_value"] == END
    assert used(second.last_state) == used(first.last_state) + len(emulator.requests)
    emulator.reset_log()

    # A later run, up to now, with the budget spent by the two before.
    later = {k: v for k, v in config(emulator, used(second.last_state)).items() if k != "end_date"}
    third = run_tap(later, state=second.last_state)

    assert third.returncode == 0, third.explain()
    assert emulator.requests == []
    assert len(budget_lines(third.stderr)) == 1
    assert calls_state(third.last_state)["replication_key_value"] == END
    assert used(third.last_state) == used(second.last_state)


def test_usage_older_than_a_day_no_longer_counts(emulator: GongEmulator) -> None:
    old = NOW_HOUR - datetime.timedelta(hours=26)
    state = {"bookmarks": {"calls": {"requests": [[old.isoformat(), 5000]]}}}

    run = run_tap(config(emulator, 20), state=state)

    assert run.returncode == 0, run.explain()
    assert 0 < len(emulator.requests) <= 20
    assert calls_state(run.last_state)["requests"] == [
        [NOW_HOUR.isoformat().replace("+00:00", "Z"), len(emulator.requests)]
    ]  # the old entry is dropped from the state, this run's is counted


def test_usage_within_the_day_counts(emulator: GongEmulator) -> None:
    recent = NOW_HOUR - datetime.timedelta(hours=23)
    state = {"bookmarks": {"calls": {"requests": [[recent.isoformat(), 20]]}}}

    run = run_tap(config(emulator, 20), state=state)

    assert run.returncode == 0, run.explain()
    assert emulator.requests == []
    (line,) = budget_lines(run.stderr)
    assert "20 of 20 requests used in the last 24 hours (0 by this run)" in line
    returns = recent + datetime.timedelta(hours=25)
    assert f"returns at {returns.isoformat().replace('+00:00', 'Z')}" in line


@pytest.mark.parametrize(
    "entries",
    ["lots", [["yesterday", 3]], [["2024-01-01T00:00:00Z", -1]], [["2024-01-01T00:00:00Z"]]],
)
def test_a_malformed_usage_fails_before_any_request(emulator: GongEmulator, entries: Any) -> None:
    state = {"bookmarks": {"calls": {"requests": entries}}}

    run = run_tap(config(emulator, 20), state=state)

    assert run.returncode == 1
    assert emulator.requests == []
    assert "bookmarks.calls.requests" in run.stderr
    assert "Traceback" not in run.stderr


def test_with_every_stream_a_stopped_run_emits_every_record_of_its_requests(
    emulator: GongEmulator,
) -> None:
    settings = {"end_date": "2024-01-05T00:00:00Z"}  # 1,000 calls
    end = datetime.datetime(2024, 1, 5, tzinfo=datetime.UTC)
    expected = {i for i, started in STARTED.items() if started < end}

    first = run_tap(config(emulator, 15, **settings), streams=None)

    assert first.returncode == 0, first.explain()
    assert len(emulator.requests) <= 15
    assert len(budget_lines(first.stderr)) == 1
    bookmark = calls_state(first.last_state)["replication_key_value"]
    moment = datetime.datetime.fromisoformat(bookmark.replace("Z", "+00:00"))
    covered = {i for i in expected if STARTED[i] < moment}
    assert covered
    assert {r["id"] for r in first.records_of("calls")} == covered
    transcripts = [r["callId"] for r in first.records_of("call_transcripts")]
    assert sorted(transcripts) == sorted(covered)
    asked = [
        i
        for r in emulator.requests
        if r.path.endswith("/transcript")
        for i in (r.body or {})["filter"]["callIds"]
    ]
    assert sorted(asked) == sorted(covered)  # no transcript asked for a call left unemitted
    emulator.reset_log()

    second = run_tap(config(emulator, 1000, **settings), state=first.last_state, streams=None)

    assert second.returncode == 0, second.explain()
    both = first.records_of("calls") + second.records_of("calls")
    assert sorted(r["id"] for r in both) == sorted(expected)
    transcripts += [r["callId"] for r in second.records_of("call_transcripts")]
    assert sorted(transcripts) == sorted(expected)


def test_a_killed_runs_requests_count_up_to_its_last_state(
    emulator: GongEmulator, tmp_path: Path
) -> None:
    states = []
    with start_tap(config(emulator, 5000, requests_per_second=20), tmp_path) as tap:
        assert tap.stdout is not None
        for line in tap.stdout:
            message = json.loads(line)
            if message["type"] == "STATE":
                states.append(message["value"])
                if "replication_key_value" in message["value"]["bookmarks"].get("calls", {}):
                    break
        tap.send_signal(signal.SIGKILL)
        tap.wait(timeout=10)
    # Counted as they go out, so the last STATE counts the requests in flight too.
    counted = used(states[-1])
    assert counted > 0
    # The killed run's requests in flight may still reach the emulator: the next run uses
    # other credentials of the same company, so that its own requests can be told apart.
    emulator.add_client("next-run-key", "next-run-secret")
    other = {"access_key": "next-run-key", "access_key_secret": "next-run-secret"}

    run = run_tap({**config(emulator, counted), **other}, state=states[-1])

    assert run.returncode == 0, run.explain()
    assert [r for r in emulator.requests if "next-run-key" in decoded(r.authorization)] == []
    assert len(budget_lines(run.stderr)) == 1


def decoded(authorization: str | None) -> str:
    """The key of a Basic authorization header."""
    return base64.b64decode((authorization or "Basic ").split(" ", 1)[1]).decode()


IDS = [c["id"] for c in CALLS[:250]]


def test_call_ids_run_all_or_nothing_and_count_its_requests(emulator: GongEmulator) -> None:
    ids_config = {**config(emulator, 2), "call_ids": IDS}
    del ids_config["start_date"], ids_config["end_date"]

    refused = run_tap(ids_config)  # 250 ids cost 3 requests: more than 2

    assert refused.returncode == 0, refused.explain()
    assert emulator.requests == []
    assert refused.ids == []
    (line,) = budget_lines(refused.stderr)
    assert "0 of 2 requests used" in line
    assert "about 250 calls left" in line

    done = run_tap({**ids_config, "daily_request_budget": 10})

    assert done.returncode == 0, done.explain()
    assert sorted(done.ids) == sorted(IDS)
    assert used(done.last_state) == len(emulator.requests) == 3
    emulator.reset_log()

    again = run_tap({**ids_config, "daily_request_budget": 5}, state=done.last_state)

    assert again.returncode == 0, again.explain()
    assert emulator.requests == []  # 3 of 5 used today: the 3 this run needs do not fit
    assert len(budget_lines(again.stderr)) == 1


def test_the_progress_line_shows_the_budget(caplog: pytest.LogCaptureFixture) -> None:
    stats = RunStats(progress_every_seconds=0, budget=5000, budget_used_before=120)
    stats.requests = 30
    with caplog.at_level(logging.INFO):
        stats.maybe_log_progress(logging.getLogger("test"))
    assert "budget 150/5000 used" in caplog.text


def test_a_reimport_the_budget_cuts_short_is_activated_by_the_run_that_completes_it(
    emulator: GongEmulator,
) -> None:
    # No end_date and no state: a full re-import (issue 16) that a budget of 20 cannot finish.
    settings = {k: v for k, v in config(emulator, 20).items() if k != "end_date"}
    first = run_tap(settings)

    assert first.returncode == 0, first.explain()
    assert budget_lines(first.stderr)
    kinds = {m["type"] for m in first.messages}
    assert "ACTIVATE_VERSION" not in kinds  # cut short: it deletes nothing
    version = calls_state(first.last_state)["reimport_version"]
    assert {m["version"] for m in first.messages if m["type"] == "RECORD"} == {version}

    second = run_tap({**settings, "daily_request_budget": 1000}, state=first.last_state)

    assert second.returncode == 0, second.explain()
    assert budget_lines(second.stderr) == []
    assert "Continuing the full re-import an earlier run began" in second.stderr
    assert {m["version"] for m in second.messages if m["type"] == "RECORD"} == {version}
    activated = [m for m in second.messages if m["type"] == "ACTIVATE_VERSION"]
    assert [(m["stream"], m["version"]) for m in activated] == [("calls", version)]
    assert sorted({*first.ids, *second.ids}) == sorted(STARTED)
    assert "reimport_version" not in calls_state(second.last_state)

    third = run_tap({**settings, "daily_request_budget": 1000}, state=second.last_state)

    assert third.returncode == 0, third.explain()
    assert [m for m in third.messages if m["type"] == "ACTIVATE_VERSION"] == []
