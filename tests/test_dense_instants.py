"""Any number of calls at one instant (bulk-imported recordings share one `started` second)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from gong_emulator import GongEmulator, make_call, seed_calls
from tests.tap_runner import (
    ALL_STREAMS,
    CREDENTIALS,
    completed_range_state,
    config,
    run_tap,
    split_usage,
)

WEEK = seed_calls(250, "2024-06-03T00:00:00Z", datetime.timedelta(minutes=40))
START, END = "2024-06-01T00:00:00Z", "2024-06-11T00:00:00Z"
RANGE = {"start_date": START, "end_date": END}
# The dense part: ceil(1,100 / 100) pages, the probe of its second, and a few windows around it.
DENSE_REQUESTS = 15


def same_second(n: int, second: str) -> list[dict[str, object]]:
    """``n`` calls that all started within ``second`` (some with a fraction, as Zoom's do)."""
    fractions = ("", ".250", ".999", ".5")
    return [
        make_call(str(9_700_000_000_000_000_000 + i), f"{second}{fractions[i % 4]}Z")
        for i in range(n)
    ]


DENSE = same_second(1100, "2024-06-05T12:00:00")


@pytest.fixture
def emulator_calls() -> list[dict[str, Any]]:
    return WEEK


@pytest.mark.slow
def test_1100_calls_in_one_second_arrive_once_for_about_a_request_per_page(
    emulator: GongEmulator,
) -> None:
    week_alone = run_tap(config(emulator, **RANGE))
    assert week_alone.returncode == 0, week_alone.explain()
    week_requests = len(emulator.requests)
    emulator.add_calls(DENSE)
    emulator.reset_log()

    run = run_tap(config(emulator, **RANGE))

    assert run.returncode == 0, run.explain()
    assert sorted(run.ids) == sorted(str(c["id"]) for c in [*WEEK, *DENSE])
    assert len(emulator.requests) - week_requests <= DENSE_REQUESTS
    windows = {(r.query["fromDateTime"], r.query["toDateTime"]) for r in emulator.requests}
    assert all("." not in bound for window in windows for bound in window), windows
    # Every STATE also counts the run's requests, by hour (the daily request budget).
    state, used = split_usage(run.last_state)
    assert used == len(emulator.requests)
    assert state == completed_range_state(END)
    bookmarks = [s["bookmarks"]["calls"]["replication_key_value"] for s in run.states]
    assert bookmarks == sorted(bookmarks)


@pytest.mark.slow
def test_every_stream_of_a_dense_second_arrives_once(emulator: GongEmulator) -> None:
    emulator.add_calls(DENSE)

    run = run_tap(config(emulator, **RANGE), streams=ALL_STREAMS)

    assert run.returncode == 0, run.explain()
    expected = sorted(str(c["id"]) for c in [*WEEK, *DENSE])
    assert sorted(r["id"] for r in run.records_of("calls")) == expected
    for stream in ("call_details", "call_transcripts"):
        assert sorted(r["callId"] for r in run.records_of(stream)) == expected, stream
    assert run.last_state is not None
    assert run.last_state["bookmarks"]["calls"]["replication_key_value"] == END


def test_a_dense_second_at_the_start_of_the_range_is_read_through() -> None:
    # No calls before it: the probe's first page is all one second.
    with GongEmulator(**CREDENTIALS) as emu:
        emu.add_calls(same_second(1100, "2024-06-01T00:00:00"))
        run = run_tap(config(emu, **RANGE))
        requests = len(emu.requests)

    assert run.returncode == 0, run.explain()
    assert len(run.ids) == len(set(run.ids)) == 1100
    assert requests <= DENSE_REQUESTS
