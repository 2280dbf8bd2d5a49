"""The bookmark covers only what was read: future end_date, future or foreign states, filters.

Each test runs the installed tap as a process against the emulator and checks the records,
the exit code, stderr and the STATE, as a scheduler and its target would see them.
"""

from __future__ import annotations

import datetime
import json
from typing import TYPE_CHECKING, Any

import pytest

from gong_emulator import DEFAULT_WORKSPACE_ID, make_call, seed_calls
from tap_gong_calls.state import StateError, check_state, read_bookmark
from tap_gong_calls.timestamps import format_utc, parse_utc
from tests.tap_runner import config, run_tap

if TYPE_CHECKING:
    from gong_emulator import GongEmulator

UTC = datetime.UTC
NOW = datetime.datetime.now(UTC).replace(microsecond=0)
# 24 calls over the last day: a date range up to now holds every one of them.
RECENT = seed_calls(24, format_utc(NOW - datetime.timedelta(days=1)), datetime.timedelta(hours=1))
WEEK_START, WEEK_END = "2024-06-03T00:00:00Z", "2024-06-10T00:00:00Z"
WEEK = [
    make_call(str(7_800_000_000_000_000_000 + i), call["started"])
    for i, call in enumerate(seed_calls(40, WEEK_START, datetime.timedelta(hours=4)))
]


@pytest.fixture
def emulator_calls() -> list[dict[str, Any]]:
    return [*RECENT, *WEEK]


def state_of(moment: str, **extra: object) -> dict[str, Any]:
    calls = {"replication_key": "started", "replication_key_value": moment, **extra}
    return {"bookmarks": {"calls": calls}}


def bookmark(run_state: dict[str, Any] | None) -> datetime.datetime:
    assert run_state is not None
    return parse_utc(run_state["bookmarks"]["calls"]["replication_key_value"])


# -- the bookmark never passes what was read ------------------------------------------------


def test_a_future_end_date_does_not_skip_a_call_recorded_after_the_run(
    emulator: GongEmulator,
) -> None:
    tomorrow = format_utc(NOW + datetime.timedelta(days=1))
    settings = config(
        emulator, start_date=format_utc(NOW - datetime.timedelta(days=2)), end_date=tomorrow
    )
    settings["lookback_days"] = 0  # only the bookmark protects the late call
    first = run_tap(settings)
    assert first.returncode == 0, first.explain()
    assert sorted(first.ids) == sorted(c["id"] for c in RECENT)
    assert bookmark(first.last_state) <= datetime.datetime.now(UTC)

    # A call that starts after the first run ended: the next run must find it.
    later = make_call("7900000000000000001", datetime.datetime.now(UTC).isoformat())
    emulator.add_call(later)
    second = run_tap(settings, state=first.last_state)

    assert second.returncode == 0, second.explain()
    assert later["id"] in second.ids


def test_the_bookmark_follows_gongs_clock_when_it_is_behind(emulator: GongEmulator) -> None:
    emulator.clock_offset_seconds = -3600  # Gong's Date header says an hour earlier
    run = run_tap(config(emulator, start_date=format_utc(NOW - datetime.timedelta(days=2))))

    assert run.returncode == 0, run.explain()
    assert bookmark(run.last_state) <= datetime.datetime.now(UTC) - datetime.timedelta(minutes=59)


def test_a_future_bookmark_is_refused_before_any_request(emulator: GongEmulator) -> None:
    run = run_tap(config(emulator, start_date=WEEK_START), state=state_of("2999-01-01T00:00:00Z"))

    assert run.returncode == 1
    assert emulator.requests == []
    assert run.stdout == ""
    assert "2999-01-01T00:00:00Z" in run.stderr
    assert "lies in the future" in run.stderr
    assert "meltano state set" in run.stderr
    assert "Traceback" not in run.stderr


def test_an_end_date_before_where_the_run_starts_is_an_error(emulator: GongEmulator) -> None:
    settings = config(emulator, start_date=WEEK_START, end_date="2024-06-05T00:00:00Z")
    run = run_tap(settings, state=state_of("2024-06-08T00:00:00Z", workspace_id=None))

    assert run.returncode == 1
    assert emulator.requests == []
    assert "end_date 2024-06-05T00:00:00Z is not after where this run starts" in run.stderr
    assert "Traceback" not in run.stderr


# -- the filter a bookmark was made under ---------------------------------------------------


