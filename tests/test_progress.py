"""The progress line and the closing summary a user reads on stderr."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from tap_gong_calls.progress import RunStats

if TYPE_CHECKING:
    import pytest


def test_progress_names_count_rate_429s_wait_and_eta(caplog: pytest.LogCaptureFixture) -> None:
    stats = RunStats(requested=200, progress_every_seconds=0)
    stats.emitted, stats.missing = 40, 10
    for _ in range(25):
        stats.request_sent()
    stats.waited(1.5, rate_limited=True)

    with caplog.at_level(logging.INFO):
        stats.maybe_log_progress(logging.getLogger("test"))

    (line,) = caplog.messages
    assert line.startswith("Progress: calls emitted 40/200, 25 requests (")
    assert "/s), 1 429s, 1.5s waited, ETA " in line


def test_progress_is_logged_at_most_once_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    stats = RunStats(progress_every_seconds=3600)

    with caplog.at_level(logging.INFO):
        for _ in range(100):
            stats.maybe_log_progress(logging.getLogger("test"))

    assert caplog.messages == []


def test_the_summary_line_counts_everything() -> None:
    stats = RunStats(requested=5)
    stats.emitted, stats.missing, stats.private_tombstoned = 3, 1, 1
    stats.request_sent()
    stats.waited(0.5, rate_limited=False)

    assert stats.summary().startswith(
        "Summary: requested 5, emitted 3, missing 1, private: 1 tombstoned, requests 1, 429s 0, "
        "seconds waited 0.5"
    )


def test_the_summary_ends_with_the_rate_the_run_ended_at() -> None:
    stats = RunStats(rate=3.0)
    stats.rate = 2.04

    assert stats.summary().endswith(", rate at end 2.04/s")


def test_a_date_range_summary_says_what_the_probe_counted_not_a_requested_count() -> None:
    stats = RunStats()
    stats.closing(in_range=5000, emitted=1200, child_records={}, pending=None, schema_warnings=0)

    assert stats.summary().startswith("Summary: in range about 5000, emitted 1200, missing 0, ")


def test_a_run_ended_before_the_probe_answered_opens_with_what_it_emitted() -> None:
    assert RunStats().summary().startswith("Summary: emitted 0, missing 0, private: 0 ")
