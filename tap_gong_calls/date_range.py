"""The date-range mode: the calls started in a range, in batches, with their transcripts.

A cursor chain is sequential, so the range is cut into windows of a few pages (windows.py),
fetched side by side and emitted in order, so that the bookmark only moves over windows whose
every call was emitted; a window found too dense is cut again. The windows' calls are then
regrouped for the transcript requests (transcripts.py), which overlap the listing.
"""

from __future__ import annotations

import datetime
import itertools
from typing import TYPE_CHECKING

from tap_gong_calls.budget_plan import gate_of
from tap_gong_calls.concurrency import map_in_order, prefetch
from tap_gong_calls.endpoints import BATCH_SIZE, EXTENSIVE, LISTING
from tap_gong_calls.transcripts import TranscriptBudget, regrouped
from tap_gong_calls.windows import Window, WindowPlanner, emitted, fetch_window, read_through

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from tap_gong_calls.endpoints import CallBatch, CallEndpoints

# Calls per window: a few pages, so that windows fetched side by side keep requests
# overlapping while few pages go out part-empty (a window's last page usually is). With
# content asked for, calls are heavier to hold, so windows are smaller.
TARGET_CALLS = 500
TARGET_CALLS_WITH_CONTENT = 200
# A window found far denser than planned is cut into windows of three pages: its density is
# known by then, and its pieces are fetched side by side.
TARGET_CALLS_WHEN_SPLIT = 300
# Splits of splits: past this many levels a window is read to its end rather than cut again,
# which bounds the thread pools (one per level) whatever the calls' distribution.
MAX_SPLIT_DEPTH = 6
ONE_SECOND = datetime.timedelta(seconds=1)
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


def fetched_windows(
    gong: CallEndpoints,
    start: datetime.datetime,
    end: datetime.datetime,
    *,
    in_flight: int | Callable[[], int],
) -> Iterator[Window]:
    """The windows of ``[start, end)``, fetched, in order.

    A cursor chain is sequential, so the range is cut into windows of a few pages, fetched side
    by side; they still come out in order, so the bookmark only moves over windows whose
    every call was emitted. A window found too dense is split in turn. The splitting is a loop
    over a stack of levels, never recursion: a level's windows are each shorter than the window
    they split, and below ``MAX_SPLIT_DEPTH`` levels, or at one second, a window is read to its
    end instead. Windows stop where the request budget could not finish the next one.
    """
    gate = gate_of(gong)
    if not gate.probe():  # the daily request budget is spent: not one request
        return
    # One page over the whole range is either all of it (a quiet incremental run costs one
    # request) or tells, by its totalRecords, how long a window should be.
    probe = fetch_window(gong, start, end, max_pages=1)
    gate.probed(probe)
    levels: list[Iterator[Window]] = [iter([probe])]
    try:
        while levels:
            window = next(levels[-1], None)
            if window is None:
                levels.pop()
            elif window.complete:
                yield window
            elif len(levels) > MAX_SPLIT_DEPTH or window.end - window.start <= ONE_SECOND:
                if not gate.read_through(window.total):
                    return
                yield read_through(gong, window.start, window.end)
            else:
                levels.append(_split(gong, window, in_flight=in_flight, is_probe=window is probe))
    finally:
        for level in levels:  # stops the requests still in flight (map_in_order's finally)
            close = getattr(level, "close", None)
            if close is not None:
                close()