def test_a_changed_workspace_id_does_not_inherit_the_bookmark(emulator: GongEmulator) -> None:
    wrong = config(emulator, start_date=WEEK_START, end_date=WEEK_END, workspace_id="1")
    first = run_tap(wrong)
    assert first.returncode == 0, first.explain()
    assert first.ids == []  # no call of workspace 1: the bookmark moves to end_date anyway
    assert first.last_state is not None
    assert first.last_state["bookmarks"]["calls"]["workspace_id"] == "1"

    fixed = {**wrong, "workspace_id": DEFAULT_WORKSPACE_ID}
    second = run_tap(fixed, state=first.last_state)

    assert second.returncode == 0, second.explain()
    assert sorted(second.ids) == sorted(c["id"] for c in WEEK)
    assert "it was made with workspace_id 1 and this run has" in second.stderr
    assert second.last_state is not None
    assert second.last_state["bookmarks"]["calls"]["workspace_id"] == DEFAULT_WORKSPACE_ID


def test_a_state_of_an_older_tap_without_a_filter_is_still_used(emulator: GongEmulator) -> None:
    settings = config(
        emulator, start_date=WEEK_START, end_date=WEEK_END, workspace_id=DEFAULT_WORKSPACE_ID
    )
    settings["lookback_days"] = 0
    run = run_tap(settings, state=state_of("2024-06-08T00:00:00Z"))

    assert run.returncode == 0, run.explain()
    expected = [c["id"] for c in WEEK if parse_utc(c["started"]) >= parse_utc("2024-06-08")]
    assert sorted(run.ids) == sorted(expected)


# -- states the tap cannot read ---------------------------------------------------------------

BAD_STATES: dict[str, tuple[object, str]] = {
    "meltano-state-get-wrapper": (
        {"singer_state": state_of("2024-06-08T00:00:00Z")},
        "the wrapper that `meltano state get` prints",
    ),
    "other-replication-key": (
        {"bookmarks": {"calls": {"replication_key": "scheduled", "replication_key_value": "x"}}},
        "replication key 'scheduled'",
    ),
    "bookmarks-not-an-object": ({"bookmarks": []}, '"bookmarks" is not an object'),
    "calls-not-an-object": ({"bookmarks": {"calls": "2024"}}, '"bookmarks.calls" is not'),
    "a-list": ([1, 2], "it is JSON list"),
}


@pytest.mark.parametrize("name", list(BAD_STATES))
def test_a_state_in_an_unexpected_shape_fails_naming_the_file(
    emulator: GongEmulator, name: str
) -> None:
    state, message = BAD_STATES[name]
    run = run_tap(config(emulator, start_date=WEEK_START, end_date=WEEK_END), state=state)  # type: ignore[arg-type]

    assert run.returncode == 1
    assert emulator.requests == []
    assert "state.json cannot be used" in run.stderr, run.explain()
    assert message in run.stderr, run.explain()
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize(("text", "message"), [("", "is empty"), ("{bookmarks", "is not JSON")])
def test_an_empty_or_broken_state_file_fails_naming_it(
    emulator: GongEmulator, tmp_path: Any, text: str, message: str
) -> None:
    path = tmp_path / "state.json"
    path.write_text(text)
    settings = config(emulator, start_date=WEEK_START, end_date=WEEK_END)
    run = run_tap(settings, args=("--state", str(path)))

    assert run.returncode == 1
    assert emulator.requests == []
    assert f"State file {path} {message}" in run.stderr, run.explain()
    assert "Traceback" not in run.stderr


def test_state_checks_accept_what_the_tap_writes() -> None:
    now = parse_utc("2024-06-10T00:00:00Z")
    state = state_of("2024-06-09T00:00:00Z", workspace_id="12")
    check_state(state)
    found = read_bookmark(state["bookmarks"]["calls"], now=now)
    assert found is not None
    assert (found.moment, found.workspace_id, found.filter_known) == (
        parse_utc("2024-06-09T00:00:00Z"),
        "12",
        True,
    )
    check_state({})
    assert read_bookmark({}, now=now) is None
    assert read_bookmark({"replication_key": "started"}, now=now) is None
    with pytest.raises(StateError, match="not an ISO-8601"):
        read_bookmark({"replication_key": "started", "replication_key_value": 17}, now=now)
    assert json.dumps(state)  # a state is plain JSON


def test_a_range_read_to_its_end_date_is_a_quiet_run(emulator: GongEmulator) -> None:
    settings = config(emulator, start_date=WEEK_START, end_date=WEEK_END, lookback_days=0)
    run = run_tap(settings, state=state_of(WEEK_END, workspace_id=None))

    assert run.returncode == 0, run.explain()
    assert run.records == []
    assert emulator.requests == []
