"""Date-range mode: windows, the UTC bookmark, lookback, resuming, and Gong's empty-range 404."""

from __future__ import annotations

import datetime
import itertools
import json
from typing import TYPE_CHECKING, Any

import pytest

from gong_emulator import Fault, GongEmulator, make_call, seed_calls
from tap_gong_calls.timestamps import parse_utc
from tests.tap_runner import CREDENTIALS, completed_range_state, config, run_tap, split_usage

if TYPE_CHECKING:
    from collections.abc import Iterator

WEEK_START = "2024-06-03T00:00:00Z"
WEEK = seed_calls(250, WEEK_START, datetime.timedelta(minutes=40))  # 250 calls over ~7 days
# A busy week, 1,400 calls: several windows of a few pages each.
BUSY_WEEK = [
    make_call(str(9_500_000_000_000_000_000 + i), c["started"])
    for i, c in enumerate(seed_calls(1400, WEEK_START, datetime.timedelta(minutes=7)))
]
END = "2024-06-11T00:00:00Z"
TWO_YEARS_BEFORE = "2022-06-01T00:00:00Z"


@pytest.fixture
def emulator_calls() -> list[dict[str, Any]]:
    return WEEK


def list_requests(emu: GongEmulator) -> list[dict[str, str]]:
    return [r.query for r in emu.requests if r.path == "/v2/calls"]


def test_a_sparse_two_year_backfill_emits_each_call_once_for_a_few_requests(
    emulator: GongEmulator,
) -> None:
    run = run_tap(config(emulator, start_date=TWO_YEARS_BEFORE, end_date=END))

    assert run.returncode == 0, run.explain()
    assert sorted(run.ids) == sorted(c["id"] for c in WEEK)
    assert len(set(run.ids)) == len(run.ids)
    assert len(emulator.requests) <= 3 + 30
    # Every STATE also counts the run's requests, by hour (the daily request budget).
    state, used = split_usage(run.last_state)
    assert used == len(emulator.requests)
    assert state == completed_range_state(END)
    assert "Mode: date range, calls from 2022-06-01T00:00:00Z to 2024-06-11T00:00:00Z" in run.stderr
    # No calls were asked for by id: the Summary says what the probe counted in the range.
    assert "Summary: in range about 250, emitted 250, missing 0" in run.stderr


@pytest.fixture
def busy() -> Iterator[GongEmulator]:
    with GongEmulator(**CREDENTIALS) as emu:
        emu.add_calls(BUSY_WEEK)
        yield emu


def test_a_probe_then_windows_of_a_few_pages_that_tile_the_range(busy: GongEmulator) -> None:
    run = run_tap(config(busy, start_date="2024-06-01T00:00:00Z", end_date=END))

    assert run.returncode == 0, run.explain()
    assert sorted(run.ids) == sorted(c["id"] for c in BUSY_WEEK)
    probe, *queries = list_requests(busy)
    # The first page over the whole range says 1,400 calls: windows of ~300 follow, side by side.
    assert (probe["fromDateTime"], probe["toDateTime"]) == ("2024-06-01T00:00:00Z", END)
    assert "cursor" not in probe
    assert len(queries) <= 14 + 6
    assert any("cursor" in q for q in queries), "a window of a few pages follows its cursor"
    windows = sorted({(q["fromDateTime"], q["toDateTime"]) for q in queries})
    assert windows[0][0] == "2024-06-01T00:00:00Z"
    assert windows[-1][1] == END
    assert all(a[1] == b[0] for a, b in itertools.pairwise(windows))
    # Each window's bookmark is announced as it completes.
    bookmarks = [s["bookmarks"]["calls"]["replication_key_value"] for s in run.states]
    assert bookmarks == sorted(bookmarks, key=parse_utc)
    assert len(bookmarks) >= 2


def test_a_second_run_reads_only_the_lookback_and_picks_up_new_and_late_calls(
    emulator: GongEmulator,
) -> None:
    first = run_tap(config(emulator, start_date=TWO_YEARS_BEFORE, end_date=END))
    assert first.returncode == 0, first.explain()
    new = seed_calls(50, "2024-06-11T01:00:00Z", datetime.timedelta(minutes=20))
    new = [make_call(str(9_100_000_000_000_000_000 + i), c["started"]) for i, c in enumerate(new)]
    late = make_call("9200000000000000001", "2024-06-10T15:00:00-08:00")  # 23:00Z, in lookback
    too_old = make_call("9200000000000000002", "2024-06-05T12:00:00Z")  # outside lookback
    emulator.add_calls([*new, late, too_old])
    emulator.reset_log()

    second = run_tap(
        config(emulator, start_date=TWO_YEARS_BEFORE, end_date="2024-06-12T00:00:00Z"),
        state=first.last_state,
    )

    assert second.returncode == 0, second.explain()
    in_lookback = {
        c["id"] for c in WEEK if parse_utc(c["started"]) >= parse_utc("2024-06-10T00:00Z")
    }
    assert set(second.ids) == {c["id"] for c in new} | {late["id"]} | in_lookback
    assert len(set(second.ids)) == len(second.ids)
    assert too_old["id"] not in second.ids
    assert min(parse_utc(q["fromDateTime"]) for q in list_requests(emulator)) == parse_utc(
        "2024-06-10T00:00:00Z"
    )
    assert second.last_state is not None
    assert (
        second.last_state["bookmarks"]["calls"]["replication_key_value"] == "2024-06-12T00:00:00Z"
    )


