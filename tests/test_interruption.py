"""A date-range run of all four streams killed midway, then run again from its last STATE.

The tap is read line by line, as a target would. Once a STATE with a bookmark and some records
past it have arrived, the tap gets SIGTERM (what an orchestrator sends to cancel) or SIGKILL (a
crash, an out-of-memory kill). The next run starts from the last STATE seen. Between them the
two runs must emit every call, participant, details record and transcript, each run emitting
none twice. The tap cannot run ahead of the
reader by more than a pipe buffer (about 90 records), so the signal lands mid-range.
"""

from __future__ import annotations

import datetime
import json
import re
import signal
import subprocess
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

import pytest

from gong_emulator import GongEmulator, seed_calls
from tests.tap_runner import CREDENTIALS, config, run_tap, start_tap

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.slow  # tap processes killed and run again, 600 calls

START, END = "2024-01-01T00:00:00Z", "2024-01-10T00:00:00Z"
# 600 calls, 20 minutes apart over 8+ days: windows of 1 day (72 calls), 4 days (288 calls, 3
# pages), then the rest.
CALLS = seed_calls(600, START, datetime.timedelta(minutes=20))


def instant(timestamp: str) -> datetime.datetime:
    """An ISO-8601 timestamp with Z or an offset (Python 3.10 does not read Z)."""
    return datetime.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


STARTED = {call["id"]: instant(call["started"]) for call in CALLS}
RECORDS_PAST_BOOKMARK = 30  # how far into the next window to interrupt


@pytest.fixture
def emulator_options() -> dict[str, Any]:
    return {"latency_seconds": 0.02}


@pytest.fixture
def emulator_calls() -> list[dict[str, Any]]:
    return CALLS


def settings(emu: GongEmulator) -> dict[str, Any]:
    return config(
        emu,
        start_date=START,
        end_date=END,
        lookback_days=0,  # so that a second run reads only what the first did not finish
        requests_per_second=100,
    )


def bookmark_of(state: dict[str, Any]) -> str | None:
    value = state["bookmarks"].get("calls", {}).get("replication_key_value")
    return str(value) if value else None


def run_until_interrupted(
    config: dict[str, Any], sig: signal.Signals, folder: Path
) -> tuple[list[dict[str, Any]], int]:
    """Start the tap, send ``sig`` after a bookmark and some records past it.

    Returns the messages it wrote and its exit code.
    """
    with (
        (folder / "stderr.log").open("w") as stderr,
        start_tap(config, folder, stderr=stderr) as tap,
    ):
        assert tap.stdout is not None
        messages: list[dict[str, Any]] = []
        past_bookmark: int | None = None
        try:
            for line in tap.stdout:
                messages.append(json.loads(line))
                kind = messages[-1]["type"]
                if kind == "STATE" and bookmark_of(messages[-1]["value"]):
                    past_bookmark = 0
                elif kind == "RECORD" and past_bookmark is not None:
                    past_bookmark += 1
                    if past_bookmark == RECORDS_PAST_BOOKMARK:
                        break
            tap.send_signal(sig)
            rest = tap.stdout.read()
            returncode = tap.wait(timeout=10)
        finally:
            tap.kill()
    # What a target would take in: complete lines only (SIGKILL may cut the last one short).
    complete, _, cut = rest.rpartition("\n")
    assert cut == "" or sig == signal.SIGKILL, f"a cut-off line after SIGTERM: {cut[:80]!r}"
    messages += [json.loads(line) for line in complete.splitlines() if line]
    assert past_bookmark == RECORDS_PAST_BOOKMARK, "the tap ended before it could be interrupted"
    return messages, returncode


def call_of(message: dict[str, Any]) -> str:
    """The call a RECORD message is about, whatever its stream."""
    record = message["record"]
    return str(record["id"] if message["stream"] == "calls" else record["callId"])


def keys_by_stream(messages: list[dict[str, Any]]) -> dict[str, list[tuple[str, ...]]]:
    """Each stream's record keys, in the order they came."""
    keys: dict[str, list[tuple[str, ...]]] = {}
    for message in messages:
        if message["type"] == "RECORD":
            key = (call_of(message), str(message["record"].get("id", "")))
            keys.setdefault(message["stream"], []).append(key)
    return keys


