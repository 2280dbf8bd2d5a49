"""What Gong may send that strict consumers trip on, and a cursor it stops honouring.

NUL characters and lone surrogates (gong/text.py), ids as JSON numbers (numeric_ids.py), and
the 400 "cursor has expired" mid-listing (gong/paging.py): each run of the installed tap against
the emulator loads everything, once, and says what it did; or fails saying why.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest

from gong_emulator import (
    NUL_CRM_FIELD,
    Fault,
    GongEmulator,
    carries_odd_text,
    seed_calls,
    sends_numeric_ids,
)
from tests.tap_runner import ALL_STREAMS, CREDENTIALS, config, run_tap

CALLS = seed_calls(6, "2024-05-01T00:00:00Z")
RANGE = {"start_date": "2024-05-01T00:00:00Z", "end_date": "2024-05-02T00:00:00Z"}


@pytest.fixture
def emulator_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    return dict(getattr(request, "param", {}))


@pytest.fixture
def emulator_calls() -> list[dict[str, Any]]:
    return CALLS


def warnings_about(stderr: str, text: str) -> list[str]:
    return [line for line in stderr.splitlines() if "WARNING" in line and text in line]


@pytest.mark.parametrize("emulator_options", [{"nul_characters": True}], indirect=True)
def test_nul_characters_are_removed_at_any_depth_counted_and_named_once(
    emulator: GongEmulator,
) -> None:
    run = run_tap(config(emulator, **RANGE), streams=ALL_STREAMS)

    assert run.returncode == 0, run.explain()
    odd = [c for c in emulator.calls if carries_odd_text(c)]
    assert len(odd) == 3
    assert "\\u0000" not in run.stdout
    assert "\\ud800" not in run.stdout
    # A title, a transcript sentence and a CRM value of each odd call.
    assert "NUL characters removed: 9" in run.stderr
    assert "lone surrogates replaced: 3" in run.stderr
    titles = {r["id"]: r["title"] for r in run.records_of("calls")}
    for call_id in odd:
        assert titles[call_id] == emulator.calls[call_id]["title"].replace("\x00", "")
    details = {r["callId"]: r for r in run.records_of("call_details")}
    crm = [
        field["value"]
        for call_id in odd
        for system in details[call_id]["context"]
        for obj in system["objects"]
        for field in obj.get("fields") or []
        if field["name"] == NUL_CRM_FIELD
    ]
    assert crm == ["Imported from the old CRM"] * 3
    # One warning per stream and field, however many calls carry it.
    named = warnings_about(run.stderr, "NUL character(s)")
    assert len(named) == 3
    assert any("stream calls" in line and ".title" in line for line in named)
    assert any("stream call_transcripts" in line for line in named)
    assert any("stream call_details" in line and ".context" in line for line in named)
    assert len(warnings_about(run.stderr, "lone UTF-16 surrogate")) == 1


@pytest.mark.parametrize("emulator_options", [{"nul_characters": True}], indirect=True)
def test_a_target_that_keeps_nul_can_have_it(emulator: GongEmulator) -> None:
    run = run_tap(config(emulator, remove_nul_characters=False, **RANGE))

    assert run.returncode == 0, run.explain()
    odd = [c for c in emulator.calls if carries_odd_text(c)]
    titles = {r["id"]: r["title"] for r in run.records_of("calls")}
    assert all(titles[c].endswith("\x00") for c in odd)
    assert "NUL characters removed" not in run.stderr
    # Lone surrogates no UTF-8 target stores: replaced whatever the setting.
    assert "lone surrogates replaced: 3" in run.stderr


@pytest.mark.parametrize("emulator_options", [{"numeric_ids": True}], indirect=True)
@pytest.mark.parametrize("mode", ["range", "ids"])
def test_ids_sent_as_numbers_are_written_as_the_same_strings_in_every_stream(
    emulator: GongEmulator, mode: str
) -> None:
    ids = list(emulator.calls)
    settings = RANGE if mode == "range" else {"call_ids": ids}
    run = run_tap(config(emulator, **settings), streams=ALL_STREAMS)

    assert run.returncode == 0, run.explain()
    assert any(sends_numeric_ids(c) for c in ids)
    assert sorted(r["id"] for r in run.records_of("calls")) == sorted(ids)
    assert sorted(r["callId"] for r in run.records_of("call_transcripts")) == sorted(ids)
    parties = run.records_of("call_participants")
    sent = {(c, str(p["id"])) for c in ids for p in emulator.extensive_of(c)["parties"]}
    assert {(r["callId"], r["id"]) for r in parties} == sent
    for record in parties:
        assert isinstance(record["id"], str)
        assert isinstance(record["callId"], str)
    said = [
        re.search(r"whose (\S+) is the JSON number \d+, not a string \(schema (\w+)\)", line)
        for line in warnings_about(run.stderr, "is the JSON number")
    ]
    fields = [(found.group(2), found.group(1)) for found in said if found]
    assert ("calls", "id") in fields
    assert ("call_transcripts", "callId") in fields
    assert len(fields) == len(set(fields)) == len(said)  # once a stream and field


def range_of_many() -> list[dict[str, Any]]:
    return seed_calls(450, "2024-05-01T00:00:00Z", datetime.timedelta(minutes=1))


def test_an_expired_cursor_restarts_the_window_and_every_call_lands_once() -> None:
    with GongEmulator(**CREDENTIALS) as emu:
        emu.add_calls(range_of_many())
        # The probe is one page; the window after it expires on its third page, once.
        emu.inject(Fault("cursor_expired", path="/v2/calls", skip=1, times=1))
        run = run_tap(config(emu, **RANGE))
        restarted = [r for r in emu.requests if r.path == "/v2/calls"]

    assert run.returncode == 0, run.explain()
    ids = [r["id"] for r in run.records_of("calls")]
    assert sorted(ids) == sorted(emu.calls)  # every call, once
    assert len(ids) == len(set(ids))
    assert len(warnings_about(run.stderr, "cursor expired")) == 1
    assert len(restarted) > 5  # the restarted pages went out again


def test_a_cursor_that_keeps_expiring_fails_saying_so() -> None:
    with GongEmulator(**CREDENTIALS) as emu:
        emu.add_calls(range_of_many())
        emu.inject(Fault("cursor_expired", path="/v2/calls", times=100))
        run = run_tap(config(emu, **RANGE))

    assert run.returncode == 1
    (line,) = [line for line in run.stderr.splitlines() if "expired 4 times" in line]
    assert "GET /v2/calls" in line
    assert "resumes from its last STATE" in line
    assert "Traceback" not in run.stderr
