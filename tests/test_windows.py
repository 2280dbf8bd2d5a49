"""UTC parsing and the window planner of the date-range mode."""

from __future__ import annotations

import datetime
import itertools

import pytest

from tap_gong_calls.extract.windows import WindowPlanner
from tap_gong_calls.timestamps import UTC, format_utc, parse_utc


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-03-01T02:30:00-08:00", "2024-03-01T10:30:00Z"),
        ("2024-03-01T16:00:00+05:30", "2024-03-01T10:30:00Z"),
        ("2024-03-01T10:30:00Z", "2024-03-01T10:30:00Z"),
        ("2024-03-01T10:30:00.250Z", "2024-03-01T10:30:00.250000Z"),
        ("2024-03-01", "2024-03-01T00:00:00Z"),
    ],
)
def test_parse_utc_normalises_offsets(value: str, expected: str) -> None:
    assert format_utc(parse_utc(value)) == expected


def test_offsets_compare_as_instants_not_as_text() -> None:
    # As text "…T02:30:00-08:00" < "…T09:00:00Z", yet it is the later instant.
    assert parse_utc("2024-03-01T02:30:00-08:00") > parse_utc("2024-03-01T09:00:00Z")


def day(n: int) -> datetime.datetime:
    return datetime.datetime(2022, 1, 1, tzinfo=UTC) + datetime.timedelta(days=n)


def test_windows_cover_the_range_without_gaps_or_overlaps() -> None:
    planner = WindowPlanner(day(0), day(30))
    windows = []
    for window in planner:
        windows.append(window)
        planner.completed(10)
    assert windows[0][0] == day(0)
    assert windows[-1][1] == day(30)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(windows))


def test_a_sparse_two_year_range_costs_a_handful_of_windows() -> None:
    planner = WindowPlanner(day(0), day(730))
    windows = 0
    for _ in planner:
        windows += 1
        planner.completed(0)
    assert windows <= 7


def test_a_dense_window_shrinks_the_next_one() -> None:
    planner = WindowPlanner(day(0), day(30))
    next(planner)
    planner.completed(2000)
    start, end = next(planner)
    assert end - start == datetime.timedelta(hours=6)


def test_a_window_resizes_from_its_own_length_when_planned_ahead() -> None:
    # Windows are planned while earlier ones are still in flight: a result resizes from the
    # length of the window it came from, not from whatever the planner holds by then.
    planner = WindowPlanner(day(0), day(30), size=datetime.timedelta(days=1), target_calls=100)
    next(planner)
    planner.completed(400, span=datetime.timedelta(hours=12))
    start, end = next(planner)
    assert end - start == datetime.timedelta(hours=3)


def test_planned_windows_end_on_whole_seconds() -> None:
    # Gong reads fromDateTime/toDateTime to the second: a fraction would drop or repeat calls.
    start = datetime.datetime(2024, 1, 1, tzinfo=UTC)
    end = start + datetime.timedelta(hours=1)
    planner = WindowPlanner(start, end, size=datetime.timedelta(seconds=7.3))
    windows = list(itertools.islice(planner, 5))

    assert all(b.microsecond == 0 for _, b in windows)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(windows))
