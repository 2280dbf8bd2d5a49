"""The date-range mode: windows of a few pages, several in flight, emitted in order."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tap_gong_calls.concurrency import map_in_order, prefetch
from tap_gong_calls.endpoints import (
    BATCH_SIZE,
    EXTENSIVE,
    LISTING,
    TRANSCRIPT,
    CallBatch,
    call_id,
)
from tap_gong_calls.windows import WindowPlanner, format_utc, parse_utc

if TYPE_CHECKING:
    import datetime
    from collections.abc import Iterator

    from tap_gong_calls.endpoints import CallEndpoints, Item

# Calls per window: a few pages, so that windows fetched side by side keep requests
# overlapping while few pages go out part-empty (a window's last page usually is). With
# content asked for, calls are heavier to hold, so windows are smaller.
TARGET_CALLS = 500
TARGET_CALLS_WITH_CONTENT = 200
# A window found far denser than planned is cut into windows of three pages: its density is
# known by then, and its pieces are fetched side by side.
TARGET_CALLS_WHEN_SPLIT = 300


@dataclass
class Window:
    """The batches of one date window, and what its first page said of it."""

    start: datetime.datetime
    end: datetime.datetime
    total: int = 0  # totalRecords of the first page: every call of the window
    complete: bool = True
    batches: list[CallBatch] = field(default_factory=list)
    # Of a window not complete: the first and last start of a full first page's calls.
    first_page_span: tuple[datetime.datetime, datetime.datetime] | None = None


def batches_in_range(
    gong: CallEndpoints,
    start: datetime.datetime,
    end: datetime.datetime,
    *,
    in_flight: int,
    transcripts_in_flight: int,
) -> Iterator[CallBatch]:
    """Batches of the calls started in ``[start, end)``, in order, with their transcripts.

    Windows of a few pages are listed side by side (``in_flight`` at a time). Their calls are
    then regrouped a hundred at a time, so each transcript request carries a full 100 ids
    whatever the windows held, and those requests overlap too.
    """
    windows = _windows(gong, start, end, in_flight=in_flight)
    if not gong.selection.transcripts or not gong.selection.needs_metadata:
        for window in windows:
            yield from _emitted(window)
        return
    endpoint = EXTENSIVE if gong.selection.needs_blocks else LISTING
    # Listing runs ahead on its own thread, or it would only move when a transcript arrived.
    yield from map_in_order(
        lambda batch: gong.with_transcripts(batch, endpoint),
        _regrouped(prefetch(windows, depth=1)),
        max_in_flight=transcripts_in_flight,
    )


def _windows(
    gong: CallEndpoints,
    start: datetime.datetime,
    end: datetime.datetime,
    *,
    in_flight: int,
    total: int | None = None,
    target: int | None = None,
    hint: tuple[datetime.datetime, datetime.datetime] | None = None,
) -> Iterator[Window]:
    """The windows of ``[start, end)`` (``total`` calls, if known), fetched, in order.

    A cursor chain is sequential, so the range is cut into windows of a few pages, fetched side
    by side; they still come out in order, so the bookmark only moves over windows whose
    every call was emitted.
    """
    if total is None:
        # One page over the whole range is either all of it (a quiet incremental run costs
        # one request) or tells, by its totalRecords, how long a window should be.
        probe = fetch_window(gong, start, end, max_pages=1)
        if probe.complete:
            yield probe
            return
        total, hint = probe.total, probe.first_page_span
    if target is None:
        target = TARGET_CALLS_WITH_CONTENT if gong.selection.needs_blocks else TARGET_CALLS
    size = (end - start) * (target / max(total, 1))
    lead: list[tuple[datetime.datetime, datetime.datetime]] = []
    if hint is not None:
        # Gong was seen to page calls oldest first; then a full first page also tells where
        # the calls begin and how dense they are there: one window up to the first call
        # (empty if that order holds, fetched like any other if not), then windows sized
        # from that density.
        first, last = hint
        lead = [(start, first)] if start < first else []
        start, size = first, (last - first) * (target / BATCH_SIZE)
    planner = WindowPlanner(start, end, size=size, target_calls=target)
    # A window needing more than twice its pages is split rather than paged through: its
    # cursor chain is sequential, and it holds all its calls until it is complete.
    max_pages = max(2, 2 * target // BATCH_SIZE)

    def fetch(window: tuple[datetime.datetime, datetime.datetime]) -> Window:
        found = fetch_window(gong, *window, max_pages=max_pages)
        if window not in lead:
            planner.completed(found.total, span=found.end - found.start)
        return found

    windows = itertools.chain(lead, _until_expected(planner, end, total, target))
    for window in map_in_order(fetch, windows, max_in_flight=in_flight):
        if window.complete:
            yield window
        else:
            # Denser than planned (calls bunch up): cut it into windows of a few pages,
            # fetched side by side, rather than paging through it.
            yield from _windows(
                gong,
                window.start,
                window.end,
                in_flight=in_flight,
                total=window.total,
                target=TARGET_CALLS_WHEN_SPLIT,
                hint=window.first_page_span,
            )


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


def _regrouped(windows: Iterator[Window]) -> Iterator[CallBatch]:
    """The windows' calls in batches of exactly 100 (the last one fewer).

    A batch carries the end of the last window whose every call it or an earlier batch holds.
    """
    pending = CallBatch()
    for window in windows:
        for batch in window.batches:
            for item in batch.calls:
                pending.calls.append(item)
                if len(pending.calls) == BATCH_SIZE:
                    yield pending
                    pending = CallBatch()
        pending.window_end = window.end
    yield pending


def fetch_window(
    gong: CallEndpoints,
    start: datetime.datetime,
    end: datetime.datetime,
    *,
    max_pages: int,
) -> Window:
    """The calls started in ``[start, end)``, in batches of a page each.

    If the first page's ``totalRecords`` needs more than ``max_pages`` pages, stop there
    (``complete`` False, no batches): the caller splits the window instead.
    """
    filters = {"fromDateTime": format_utc(start), "toDateTime": format_utc(end)}
    if workspace_id := gong.client.config.get("workspace_id"):
        filters["workspaceId"] = str(workspace_id)
    selection = gong.selection
    if not selection.needs_metadata:  # transcripts alone list themselves
        endpoint = TRANSCRIPT
    else:
        endpoint = EXTENSIVE if selection.needs_blocks else LISTING
    found = Window(start, end)
    seen: set[str] = set()  # a call can move between pages while Gong pages; once is enough
    for number, (items, total, more) in enumerate(gong.pages(endpoint, filters)):
        if number == 0:
            found.total = total
            if more and total > max_pages * BATCH_SIZE:
                found.complete = False
                found.first_page_span = _span(items, start, end)
                return found
        if endpoint == TRANSCRIPT:
            found.batches.append(CallBatch(transcripts=items, transcripts_asked=True))
            continue
        fresh = [item for item in items if call_id(item, endpoint) not in seen]
        seen.update(call_id(item, endpoint) for item in fresh)
        found.batches.append(CallBatch(calls=gong.without_private(fresh)))
    return found


def _emitted(window: Window) -> Iterator[CallBatch]:
    yield from window.batches
    yield CallBatch(window_end=window.end)


def _span(
    items: list[Item], start: datetime.datetime, end: datetime.datetime
) -> tuple[datetime.datetime, datetime.datetime] | None:
    """The first and last start among a full page's calls, if they say something useful."""
    if len(items) < BATCH_SIZE:
        return None
    try:
        started = [parse_utc(str(item["metaData"]["started"])) for item in items]
    except (KeyError, TypeError, ValueError):
        return None  # transcripts carry no time; a call without a readable one, no hint
    first, last = min(started), max(started)
    return (first, last) if start <= first < last < end else None
