"""call_transcripts alone by id: unknown ids are told from transcripts not ready yet.

With private calls loaded in full (private_calls: include): by default their privacy is read
first, which costs the calls' lookups (tests/test_private_calls.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from gong_emulator import SCOPE_BASIC, SCOPE_TRANSCRIPT, GongEmulator, seed_calls
from tests.tap_runner import CREDENTIALS, config, run_tap

CALLS = seed_calls(120, "2024-01-01T00:00:00Z")
IDS = [str(c["id"]) for c in CALLS]
NOT_READY = IDS[3]
UNKNOWN = ["1234567890123456789", "42"]
TRANSCRIPTS = ("call_transcripts",)


@pytest.fixture
def emulator_calls() -> list[dict[str, Any]]:
    return CALLS


@pytest.fixture
def emulator_late_transcripts() -> list[str]:
    return [NOT_READY]


def test_unknown_ids_are_missing_and_named_while_a_late_transcript_is_not_ready(
    emulator: GongEmulator,
) -> None:
    run = run_tap(
        config(emulator, private_calls="include", call_ids=[*IDS, *UNKNOWN]), streams=TRANSCRIPTS
    )

    assert run.returncode == 0, run.explain()
    assert [r["callId"] for r in run.records_of("call_transcripts")] == [
        c for c in IDS if c != NOT_READY
    ]
    for unknown in UNKNOWN:
        assert f"Call {unknown} was not found in Gong: skipped" in run.stderr
    assert f"Call {NOT_READY} was not found" not in run.stderr
    assert "missing 2" in run.stderr
    assert "transcripts not ready: 1" in run.stderr
    # Only the three ids without a transcript are looked up, in one request, with no content.
    lookups = [r.body for r in emulator.requests if r.path == "/v2/calls/extensive"]
    assert lookups == [{"filter": {"callIds": [NOT_READY, *UNKNOWN]}}]


def test_no_lookup_when_every_id_has_its_transcript(emulator: GongEmulator) -> None:
    wanted = [c for c in IDS if c != NOT_READY]

    run = run_tap(config(emulator, private_calls="include", call_ids=wanted), streams=TRANSCRIPTS)

    assert run.returncode == 0, run.explain()
    assert len(run.records_of("call_transcripts")) == len(wanted)
    assert {r.path for r in emulator.requests} == {"/v2/calls/transcript"}
    assert "missing 0" in run.stderr


def test_a_list_of_only_unknown_ids_fails_like_the_other_selections(
    emulator: GongEmulator,
) -> None:
    run = run_tap(config(emulator, private_calls="include", call_ids=UNKNOWN), streams=TRANSCRIPTS)

    assert run.returncode == 1
    assert run.records == []
    assert "None of the 2 call_ids was found in Gong" in run.stderr, run.explain()


def test_without_the_extensive_scope_each_unsure_id_is_looked_up_by_get() -> None:
    scopes = frozenset({SCOPE_BASIC, SCOPE_TRANSCRIPT})
    with GongEmulator(**CREDENTIALS, scopes=scopes) as emu:
        emu.add_calls(CALLS[:5])
        emu.set_transcript_ready(NOT_READY, False)
        run = run_tap(
            config(emu, private_calls="include", call_ids=[*IDS[:5], *UNKNOWN]), streams=TRANSCRIPTS
        )
        gets = sorted(r.path for r in emu.requests if r.method == "GET")

    assert run.returncode == 0, run.explain()
    assert len(run.records_of("call_transcripts")) == 4
    assert gets == sorted(f"/v2/calls/{c}" for c in [NOT_READY, *UNKNOWN])
    assert "missing 2" in run.stderr
    assert "api:calls:read:extensive" in run.stderr