@pytest.mark.slow
def test_a_run_that_fails_midway_resumes_from_its_last_state_without_loss(
    busy: GongEmulator,
) -> None:
    emulator = busy
    settings = {"start_date": "2024-06-01T00:00:00Z", "end_date": END, "backoff_base_seconds": 0.01}
    answer = emulator._answer

    answered = itertools.count(1)

    def break_after_six_list_pages(request, **kwargs):
        # From the seventh list request on, Gong fails for good: the run dies mid-range.
        # (Counted here: side-by-side windows may be answered, and logged, out of order.)
        if request.path == "/v2/calls" and next(answered) == 7:
            emulator.inject(Fault("status", path="/v2/calls", status=500, times=-1))
        return answer(request, **kwargs)

    emulator._answer = break_after_six_list_pages  # type: ignore[method-assign]
    try:
        interrupted = run_tap(config(emulator, **settings))
    finally:
        emulator._answer = answer  # type: ignore[method-assign]
        emulator.clear_faults()

    assert interrupted.returncode != 0
    assert "HTTP 500 from GET /v2/calls" in interrupted.stderr
    assert len(interrupted.ids) < len(BUSY_WEEK)
    assert len(set(interrupted.ids)) == len(interrupted.ids)
    resumed = run_tap(config(emulator, **settings), state=interrupted.last_state)

    assert resumed.returncode == 0, resumed.explain()
    assert set(interrupted.ids) | set(resumed.ids) == {c["id"] for c in BUSY_WEEK}
    assert len(set(resumed.ids)) == len(resumed.ids)


def test_mixed_offsets_are_compared_as_instants(emulator: GongEmulator) -> None:
    inside = make_call("9300000000000000001", "2024-06-11T01:59:59-08:00")  # 09:59:59Z
    outside = make_call("9300000000000000002", "2024-06-11T15:30:00+05:30")  # 10:00:00Z
    emulator.add_calls([inside, outside])

    run = run_tap(
        config(emulator, start_date="2024-06-10T10:00:00Z", end_date="2024-06-11T10:00:00Z")
    )

    assert run.returncode == 0, run.explain()
    assert inside["id"] in run.ids
    assert outside["id"] not in run.ids
    assert run.last_state is not None
    assert run.last_state["bookmarks"]["calls"]["replication_key_value"] == "2024-06-11T10:00:00Z"


def test_workspace_filter_is_sent_on_every_page(emulator: GongEmulator) -> None:
    other = [
        make_call(str(9_400_000_000_000_000_000 + i), c["started"], workspaceId="555")
        for i, c in enumerate(WEEK[:150])
    ]
    emulator.add_calls(other)

    run = run_tap(
        config(emulator, start_date="2024-06-01T00:00:00Z", end_date=END, workspace_id="555")
    )

    assert run.returncode == 0, run.explain()
    assert sorted(run.ids) == sorted(c["id"] for c in other)
    assert all(q.get("workspaceId") == "555" for q in list_requests(emulator))


def test_an_empty_range_is_zero_calls_not_an_error(emulator: GongEmulator) -> None:
    run = run_tap(
        config(emulator, start_date="2020-01-01T00:00:00Z", end_date="2020-03-01T00:00:00Z")
    )

    assert run.returncode == 0, run.explain()
    assert run.records == []
    assert run.last_state is not None
    assert run.last_state["bookmarks"]["calls"]["replication_key_value"] == "2020-03-01T00:00:00Z"


def test_any_other_404_fails_with_gongs_message(emulator: GongEmulator) -> None:
    emulator.inject(Fault("status", path="/v2/calls", status=404, times=-1))

    run = run_tap(config(emulator, start_date="2024-06-01T00:00:00Z", end_date=END))

    assert run.returncode != 0
    assert run.records == []
    assert "HTTP 404 from GET /v2/calls" in run.stderr


def test_state_stays_small_whatever_the_number_of_calls(emulator: GongEmulator) -> None:
    run = run_tap(config(emulator, start_date=TWO_YEARS_BEFORE, end_date=END))

    assert run.returncode == 0, run.explain()
    assert max(len(json.dumps(s)) for s in run.states) < 300


def test_a_corrupt_bookmark_is_a_clear_error_before_any_request(emulator: GongEmulator) -> None:
    state = {"bookmarks": {"calls": {"replication_key": "started", "replication_key_value": "x"}}}

    run = run_tap(config(emulator, start_date=TWO_YEARS_BEFORE, end_date=END), state=state)

    assert run.returncode != 0
    assert emulator.requests == []
    assert "state.json cannot be used: its bookmark 'x' (bookmarks.calls" in run.stderr
    assert "Traceback" not in run.stderr


def test_calls_bunched_in_a_long_range_split_their_window_and_arrive_once() -> None:
    # 2,400 calls within two days of a 60-day range: windows planned from the average density
    # are far too long there, so such a window is cut again rather than paged through.
    bunched = [
        make_call(str(9_600_000_000_000_000_000 + i), c["started"])
        for i, c in enumerate(
            seed_calls(2400, "2024-03-10T00:00:00Z", datetime.timedelta(minutes=1))
        )
    ]
    with GongEmulator(**CREDENTIALS) as emu:
        emu.add_calls(bunched)
        run = run_tap(
            config(emu, start_date="2024-02-01T00:00:00Z", end_date="2024-04-01T00:00:00Z")
        )
        requests = list_requests(emu)

    assert run.returncode == 0, run.explain()
    assert sorted(run.ids) == sorted(c["id"] for c in bunched)
    chains: dict[tuple[str, str], int] = {}
    for q in requests:
        window = (q["fromDateTime"], q["toDateTime"])
        chains[window] = chains.get(window, 0) + 1
    assert max(chains.values()) <= 10  # no window paged through more than ten pages
    # The 24 pages they fill, the probe, a window before them and one after.
    assert len(requests) <= 24 + 6
    assert run.last_state is not None
    assert run.last_state["bookmarks"]["calls"]["replication_key_value"] == "2024-04-01T00:00:00Z"
