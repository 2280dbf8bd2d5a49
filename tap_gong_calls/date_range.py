"""The date-range mode: the calls started in a range, in batches, with their transcripts.

The range is listed in windows (windows.py); the windows' calls are regrouped for the
transcript requests (transcripts.py), which overlap the listing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tap_gong_calls.budget_plan import gate_of
from tap_gong_calls.concurrency import prefetch
from tap_gong_calls.endpoints import EXTENSIVE, LISTING
from tap_gong_calls.transcripts import TranscriptBudget, regrouped
from tap_gong_calls.windows import emitted, fetched_windows

if TYPE_CHECKING:
    import datetime
    from collections.abc import Iterator

    from tap_gong_calls.endpoints import CallBatch, CallEndpoints

# Transcripts run to 100 KB of JSON a call: few batches in flight keep memory flat.
MAX_TRANSCRIPT_BATCHES_IN_FLIGHT = 4
# Windows with content (parties, trackers, outlines…) hold a few hundred calls each.
MAX_WINDOWS_WITH_CONTENT_IN_FLIGHT = 3


def range_batches(
    gong: CallEndpoints, start: datetime.datetime, end: datetime.datetime
) -> Iterator[CallBatch]:
    """Batches of the calls started in ``[start, end)``, in order, with their transcripts.

    Windows of a few pages are listed side by side. Their calls are then regrouped for the
    transcript requests (100 ids each when transcripts are ordinary, fewer when they are
    large), whatever the windows held; those overlap too.
    """
    # A window is a chain of a few pages: half as many windows as single requests keep the
    # limiter busy, and fewer are planned ahead into what may be an empty tail.
    in_flight = max(2, gong.client.max_in_flight // 2)
    if gong.selection.needs_blocks:
        in_flight = min(in_flight, MAX_WINDOWS_WITH_CONTENT_IN_FLIGHT)
    gate = gate_of(gong)
    windows = fetched_windows(gong, start, end, in_flight=gate.in_flight(in_flight))
    if not gong.selection.transcripts or not gong.selection.needs_metadata:
        for window in windows:
            yield from emitted(window)
        return
    endpoint = EXTENSIVE if gong.selection.needs_blocks else LISTING
    budget = TranscriptBudget(min(gong.client.max_in_flight, MAX_TRANSCRIPT_BATCHES_IN_FLIGHT))
    # The request budget reserves transcript requests as ordinary ones until sizes are known.
    gate.ids_per_request = lambda: budget.ids_per_request() if budget.bytes_per_transcript else 100

    def with_transcripts(batch: CallBatch) -> CallBatch:
        gate.transcripts_asked(len(batch.calls))
        return gong.with_transcripts(batch, endpoint)

    # Listing runs ahead on its own thread, or it would only move when a transcript arrived.
    listed = (batch for window in prefetch(windows, depth=1) for batch in emitted(window))
    yield from budget.fetched(regrouped(listed, budget.ids_per_request), with_transcripts)
