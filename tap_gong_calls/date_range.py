"""The date-range mode: windows of about a page each, several in flight, emitted in order."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tap_gong_calls.batches import CallBatch
from tap_gong_calls.concurrency import map_in_order
from tap_gong_calls.windows import WindowPlanner

if TYPE_CHECKING:
    import datetime
    from collections.abc import Iterator

    from tap_gong_calls.batches import CallFetcher, Window

# Calls per window: about a page, with room for the estimate to be off by a fifth.
TARGET_CALLS = 80


def batches_in_range(
    fetcher: CallFetcher, start: datetime.datetime, end: datetime.datetime
) -> Iterator[CallBatch]:
    """Batches of the calls started in ``[start, end)``, window after window.

    A cursor chain is sequential, so windows sized to one page each are fetched side by side
    instead; they still come out in order, each followed by a batch carrying its end, so the
    bookmark only ever moves over windows whose every call has been emitted.
    """
    # One page over the whole range is either all of it (a quiet incremental run costs one
    # request) or tells, by its totalRecords, how long a window of one page is.
    probe = fetcher.window(start, end, first_page_only=True)
    if probe.complete:
        yield from _emitted(probe)
        return
    size = (end - start) * (TARGET_CALLS / probe.total)
    planner = WindowPlanner(start, end, size=size, target_calls=TARGET_CALLS)

    def fetch(window: tuple[datetime.datetime, datetime.datetime]) -> Window:
        found = fetcher.window(*window)
        planner.completed(found.total, span=found.end - found.start)
        return found

    for window in map_in_order(fetch, planner, max_in_flight=fetcher.windows_in_flight):
        yield from _emitted(window)


def _emitted(window: Window) -> Iterator[CallBatch]:
    yield from window.batches
    yield CallBatch(window_end=window.end)
