"""One run of the calls streams: config and state in, ordered batches and their state out.

It builds the run's daily request budget from the config and the state and attaches it to the
client (every request is counted at the HTTP level), picks the mode (configured ``call_ids``
or ``call_ids_file``, or the date range from the bookmark), and hands the calls stream each
batch and then the state entries to write once its records are out. A run stops at the budget
in one of two ways: a date-range run between windows (admission.py), a call_ids run before its
first request when it does not fit whole; either way ``report`` logs the one line that says
so (gong/budget.py).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from tap_gong_calls.extract.admission import WindowGate
from tap_gong_calls.extract.date_range import DateRangeRun
from tap_gong_calls.extract.ids import id_batches, request_cost
from tap_gong_calls.extract.reviews import STREAM as REVIEWS
from tap_gong_calls.extract.reviews import read_review_day
from tap_gong_calls.extract.splitting import RangeSplitter
from tap_gong_calls.extract.transcript_sizing import TranscriptSizer
from tap_gong_calls.extract.windows import (
    MAX_TRANSCRIPT_BATCHES_IN_FLIGHT,
    MAX_WINDOWS_WITH_CONTENT_IN_FLIGHT,
    TARGET_CALLS,
    TARGET_CALLS_WITH_CONTENT,
)
from tap_gong_calls.gong.budget import RequestBudget, read_usage
from tap_gong_calls.gong.calls import CallsApi
from tap_gong_calls.gong.errors import BudgetReachedError
from tap_gong_calls.gong.ledgers import open_ledger
from tap_gong_calls.settings import by_ids, call_ids_of
from tap_gong_calls.state import STREAM, read_bookmark
from tap_gong_calls.timestamps import utc_now

if TYPE_CHECKING:
    import logging
    from collections.abc import Callable, Iterator, Mapping, Sequence

    from tap_gong_calls.extract.batch import CallBatch, Selection
    from tap_gong_calls.extract.late_transcripts import PendingTranscripts
    from tap_gong_calls.extract.reimport import VersionedStream
    from tap_gong_calls.gong.client import GongClient
    from tap_gong_calls.progress import RunStats


def check_state(bookmarks: Mapping[str, Any], config: Mapping[str, Any]) -> None:
    """Raise StateError for a state this run could not use, before any request."""
    calls = bookmarks.get(STREAM) or {}
    if not by_ids(config):
        read_bookmark(calls, now=utc_now())
    read_usage(calls)  # the requests of earlier runs, in both modes
    read_review_day(bookmarks.get(REVIEWS) or {})


class SharedBudget:
    """The run's one daily request budget, for every stream: opened by the first stream that
    syncs (from the ``calls`` state and the company's ledger), and attached to the client, so
    that every request of the run is counted against it."""

    def __init__(
        self,
        client: GongClient,
        config: Mapping[str, Any],
        stats: RunStats,
        calls_state: Callable[[], dict[str, Any]],
    ) -> None:
        self.client = client
        self.config = config
        self.stats = stats
        self.calls_state = calls_state
        self._budget: RequestBudget | None = None
        self._lock = threading.Lock()

    @property
    def opened(self) -> bool:
        """Whether a stream opened the budget (and so sent or may send requests)."""
        return self._budget is not None

    def get(self) -> RequestBudget:
        """The budget, opened on first use."""
        with self._lock:
            if self._budget is None:
                self._budget = self._open()
            return self._budget

    def record_usage(self) -> None:
        """Put the run's requests into the ``calls`` state (which the next STATE carries), for
        a stream that syncs after the calls stream wrote its own."""
        if self._budget is not None:
            self.calls_state().update(self._budget.state_entry())

    def _open(self) -> RequestBudget:
        limit = int(self.config["daily_request_budget"])
        # Keyed by the Gong host, so by company: every pipeline of the company shares it.
        host = urlparse(str(self.config["api_url"])).netloc
        ledger = open_ledger(self.config.get("request_ledger"), host)
        budget = RequestBudget(limit, read_usage(self.calls_state()), ledger)
        self.client.use_budget(budget)
        self.stats.set_budget(limit, budget.used_before)
        return budget


class ExtractionRun:
    """The batches of one run, the state each leaves, and why the run stopped."""

    def __init__(
        self,
        client: GongClient,
        config: Mapping[str, Any],
        stream_state: Mapping[str, Any],
        selection: Selection,
        *,
        budget: RequestBudget,
        streams: Sequence[VersionedStream],
        version: int,
        stats: RunStats,
        logger: logging.Logger,
    ) -> None:
        self.client = client
        self.config = config
        self.selection = selection
        self.stats = stats
        self.logger = logger
        self.budget = budget
        workspace_id = config.get("workspace_id")
        self.api = CallsApi(
            client,
            content_selector=selection.content_selector(),
            block_streams=selection.block_streams,
            workspace_id=None if workspace_id is None else str(workspace_id),
        )
        self.call_ids = call_ids_of(config)  # call_ids, or those of call_ids_file
        self.ids_cost: int | None = None
        self.range: DateRangeRun | None = None
        self.gate: WindowGate | None = None
        if self.call_ids is None:
            self.range = self._date_range(stream_state, streams, version)

    @property
    def pending(self) -> PendingTranscripts | None:
        """The transcripts still awaited (date range, with transcripts selected)."""
        return self.range.pending if self.range and self.selection.transcripts else None

    @property
    def probe_total(self) -> int | None:
        """A date range's calls by the probe's totalRecords; None before the probe answered,
        and in call_ids mode."""
        return self.gate.probe_total if self.gate is not None else None

    def batches(self) -> Iterator[CallBatch]:
        """Every batch of the run, in order; ends early, cleanly, at the budget."""
        try:
            if self.range is not None:
                yield from self.range.batches()
            elif self.call_ids is not None:
                yield from self._id_batches(self.call_ids)
        except BudgetReachedError:  # a request the reservations did not foresee (a retry)
            return

    def state_after(self, batch: CallBatch) -> dict[str, Any] | None:
        """The state entries to write once ``batch``'s records are out, if any changed."""
        entries = self.range.state_after(batch) if self.range is not None else None
        return None if entries is None else {**entries, **self.usage_entry()}

    def usage_entry(self) -> dict[str, Any]:
        """What every run's last STATE carries (a failed one's too): the requests it sent."""
        return self.budget.state_entry()

    def finish(self) -> bool:
        """Complete a full re-import that read everything; whether one was."""
        return self.range is not None and self.range.finish(stopped=self.budget.closed)

    def report(self, done: int, resume_from: str | None) -> None:
        """Log why the run stopped, if the budget stopped it; ``done``: calls written or
        skipped."""
        if not self.budget.stopped():
            return
        calls_left = needed = None
        if self.gate is not None and self.probe_total is not None:
            calls_left = max(0, self.probe_total - done)
            needed = self.gate.estimate(calls_left)
        elif self.call_ids is not None:
            calls_left = max(0, len(dict.fromkeys(self.call_ids)) - done)
            needed = self.ids_cost
        self.logger.warning(self.budget.stop_line(calls_left, needed, resume_from))

    def _id_batches(self, call_ids: list[str]) -> Iterator[CallBatch]:
        batch_call_ids = bool(self.config["batch_call_ids"])
        self.ids_cost = request_cost(call_ids, self.selection, batch_call_ids=batch_call_ids)
        if not self.budget.fits(self.ids_cost):
            return
        self.stats.set_requested(len(dict.fromkeys(call_ids)))
        yield from id_batches(
            self.api,
            self.selection,
            call_ids,
            batch_call_ids=batch_call_ids,
            in_flight=self.client.max_in_flight,
            logger=self.logger,
        )

    def _date_range(
        self, stream_state: Mapping[str, Any], streams: Sequence[VersionedStream], version: int
    ) -> DateRangeRun:
        max_in_flight = self.client.max_in_flight
        sizer = TranscriptSizer(min(max_in_flight, MAX_TRANSCRIPT_BATCHES_IN_FLIGHT))
        content = self.selection.needs_blocks
        self.gate = WindowGate(
            self.budget,
            self.selection,
            ids_per_request=sizer.planned_ids,
            calls_per_window=TARGET_CALLS_WITH_CONTENT if content else TARGET_CALLS,
            rate=float(self.config["requests_per_second"]),
            logger=self.logger,
        )
        # A window is a chain of a few pages: half as many windows as single requests keep the
        # limiter busy, and fewer are planned ahead into what may be an empty tail.
        windows_in_flight = max(2, max_in_flight // 2)
        if content:
            windows_in_flight = min(windows_in_flight, MAX_WINDOWS_WITH_CONTENT_IN_FLIGHT)
        splitter = RangeSplitter(
            self.api, self.selection, self.gate, in_flight=self.gate.in_flight(windows_in_flight)
        )
        return DateRangeRun(
            self.api,
            self.selection,
            self.gate,
            sizer,
            splitter,
            config=self.config,
            stream_state=stream_state,
            streams=streams,
            version=version,
            logger=self.logger,
        )
