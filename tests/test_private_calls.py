"""Private calls are private by default (private_calls: metadata).

Gong shows everyone only when a private call occurred and who owns it. So by default its calls
row holds just that, and nothing of it reaches the other streams: no participants, details,
transcript (never even requested) or reviews, only tombstones that blank a copy loaded before
the call turned private. ``exclude`` tombstones the calls row too; ``include`` loads it all.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

import pytest

from gong_emulator import GongEmulator, make_call, seed_calls
from tests.tap_runner import ALL_STREAMS, CREDENTIALS, config, run_tap

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.tap_runner import TapRun

NOW = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
START = NOW - datetime.timedelta(days=90)
CALLS = seed_calls(20, START.isoformat(), datetime.timedelta(days=1))
PRIVATE = make_call(
    "7400000000000000001", (START + datetime.timedelta(hours=30)).isoformat(), isPrivate=True
)
SHOWN = {"id", "scheduled", "started", "primaryUserId", "workspaceId", "isPrivate"}
EVERY_STREAM = (*ALL_STREAMS, "answered_scorecards")


@pytest.fixture(scope="module")
def emulator() -> Iterator[GongEmulator]:
    with GongEmulator(**CREDENTIALS) as emu:
        emu.add_calls([*CALLS, PRIVATE])
        emu.seed_company(users=20, reviews=120)
        yield emu


@pytest.fixture(scope="module")
def runs(emulator: GongEmulator) -> dict[str, Any]:
    """One run of every call stream and the reviews per setting (None: the default)."""
    found: dict[str, Any] = {}
    for setting in (None, "exclude", "include"):
        emulator.reset_log()
        extra: dict[str, Any] = {} if setting is None else {"private_calls": setting}
        found[str(setting)] = run_tap(
            config(emulator, start_date=START.isoformat(), **extra), streams=EVERY_STREAM
        )
        found[f"{setting} transcripts asked"] = [
            r.body for r in emulator.requests if r.path == "/v2/calls/transcript"
        ]
    return found


def of_private(run: TapRun, stream: str) -> list[dict[str, Any]]:
    return [r for r in run.records_of(stream) if PRIVATE["id"] in (r.get("id"), r.get("callId"))]


def test_by_default_a_private_call_keeps_only_what_gong_shows_everyone(
    runs: dict[str, Any],
) -> None:
    run = runs["None"]

    assert run.returncode == 0, run.explain()
    (row,) = of_private(run, "calls")
    assert {k for k, v in row.items() if v is not None} == SHOWN
    assert row["started"] == PRIVATE["started"]
    assert row["primaryUserId"] == PRIVATE["primaryUserId"]
    assert row["isPrivate"] is True
    assert "private: 1 metadata only" in run.stderr


def test_by_default_nothing_else_of_a_private_call_is_written(
    runs: dict[str, Any], emulator: GongEmulator
) -> None:
    run = runs["None"]
    for stream in ("call_participants", "call_details", "call_transcripts"):
        written = of_private(run, stream)
        assert written  # tombstones blank a copy loaded before
        for record in written:
            assert record["_sdc_deleted_at"] is not None
            content = {k for k, v in record.items() if v is not None}
            assert content <= {"callId", "id", "_sdc_deleted_at"}, stream
    asked = runs["None transcripts asked"]
    assert PRIVATE["id"] not in str(asked)  # its transcript is never requested
    reviews = [r for r in emulator.answered_scorecards if str(r["callId"]) == PRIVATE["id"]]
    assert reviews  # the emulator reviewed it
    by_key = {r["answeredScorecardId"]: r for r in run.records_of("answered_scorecards")}
    for review in reviews:
        record = by_key[str(review["answeredScorecardId"])]
        assert record["_sdc_deleted_at"] is not None
        assert record["answers"] is None
        assert record["callId"] is None


def test_exclude_tombstones_the_calls_row_and_warns_nothing(runs: dict[str, Any]) -> None:
    run = runs["exclude"]

    assert run.returncode == 0, run.explain()
    (row,) = of_private(run, "calls")
    assert row["_sdc_deleted_at"] is not None
    assert row["started"] is None
    assert "private: 1 tombstoned" in run.stderr


def test_include_loads_a_private_call_in_full(runs: dict[str, Any]) -> None:
    run = runs["include"]

    assert run.returncode == 0, run.explain()
    (row,) = of_private(run, "calls")
    assert row["title"] == PRIVATE["title"]
    assert [r["callId"] for r in run.records_of("call_transcripts")].count(PRIVATE["id"]) == 1
    assert "private: 1 in full" in run.stderr


def test_the_deprecated_setting_still_works_and_says_what_replaces_it(
    emulator: GongEmulator,
) -> None:
    run = run_tap(
        config(emulator, start_date=START.isoformat(), exclude_private_calls=True),
        streams=("calls",),
    )

    assert run.returncode == 0, run.explain()
    (row,) = of_private(run, "calls")
    assert row["_sdc_deleted_at"] is not None
    assert "exclude_private_calls is deprecated: set private_calls to exclude" in run.stderr
