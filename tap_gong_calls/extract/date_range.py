"""The date-range mode: the calls started in a range, in batches, and what each STATE says.

The batches are the range's, cut into windows fetched side by side (splitting.py, handed in
by the run), regrouped for
the transcript requests (transcript_sizing.py), which overlap the listing; then the transcripts
still pending from earlier runs (late_transcripts.py). Around them: the bookmark (state.py) and
a full re-import's table version (reimport.py). Which window may start is the gate's
(admission.py), handed in. The calls stream writes each batch's records and then the state
entries this run hands it, so the state never runs ahead of what was written.
"""

from __future__ import annotations

import datetime
import itertools
from typing import TYPE_CHECKING, Any, Protocol

from tap_gong_calls.concurrency import prefetch
from tap_gong_calls.extract.late_transcripts import STATE_KEY, PendingTranscripts, late_batches
from tap_gong_calls.extract.reimport import FullReimport, version_in_progress
from tap_gong_calls.extract.transcript_sizing import regrouped
from tap_gong_calls.extract.windows import emitted
from tap_gong_calls.gong.api import EXTENSIVE, LISTING
from tap_gong_calls.state import RangeBookmark
from tap_gong_calls.timestamps import parse_utc, utc_now

if TYPE_CHECKING:
    import logging
    from collections.abc import Iterator, Mapping, Sequence

    from tap_gong_calls.extract.admission import WindowGate
    from tap_gong_calls.extract.batch import CallBatch, Selection, Window
    from tap_gong_calls.extract.reimport import VersionedStream
    from tap_gong_calls.extract.transcript_sizing import TranscriptSizer
    from tap_gong_calls.gong.calls import CallsApi


class WindowSource(Protocol):
    """Where a range's windows come from, fetched and in order (splitting.RangeSplitter)."""

    def windows(self, start: datetime.datetime, end: datetime.datetime) -> Iterator[Window]:
        """The windows of ``[start, end)``."""
        ...


class DateRangeRun:
    """The calls of the configured range from the bookmark, with what the state must keep."""

    def __init__(
        self,
        api: CallsApi,
        selection: Selection,
        gate: WindowGate,
        sizer: TranscriptSizer,
        splitter: WindowSource,
        *,
        config: Mapping[str, Any],
        stream_state: Mapping[str, Any],
        streams: Sequence[VersionedStream],
        version: int,
        logger: logging.Logger,
    ) -> None:
        self.api = api
        self.selection = selection
        self.gate = gate
        self.sizer = sizer  # what the gate plans transcript requests with, too
        self.splitter = splitter
        self.config = config
        self.logger = logger
        workspace_id = config.get("workspace_id")
        self.bookmark = RangeBookmark(
            stream_state,
            workspace_id=None if workspace_id is None else str(workspace_id),
            logger=logger,
            now=utc_now(),
        )
        self.reimport = FullReimport.of_run(
            has_bookmark=self.bookmark.found is not None or self.bookmark.ignored,
            # A bookmark of another workspace_id is not used, nor is its re-import continued.
            in_progress=None if self.bookmark.ignored else version_in_progress(stream_state),
            config=config,
            listing_began=self.bookmark.listing_began,
            streams=streams,
            version=version,
            logger=logger,
        )
        self.pending = PendingTranscripts(
            stream_state,
            now=self.bookmark.listing_began,
            wait_days=int(config["transcript_wait_days"]),
            logger=logger,
        )

    def batches(self) -> Iterator[CallBatch]:
        """The range's batches, in order, then those of the transcripts still pending."""
        late = late_batches(self.api, self.selection, self.pending, self.logger)
        return itertools.chain(self._range(), late)

    def state_after(self, batch: CallBatch) -> dict[str, Any] | None:
        """The state entries to write now that ``batch``'s records are out, if any changed."""
        entries: dict[str, Any] = {}
        if batch.window_end is not None:
            server_time = self.api.client.server_time
            entries = self.bookmark.advance(batch.window_end, server_time) or {}
        # Settled only now that the batch's records are out; every STATE carries the set.
        if self.selection.transcripts and (self.pending.settle(batch) or entries):
            entries[STATE_KEY] = self.pending.state_value()
        if not entries:
            return None
        if self.reimport is not None:  # so that a run resuming from here continues it
            entries.update(self.reimport.state_entries())
        return entries

    def finish(self, *, stopped: bool) -> bool:
        """Activate a full re-import that read everything; whether one was."""
        # A re-import the budget ``stopped`` short has not seen every call: a later run does.
        if self.reimport is None or stopped:
            return False
        self.reimport.complete()
        return True

    def _range(self) -> Iterator[CallBatch]:
        end_date = self.config.get("end_date")
        start, end = self.bookmark.range(
            parse_utc(str(self.config["start_date"])),
            parse_utc(str(end_date)) if end_date else None,
            datetime.timedelta(days=int(self.config["lookback_days"])),
        )
        if start < end:
            yield from self._range_batches(start, end)

    def _range_batches(
        self, start: datetime.datetime, end: datetime.datetime
    ) -> Iterator[CallBatch]:
        """Batches of the calls started in ``[start, end)``, in order, with their transcripts.

        Windows of a few pages are listed side by side. Their calls are then regrouped for the
        transcript requests (100 ids each when transcripts are ordinary, fewer when they are
        large), whatever the windows held; those overlap too.
        """
        selection = self.selection
        windows = self.splitter.windows(start, end)
        if not selection.transcripts or not selection.needs_metadata:
            for window in windows:
                yield from emitted(window)
            return
        endpoint = EXTENSIVE if selection.needs_blocks else LISTING

        def transcripts_of(batch: CallBatch) -> CallBatch:
            self.gate.transcripts_asked(len(batch.calls))
            return selection.with_transcripts(self.api, batch, endpoint)

        # Listing runs ahead on its own thread, or it would only move when a transcript arrived.
        listed = (batch for window in prefetch(windows, depth=1) for batch in emitted(window))
        sizer = self.sizer
        yield from sizer.fetched(regrouped(listed, sizer.ids_per_request), transcripts_of)