def _split(
    gong: CallEndpoints, window: Window, *, in_flight: int | Callable[[], int], is_probe: bool
) -> Iterator[Window]:
    """The windows that ``window`` (incomplete: too many calls) is cut into, fetched, in order."""
    start, end = window.start, window.end
    if is_probe:
        target = TARGET_CALLS_WITH_CONTENT if gong.selection.needs_blocks else TARGET_CALLS
    else:
        target = TARGET_CALLS_WHEN_SPLIT
    max_pages = max(2, 2 * target // BATCH_SIZE)
    size = (end - start) * (target / max(window.total, 1))
    lead: list[tuple[datetime.datetime, datetime.datetime]] = []
    if window.first_page_span is not None:
        # Gong was seen to page calls oldest first; then a full first page also tells where
        # the calls begin and how dense they are there: one window up to the first call
        # (empty if that order holds, fetched like any other if not), then windows sized
        # from that density.
        first, last = (max(start, _floor_second(m)) for m in window.first_page_span)
        if first == last:
            # A full page of calls in one second (bulk imports share one `started`): that
            # second cannot be cut (Gong reads whole seconds), so it is read to its end.
            return _dense_second(gong, window, first, max_pages=max_pages, in_flight=in_flight)
        lead = [(start, first)] if start < first else []
        start, size = first, (last - first) * (target / BATCH_SIZE)
        if not is_probe:
            # This window was planned from a density that proved wrong: the calls got denser
            # after its first page. The page's calls before its last second are one window
            # (one request), and the rest is planned from where the dense part begins.
            lead.append((first, last))
            start = last
    if not is_probe:
        # Each piece shorter than the window it splits, so that splitting always ends. (The
        # probe's pieces are fetched with more pages than its one, which is progress too.)
        size = min(size, (end - start) / 2)
    planner = WindowPlanner(start, end, size=size, target_calls=target)
    if not is_probe:  # a dense stretch may need windows of seconds
        planner.min_size = ONE_SECOND

    gate = gate_of(gong)

    def fetch(piece: tuple[datetime.datetime, datetime.datetime]) -> Window:
        found = fetch_window(gong, *piece, max_pages=gate.max_pages(piece, max_pages))
        gate.listed(piece, found)
        if piece not in lead:
            planner.completed(found.total, span=found.end - found.start)
        return found

    planned = itertools.chain(lead, _until_expected(planner, end, window.total, target))
    pieces = gate.pieces(
        planned, max_pages, target_calls=target, total_calls=window.total, range_end=end, fixed=lead
    )
    return map_in_order(fetch, pieces, max_in_flight=in_flight)


def _dense_second(
    gong: CallEndpoints,
    window: Window,
    second: datetime.datetime,
    *,
    max_pages: int,
    in_flight: int | Callable[[], int],
) -> Iterator[Window]:
    """``window`` as: before ``second``, that second read to its end, and after it."""
    dense = (max(window.start, second), min(window.end, second + ONE_SECOND))
    pieces = [(window.start, dense[0]), dense, (dense[1], window.end)]
    gate = gate_of(gong)

    def fetch(piece: tuple[datetime.datetime, datetime.datetime]) -> Window:
        if piece == dense:  # no request yet: its pages are read as they are emitted
            return read_through(gong, *piece)
        found = fetch_window(gong, *piece, max_pages=max_pages)
        gate.listed(piece, found)
        return found

    # The dense second reserves the pages of every call its window held: an upper bound.
    gated = gate.pieces([p for p in pieces if p[0] < p[1]], max_pages, dense={dense: window.total})
    return map_in_order(fetch, gated, max_in_flight=in_flight)


def _floor_second(moment: datetime.datetime) -> datetime.datetime:
    return moment.replace(microsecond=0)


def _until_expected(
    planner: WindowPlanner, end: datetime.datetime, total: int, target: int
) -> Iterator[tuple[datetime.datetime, datetime.datetime]]:
    """The planner's windows until they are expected to hold ``total`` calls, then the rest.

    Windows are planned ahead of the answers that resize them: without this, a range whose
    calls end early would be walked to its end in windows of the busy part's size, each an
    empty request. The rest is one window; if calls turn up there, it is paged or cut again.
    """
    expected = 0
    for window_start, window_end in planner:
        if expected >= total:
            yield window_start, end
            return
        expected += target
        yield window_start, window_end
