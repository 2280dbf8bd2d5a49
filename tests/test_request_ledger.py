"""The daily request budget holds across every way a team runs the tap (gong/ledger.py).

A full refresh (no state), a second state id, two runs at once on one machine, and a fresh CI
runner with the PostgreSQL ledger: each sees the requests the others sent in the last 24 hours,
and none sends beyond the budget. Each test runs the installed tap against the emulator and
reads what a user sees: the exit code, the budget lines on stderr, the requests Gong received.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
from typing import TYPE_CHECKING, Any

import pytest

from gong_emulator import GongEmulator, seed_calls
from tests.tap_runner import CREDENTIALS, run_tap, tap_executable

if TYPE_CHECKING:
    from pathlib import Path

CALLS = seed_calls(3000, "2024-01-01T06:00:00Z", datetime.timedelta(minutes=5))
BUDGET = 20


@pytest.fixture
def emulator_calls() -> list[dict[str, Any]]:
    return CALLS


def config(emu: GongEmulator, **settings: object) -> dict[str, Any]:
    return {
        **CREDENTIALS,
        "api_url": emu.url,
        "start_date": "2024-01-01T00:00:00Z",
        "end_date": "2024-02-01T00:00:00Z",
        "requests_per_second": 500,
        "daily_request_budget": BUDGET,
        **settings,
    }


def budget_line(stderr: str) -> str:
    (line,) = [line for line in stderr.splitlines() if "Daily request budget reached" in line]
    return line


def test_a_full_refresh_and_another_state_id_see_the_requests_already_sent(
    emulator: GongEmulator, tmp_path: Path
) -> None:
    cache = {"XDG_CACHE_HOME": str(tmp_path)}  # one machine: one ledger
    first = run_tap(config(emulator), env=cache)
    assert first.returncode == 0, first.explain()
    spent = len(emulator.requests)
    assert 0 < spent <= BUDGET

    # --full-refresh: no state at all, so the state's count is gone; the ledger's is not.
    refresh = run_tap(config(emulator), env=cache)
    # Another pipeline's state (another state id): it knows nothing of the first run.
    other = run_tap(config(emulator), env=cache, state={"bookmarks": {"calls": {}}})

    assert len(emulator.requests) == spent  # not one request more
    for run in (refresh, other):
        assert run.returncode == 0, run.explain()
        assert f"{spent} of {BUDGET} requests used in the last 24 hours (0 by this run)" in (
            budget_line(run.stderr)
        )
        assert run.records_of("calls") == []


def test_the_budget_left_is_what_the_ledger_leaves(emulator: GongEmulator, tmp_path: Path) -> None:
    cache = {"XDG_CACHE_HOME": str(tmp_path)}
    run_tap(config(emulator, end_date="2024-01-01T07:00:00Z"), env=cache)  # a quiet hour
    spent = len(emulator.requests)

    second = run_tap(config(emulator, daily_request_budget=200), env=cache)

    assert second.returncode == 0, second.explain()
    # What is left once the probe (this run's first request) went out.
    assert f"daily request budget 200, {200 - spent - 1} left now" in second.stderr


def test_two_runs_at_once_share_one_budget(emulator: GongEmulator, tmp_path: Path) -> None:
    settings = config(emulator, daily_request_budget=30)
    runs = []
    for name in ("jsonl", "postgres"):  # two pipelines of one company, started together
        folder = tmp_path / name
        folder.mkdir()
        (folder / "config.json").write_text(json.dumps(settings))
        with (folder / "stderr").open("w") as stderr:
            runs.append(
                subprocess.Popen(
                    [tap_executable(), "--config", str(folder / "config.json")],
                    stdout=subprocess.DEVNULL,
                    stderr=stderr,
                    cwd=folder,
                    env={**os.environ, "XDG_CACHE_HOME": str(tmp_path)},
                )
            )
    codes = [run.wait(timeout=120) for run in runs]
    outcomes = [
        (code, (tmp_path / n / "stderr").read_text())
        for code, n in zip(codes, ("jsonl", "postgres"), strict=True)
    ]

    assert [code for code, _ in outcomes] == [0, 0], outcomes
    assert len(emulator.requests) <= 30  # together, never over the budget
    assert any("Daily request budget reached" in stderr for _, stderr in outcomes)


@pytest.mark.e2e
def test_the_postgresql_ledger_survives_a_fresh_runner(
    emulator: GongEmulator, tmp_path: Path, postgres_url: str
) -> None:
    settings = config(emulator, request_ledger=postgres_url)
    first = run_tap(settings, env={"XDG_CACHE_HOME": str(tmp_path / "runner-1")})
    assert first.returncode == 0, first.explain()
    spent = len(emulator.requests)

    # A new CI runner: no cache folder, no state; the warehouse keeps the count.
    second = run_tap(settings, env={"XDG_CACHE_HOME": str(tmp_path / "runner-2")})

    assert second.returncode == 0, second.explain()
    assert len(emulator.requests) == spent
    assert f"{spent} of {BUDGET} requests used" in budget_line(second.stderr)


def test_a_ledger_that_cannot_be_read_fails_before_any_request(
    emulator: GongEmulator, tmp_path: Path
) -> None:
    cache = {"XDG_CACHE_HOME": str(tmp_path)}
    run_tap(config(emulator, end_date="2024-01-01T07:00:00Z"), env=cache)
    (ledger,) = (tmp_path / "tap-gong-calls").glob("requests-*.json")
    ledger.write_text("{not json")
    before = len(emulator.requests)

    run = run_tap(config(emulator), env=cache)

    assert run.returncode == 1
    assert len(emulator.requests) == before
    assert "request_ledger" in run.stderr
    assert str(ledger) in run.stderr
    assert "Traceback" not in run.stderr