def assert_no_state_runs_ahead(messages: list[dict[str, Any]]) -> None:
    """Each STATE comes after every call, details record and transcript its bookmark covers."""
    emitted: dict[str, set[str]] = {
        "calls": set(),
        "call_details": set(),
        "call_transcripts": set(),
    }
    for message in messages:
        if message["type"] == "RECORD" and message["stream"] in emitted:
            emitted[message["stream"]].add(call_of(message))
        elif message["type"] == "STATE" and (bookmark := bookmark_of(message["value"])):
            moment = instant(bookmark)
            for stream, calls in emitted.items():
                owed = {i for i, started in STARTED.items() if started < moment} - calls
                assert owed == set(), f"STATE {bookmark} came before {len(owed)} {stream} records"


def earliest_from(requests: list[Any]) -> datetime.datetime:
    """The earliest fromDateTime of the listing requests (query for GET, body for POST).

    A request the killed run had in flight may still be logged after reset_log; it names
    callIds, not dates.
    """
    starts = [
        r.query.get("fromDateTime") or (r.body or {}).get("filter", {}).get("fromDateTime")
        for r in requests
    ]
    return min(instant(start) for start in starts if start)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_interrupted_run_resumes_from_last_state_without_loss(
    emulator: GongEmulator, sig: signal.Signals, tmp_path: Path
) -> None:
    messages, returncode = run_until_interrupted(settings(emulator), sig, tmp_path)

    if sig == signal.SIGKILL:
        assert returncode == -signal.SIGKILL
    first = keys_by_stream(messages)
    states = [m["value"] for m in messages if m["type"] == "STATE"]
    assert len(first["calls"]) < len(CALLS)
    assert_no_state_runs_ahead(messages)
    last_state = states[-1]
    bookmark = bookmark_of(last_state)
    assert bookmark is not None
    emulator.reset_log()

    second_run = run_tap(settings(emulator), state=last_state, streams=None)  # all streams

    assert second_run.returncode == 0, second_run.explain()
    assert earliest_from(emulator.requests) == instant(bookmark)  # resumed, not restarted
    second = keys_by_stream(second_run.messages)
    parties = {call_id: len(emulator.extensive_of(call_id)["parties"]) for call_id in STARTED}
    for stream in ("calls", "call_participants", "call_details", "call_transcripts"):
        for run_keys in (first.get(stream, []), second[stream]):
            assert len(run_keys) == len(set(run_keys)), f"{stream}: a record came twice in a run"
        union = set(first.get(stream, [])) | set(second[stream])
        expected = sum(parties.values()) if stream == "call_participants" else len(STARTED)
        assert len(union) == expected, stream
        assert {call_id for call_id, _ in union} == set(STARTED), stream
    assert bookmark_of(second_run.last_state or {"bookmarks": {}}) == END


def test_a_run_cut_short_by_sigterm_does_not_exit_0(emulator: GongEmulator, tmp_path: Path) -> None:
    messages, returncode = run_until_interrupted(settings(emulator), signal.SIGTERM, tmp_path)

    assert returncode == 128 + signal.SIGTERM  # as a shell reports a process ended by SIGTERM
    # The Summary counts what reached stdout, not what was fetched.
    written = Counter(m["stream"] for m in messages if m["type"] == "RECORD")
    summary = re.search(r"Summary: .*", (tmp_path / "stderr.log").read_text())
    assert summary is not None
    assert f"emitted {written['calls']}," in summary.group(0)
    for stream in ("call_participants", "call_details", "call_transcripts"):
        assert f"{stream} {written[stream]}," in summary.group(0)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_ends_a_run_waiting_on_a_slow_server_at_once(
    sig: signal.Signals, tmp_path: Path
) -> None:
    # Gong answers after 30 s; the tap must not wait for its requests in flight to end.
    with GongEmulator(**CREDENTIALS, latency_seconds=30) as emu:
        emu.add_calls(CALLS)
        with start_tap(settings(emu), tmp_path, stderr=subprocess.PIPE) as tap:
            assert tap.stderr is not None
            try:
                # Every stream is selected (no catalog): the first request, of the first stream
                # (users), leaves right after its sync begins.
                for line in tap.stderr:
                    if "Beginning" in line and "sync of" in line:
                        break
                time.sleep(1)
                tap.send_signal(sig)
                stdout, stderr = tap.communicate(timeout=15)  # well before any answer
            finally:
                tap.kill()
        answered = [r for r in emu.requests if r.status]

    assert tap.returncode == 128 + sig
    assert answered == []  # it ended while its first request was still in flight
    last = json.loads(stdout.splitlines()[-1])
    assert last["type"] == "STATE"
    assert "Summary: emitted 0, " in stderr  # the probe never answered: no range size
