"""Gong's data changes after it was loaded (issue 16), at the Singer level.

Calls made private leave tombstones; a full re-import (a date-range run without a bookmark)
versions its records and sends ACTIVATE_VERSION once complete; transcripts not ready are asked
for again on later runs, from the state, even after their call left the lookback window.
"""

from __future__ import annotations

import datetime
import json
import signal
from typing import TYPE_CHECKING, Any

import pytest

from gong_emulator import Fault, GongEmulator, make_call, seed_calls
from tests.tap_runner import (
    ALL_STREAMS,
    CREDENTIALS,
    TapRun,
    parse_messages,
    run_tap,
    start_tap,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

UTC = datetime.UTC
NOW = datetime.datetime.now(UTC).replace(microsecond=0)
# 40 calls an hour apart, the last one two hours ago: recent, so their transcripts are waited for.
CALLS = seed_calls(40, NOW - datetime.timedelta(hours=42), datetime.timedelta(hours=1))
IDS = [c["id"] for c in CALLS]
KEYS = {"calls": ("id",), "call_participants": ("callId", "id")}


@pytest.fixture
def emulator() -> Iterator[GongEmulator]:
    with GongEmulator(**CREDENTIALS) as emu:
        emu.add_calls(CALLS)
        yield emu


def config(emu: GongEmulator, **settings: object) -> dict[str, Any]:
    return {
        **CREDENTIALS,
        "api_url": emu.url,
        "requests_per_second": 500,
        "start_date": (NOW - datetime.timedelta(days=10)).isoformat(),
        **settings,
    }


def of_type(run: TapRun, kind: str) -> list[dict[str, Any]]:
    return [m for m in run.messages if m["type"] == kind]


def pending_of(state: dict[str, Any] | None) -> set[str]:
    groups = (state or {}).get("bookmarks", {}).get("calls", {}).get("pending_transcripts", [])
    return {call_id for group in groups for call_id in group["ids"]}


def transcript_asks(emu: GongEmulator) -> list[list[str]]:
    """The ids of each transcript request by id, in order."""
    filters = [
        (r.body or {}).get("filter", {}) for r in emu.requests if r.path.endswith("/transcript")
    ]
    return [f["callIds"] for f in filters if "callIds" in f]


# -- calls made private ------------------------------------------------------------------------


def test_a_call_made_private_leaves_a_tombstone_and_nothing_else_in_every_stream(
    emulator: GongEmulator,
) -> None:
    first = run_tap(config(emulator, exclude_private_calls=True), streams=ALL_STREAMS)
    assert first.returncode == 0, first.explain()
    private = IDS[-3]  # inside the lookback window of the next run
    parties = [p["id"] for p in emulator.extensive_of(private)["parties"]]
    assert parties
    emulator.add_call({**emulator.calls[private], "isPrivate": True})
    emulator.reset_log()

    run = run_tap(
        config(emulator, exclude_private_calls=True), streams=ALL_STREAMS, state=first.last_state
    )

    assert run.returncode == 0, run.explain()
    for stream in ALL_STREAMS:
        keys = KEYS.get(stream, ("callId",))
        gone = [r for r in run.records_of(stream) if r["_sdc_deleted_at"] is not None]
        expected = [(private, p) for p in parties] if len(keys) == 2 else [(private,)]
        assert [tuple(r[k] for k in keys) for r in gone] == expected, stream
        for record in gone:  # no title, no transcript, no party name: only keys and the time
            content = {k: v for k, v in record.items() if k not in (*keys, "_sdc_deleted_at")}
            assert content == dict.fromkeys(content), (stream, record)
        live = [r for r in run.records_of(stream) if r["_sdc_deleted_at"] is None]
        assert private not in {r.get("callId", r.get("id")) for r in live}, stream
    assert all(private not in ids for ids in transcript_asks(emulator))
    assert "private: 1 tombstoned" in run.stderr


def test_without_exclude_private_calls_a_private_call_is_loaded_as_any_other(
    emulator: GongEmulator,
) -> None:
    emulator.add_call({**emulator.calls[IDS[0]], "isPrivate": True})

    run = run_tap(config(emulator), streams=("calls",))

    assert run.returncode == 0, run.explain()
    assert all(r["_sdc_deleted_at"] is None for r in run.records)
    assert IDS[0] in run.ids


# -- the full re-import --------------------------------------------------------------------------


def test_a_run_without_a_bookmark_activates_its_version_after_each_streams_records(
    emulator: GongEmulator,
) -> None:
    run = run_tap(config(emulator), streams=ALL_STREAMS)

    assert run.returncode == 0, run.explain()
    activations = of_type(run, "ACTIVATE_VERSION")
    assert sorted(m["stream"] for m in activations) == sorted(ALL_STREAMS)
    (version,) = {m["version"] for m in activations}
    for stream in ALL_STREAMS:
        positions = [i for i, m in enumerate(run.messages) if m.get("stream") == stream]
        records = [run.messages[i] for i in positions if run.messages[i]["type"] == "RECORD"]
        assert records, stream
        assert {m["version"] for m in records} == {version}, stream
        assert run.messages[positions[-1]]["type"] == "ACTIVATE_VERSION", stream
    assert "Full re-import complete: sent ACTIVATE_VERSION" in run.stderr

    # The next run resumes from the bookmark: incremental, it deletes nothing.
    again = run_tap(config(emulator), streams=ALL_STREAMS, state=run.last_state)

    assert again.returncode == 0, again.explain()
    assert again.records
    assert of_type(again, "ACTIVATE_VERSION") == []
    assert all("version" not in m for m in of_type(again, "RECORD"))


def test_call_ids_and_bounded_runs_never_activate_a_version(emulator: GongEmulator) -> None:
    by_id = run_tap(config(emulator, call_ids=IDS[:5]), streams=ALL_STREAMS)
    bounded = run_tap(
        config(emulator, end_date=(NOW - datetime.timedelta(hours=10)).isoformat()),
        streams=("calls",),
    )

    for run in (by_id, bounded):
        assert run.returncode == 0, run.explain()
        assert run.records
        assert of_type(run, "ACTIVATE_VERSION") == []
        assert all("version" not in m for m in of_type(run, "RECORD"))


def test_a_reimport_failing_midway_activates_nothing(
    emulator: GongEmulator, tmp_path: Path
) -> None:
    # Windows of a few pages: the run fails after its first records, in a later window.
    emulator.add_calls(
        seed_calls(900, NOW - datetime.timedelta(days=9), datetime.timedelta(minutes=10))
    )
    with start_tap(config(emulator, backoff_base_seconds=0.01), tmp_path) as tap:
        assert tap.stdout is not None
        head = []
        for line in tap.stdout:
            head.append(line)
            if line.startswith('{"type":"RECORD"') or '"type": "RECORD"' in line:
                break
        emulator.inject(Fault("status", status=400, times=-1))  # every request from now on
        rest = tap.stdout.read()
        returncode = tap.wait(timeout=60)

    messages = parse_messages("".join(head) + rest)
    assert returncode != 0
    assert [m for m in messages if m["type"] == "RECORD"]
    assert [m for m in messages if m["type"] == "ACTIVATE_VERSION"] == []


# -- late transcripts ------------------------------------------------------------------------------


def test_a_transcript_ready_three_days_after_the_lookback_arrives_at_one_request(
    emulator: GongEmulator,
) -> None:
    late = make_call("7300000000000000001", (NOW - datetime.timedelta(days=4)).isoformat())
    emulator.add_call(late)
    emulator.set_transcript_ready(late["id"], False)
    # Private calls in full: by default the late call's privacy is looked up first (one more).
    settings = {"private_calls": "include"}
    first = run_tap(config(emulator, **settings), streams=ALL_STREAMS)
    assert first.returncode == 0, first.explain()
    assert pending_of(first.last_state) == {late["id"]}
    assert "transcripts pending: 1 (arrived 0)" in first.stderr

    still = run_tap(config(emulator, **settings), streams=ALL_STREAMS, state=first.last_state)
    assert pending_of(still.last_state) == {late["id"]}
    # What the same run costs with nothing pending, against what it costs with the late one.
    nothing_pending = json.loads(json.dumps(still.last_state))
    nothing_pending["bookmarks"]["calls"]["pending_transcripts"] = []
    emulator.reset_log()
    baseline = run_tap(config(emulator, **settings), streams=ALL_STREAMS, state=nothing_pending)
    assert baseline.returncode == 0, baseline.explain()
    baseline_requests = len(emulator.requests)
    emulator.set_transcript_ready(late["id"], True)
    emulator.reset_log()

    run = run_tap(config(emulator, **settings), streams=ALL_STREAMS, state=still.last_state)

    assert run.returncode == 0, run.explain()
    transcripts = run.records_of("call_transcripts")
    assert [r["callId"] for r in transcripts].count(late["id"]) == 1
    assert transcripts[-1]["transcript"] == emulator.transcript_of(late["id"])
    assert len(emulator.requests) == baseline_requests + 1
    assert [late["id"]] in transcript_asks(emulator)
    assert pending_of(run.last_state) == set()
    assert "transcripts pending: 0 (arrived 1)" in run.stderr


def test_a_transcript_not_ready_within_the_wait_is_given_up(emulator: GongEmulator) -> None:
    state = {
        "bookmarks": {
            "calls": {
                "replication_key": "started",
                "replication_key_value": (NOW - datetime.timedelta(hours=1)).isoformat(),
                "workspace_id": None,
                "pending_transcripts": [
                    {"since": (NOW - datetime.timedelta(days=8)).isoformat(), "ids": [IDS[0]]},
                    {"since": (NOW - datetime.timedelta(days=2)).isoformat(), "ids": [IDS[1]]},
                ],
            }
        }
    }
    emulator.set_transcript_ready(IDS[1], False)

    run = run_tap(config(emulator, lookback_days=0), streams=ALL_STREAMS, state=state)

    assert run.returncode == 0, run.explain()
    assert pending_of(run.last_state) == {IDS[1]}
    assert IDS[0] not in {i for ids in transcript_asks(emulator) for i in ids}
    assert "not ready within transcript_wait_days (7)" in run.stderr


def test_a_killed_run_and_its_resumption_lose_no_pending_transcript(
    emulator: GongEmulator, tmp_path: Path
) -> None:
    calls = seed_calls(600, NOW - datetime.timedelta(days=3), datetime.timedelta(minutes=6))
    emulator.add_calls(calls)
    not_ready = {c["id"] for c in calls[::25]}
    for call_id in not_ready:
        emulator.set_transcript_ready(call_id, False)
    settings = config(
        emulator,
        start_date=(NOW - datetime.timedelta(days=3)).isoformat(),
        lookback_days=0,
    )
    with start_tap(settings, tmp_path) as tap:
        assert tap.stdout is not None
        states: list[dict[str, Any]] = []
        for line in tap.stdout:
            message = json.loads(line)
            if message["type"] == "STATE" and pending_of(message["value"]):
                states.append(message["value"])
                break
        tap.send_signal(signal.SIGKILL)
        tap.wait(timeout=10)
    killed_with = pending_of(states[-1])
    assert killed_with < not_ready  # killed midway, some pending already

    resumed = run_tap(settings, streams=None, state=states[-1])

    assert resumed.returncode == 0, resumed.explain()
    assert pending_of(resumed.last_state) == not_ready
    for call_id in not_ready:
        emulator.set_transcript_ready(call_id, True)
    done = run_tap(settings, streams=None, state=resumed.last_state)
    assert done.returncode == 0, done.explain()
    arrived = {r["callId"] for r in done.records_of("call_transcripts")} & not_ready
    assert arrived == not_ready
    assert pending_of(done.last_state) == set()
