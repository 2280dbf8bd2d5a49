"""Counters for one run, a progress line every few seconds, and the closing summary."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import logging


# How the Summary says what was done with private calls, by the private_calls setting.
PRIVATE_DONE = {"exclude": "tombstoned", "metadata": "metadata only", "include": "in full"}


@dataclass
class RunStats:
    """What a user wants to know about a run: progress, cost in requests, time lost to limits.

    Worker threads update the request counters, so every update takes the lock.
    """

    requested: int | None = None  # known in ids mode only
    in_range: int | None = None  # date range: the calls the probe counted (totalRecords)
    emitted: int = 0
    missing: int = 0
    private_tombstoned: int = 0  # private calls written as tombstones or as metadata only
    private_calls: str = "exclude"  # what was done with them: the private_calls setting
    child_records: dict[str, int] = field(default_factory=dict)  # per selected child stream
    transcripts_not_ready: int | None = None  # None unless transcripts are selected
    transcripts_pending: int | None = None  # date range: ids waiting (late_transcripts.py)
    transcripts_arrived: int = 0  # of the ids pending from earlier runs
    schema_warnings: int = 0  # fields that did not match their schema (contract.py)
    nul_removed: int = 0  # NUL characters removed from Gong's answers (gong/text.py)
    surrogates_replaced: int = 0  # lone UTF-16 surrogates replaced
    requests: int = 0
    rate_limited: int = 0
    seconds_waited: float = 0.0
    rate: float | None = None  # requests per second the limiter is at
    budget: int | None = None  # daily_request_budget, once a run set it
    budget_used_before: int = 0  # of it, what the last 24 hours had used before this run
    progress_every_seconds: float = 10.0
    started_at: float = field(default_factory=time.monotonic)
    _last_progress: float = field(default_factory=time.monotonic)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def set_budget(self, limit: int, used_before: int) -> None:
        """The daily request budget of the run, and what the last 24 hours used before it."""
        self.budget, self.budget_used_before = limit, used_before

    def set_private_calls(self, setting: str) -> None:
        """What the run does with private calls (the private_calls setting)."""
        self.private_calls = setting

    def set_requested(self, calls: int) -> None:
        """The calls a call_ids run was asked for."""
        self.requested = calls

    def note_rate(self, rate: float) -> None:
        """The rate the limiter is at now."""
        self.rate = rate

    def batch_written(
        self, *, emitted: int, missing: int, tombstoned: int, not_ready: int | None
    ) -> None:
        """Count a batch whose records went out."""
        with self._lock:
            self.emitted += emitted
            self.missing += missing
            self.private_tombstoned += tombstoned
            if not_ready is not None:
                self.transcripts_not_ready = (self.transcripts_not_ready or 0) + not_ready

    def closing(
        self,
        *,
        in_range: int | None = None,
        emitted: int,
        child_records: dict[str, int],
        pending: tuple[int, int] | None,
        schema_warnings: int,
        text_cleaned: tuple[int, int] = (0, 0),
    ) -> None:
        """What the Summary says of what reached stdout (``pending``: ids waiting, arrived)."""
        self.in_range = in_range
        self.emitted = emitted
        self.child_records = child_records
        if pending is not None:
            self.transcripts_pending, self.transcripts_arrived = pending
        self.schema_warnings = schema_warnings
        self.nul_removed, self.surrogates_replaced = text_cleaned

    def request_sent(self) -> None:
        with self._lock:
            self.requests += 1

    def waited(self, seconds: float, *, rate_limited: bool) -> None:
        with self._lock:
            self.seconds_waited += seconds
            if rate_limited:
                self.rate_limited += 1

    def _line(self) -> str:
        elapsed = max(time.monotonic() - self.started_at, 1e-9)
        emitted = (
            f"{self.emitted}" if self.requested is None else f"{self.emitted}/{self.requested}"
        )
        line = (
            f"calls emitted {emitted}, {self.requests} requests "
            f"({self.requests / elapsed:.2f}/s), {self.rate_limited} 429s, "
            f"{self.seconds_waited:.1f}s waited"
        )
        if self.budget is not None:
            line += f", budget {self.budget_used_before + self.requests}/{self.budget} used"
        done = self.emitted + self.missing + self.private_tombstoned
        if self.requested and 0 < done < self.requested:
            eta = elapsed / done * (self.requested - done)
            line += f", ETA {eta:.0f}s"
        return line

    def maybe_log_progress(self, logger: logging.Logger) -> None:
        """Log a progress line if the last one is more than ``progress_every_seconds`` old."""
        now = time.monotonic()
        if now - self._last_progress >= self.progress_every_seconds:
            self._last_progress = now
            logger.info("Progress: %s", self._line())

    def summary(self) -> str:
        """The one-line summary that closes a run."""
        elapsed = time.monotonic() - self.started_at
        # What the run was to write: the ids asked for, or what the probe counted in the date
        # range (nothing when the run ended before the probe answered).
        if self.requested is not None:
            opening = f"requested {self.requested}, "
        elif self.in_range is not None:
            opening = f"in range about {self.in_range}, "
        else:
            opening = ""
        children = "".join(f"{name} {count}, " for name, count in self.child_records.items())
        if self.transcripts_not_ready is not None:
            children += f"transcripts not ready: {self.transcripts_not_ready}, "
        if self.transcripts_pending is not None:
            children += (
                f"transcripts pending: {self.transcripts_pending} "
                f"(arrived {self.transcripts_arrived}), "
            )
        if self.schema_warnings:  # absent on a clean run, so the usual line stays short
            children += f"schema warnings: {self.schema_warnings}, "
        if self.nul_removed:
            children += f"NUL characters removed: {self.nul_removed}, "
        if self.surrogates_replaced:
            children += f"lone surrogates replaced: {self.surrogates_replaced}, "
        return (
            f"Summary: {opening}emitted {self.emitted}, missing {self.missing}, "
            f"private: {self.private_tombstoned} {PRIVATE_DONE.get(self.private_calls, '')}, "
            f"{children}requests {self.requests}, "
            f"429s {self.rate_limited}, seconds waited {self.seconds_waited:.1f}, "
            f"elapsed {elapsed:.1f}s"
            + ("" if self.rate is None else f", rate at end {self.rate:.2f}/s")
        )
