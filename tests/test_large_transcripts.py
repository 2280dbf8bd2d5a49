"""Large transcripts: each arrives complete, and transcript requests carry fewer ids."""

from __future__ import annotations

import pytest

from gong_emulator import GongEmulator, seed_calls
from tests.tap_runner import CREDENTIALS, config, run_tap

pytestmark = pytest.mark.slow  # 10 MB of transcripts

CALLS = seed_calls(130, "2024-01-01T00:00:00Z")
IDS = [str(c["id"]) for c in CALLS]
LARGE = IDS[:10]  # half of the first request's 20 ids


def test_large_transcripts_arrive_whole_in_requests_of_fewer_ids() -> None:
    with GongEmulator(**CREDENTIALS) as emu:
        emu.add_calls(CALLS)
        for call_id in LARGE:
            emu.set_transcript_bytes(call_id, 1_000_000)
        run = run_tap(
            config(emu, call_ids=IDS),
            streams=("calls", "call_transcripts"),
        )
        asked = [
            r.body["filter"]["callIds"]
            for r in emu.requests
            if r.path == "/v2/calls/transcript" and r.body
        ]
        expected = {c: emu.transcript_of(c) for c in IDS}

    assert run.returncode == 0, run.explain()
    records = run.records_of("call_transcripts")
    assert [r["callId"] for r in records] == IDS
    assert all(r["transcript"] == expected[r["callId"]] for r in records)
    sizes = [len(ids) for ids in asked]
    # 20 first, alone; they average ~0.5 MB, so the next requests carry ~24 ids (12 MB), and
    # more as ordinary transcripts bring the average down. Those overlap, so they may reach
    # Gong in another order than they were planned in: their sizes are checked as a set.
    assert sizes[0] == 20, sizes
    rest = sizes[1:]
    assert sum(10 < size < 30 for size in rest) >= 2, sizes
    assert max(rest) > 30, sizes
    assert sum(sizes) == len(IDS)
