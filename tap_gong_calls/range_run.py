"""One date-range run: its batches, and what each STATE says once a batch is written.

The batches are the range's (date_range.py) and then the transcripts still pending from earlier
runs (late_transcripts.py). Around them: the bookmark (bookmark.py), a full re-import's table
version (reimport.py) and the daily request budget (budget_run.py). The calls stream writes each
batch's records and then the state entries this run hands it, so the state never runs ahead of
what was written.
"""

from __future__ import annotations

import datetime
import itertools
from typing import TYPE_CHECKING, Any

from tap_gong_calls.bookmark import RangeBookmark
from tap_gong_calls.date_range import range_batches
from tap_gong_calls.late_transcripts import STATE_KEY, PendingTranscripts, late_batches
from tap_gong_calls.reimport import FullReimport, version_in_progress
from tap_gong_calls.timestamps import parse_utc, utc_now

if TYPE_CHECKING:
    import logging
    from collections.abc import Iterator, Mapping, Sequence

    from tap_gong_calls.budget_run import RunBudget
    from tap_gong_calls.endpoints import CallBatch, CallEndpoints
    from tap_gong_calls.sdk_seam import VersionedStream


class DateRangeRun:
    """The calls of the configured range from the bookmark, with what the state must keep."""

    def __init__(
        self,
        gong: CallEndpoints,
        budget: RunBudget,
        *,
        config: Mapping[str, Any],
        stream_state: Mapping[str, Any],
        streams: Sequence[VersionedStream],
        version: int,
        logger: logging.Logger,
    ) -> None:
        self.gong = gong
        self.budget = budget
        self.config = config
        workspace_id = config.get("workspace_id")
        self.bookmark = RangeBookmark(
            stream_state,
            workspace_id=None if workspace_id is None else str(workspace_id),
            logger=logger,
            now=utc_now(),
        )
        gong.gate = budget.window_gate(gong.selection)
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
        return itertools.chain(self._range(), late_batches(self.gong, self.pending))

    def state_after(self, batch: CallBatch) -> dict[str, Any] | None:
        """The state entries to write now that ``batch``'s records are out, if any changed."""
        entries: dict[str, Any] = {}
        if batch.window_end is not None:
            server_time = self.gong.client.server_time
            entries = self.bookmark.advance(batch.window_end, server_time) or {}
        # Settled only now that the batch's records are out; every STATE carries the set.
        if self.gong.selection.transcripts and (self.pending.settle(batch) or entries):
            entries[STATE_KEY] = self.pending.state_value()
        if not entries:
            return None
        if self.reimport is not None:  # so that a run resuming from here continues it
            entries.update(self.reimport.state_entries())
        return {**entries, **self.budget.state_entries()}

    def finish(self) -> bool:
        """Activate a full re-import that read everything; whether one was."""
        # A re-import the budget cut short has not seen every call: a later run completes it.
        if self.reimport is None or self.budget.requests.closed:
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
            yield from range_batches(self.gong, start, end)
