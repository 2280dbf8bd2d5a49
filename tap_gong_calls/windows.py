"""The windows of the date-range mode: how a range is cut, fetched and, when too dense, cut
again.

A cursor chain is sequential, so a range is cut into windows of a few pages, fetched side by
side (several in flight) and emitted in order, so that the bookmark only moves over windows
whose every call was emitted. The planner sizes the next window from how many calls the last
ones held. Windows end on whole seconds: Gong reads its filters to the second.
"""

from __future__ import annotations

import datetime
import itertools
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tap_gong_calls.budget_plan import gate_of
from tap_gong_calls.concurrency import map_in_order
from tap_gong_calls.endpoints import BATCH_SIZE, EXTENSIVE, LISTING, TRANSCRIPT, CallBatch, call_id
from tap_gong_calls.timestamps import parse_utc

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from tap_gong_calls.endpoints import CallEndpoints, Item

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


@dataclass
class Window:
    """The batches of one date window, and what its first page said of it."""

    start: datetime.datetime
    end: datetime.datetime
    total: int = 0  # totalRecords of the first page: every call of the window
    complete: bool = True
    # A list, or (read_through) a generator that requests each page as it is consumed.
    batches: Iterable[CallBatch] = field(default_factory=list)
    # Of a window not complete: the first and last start of a full first page's calls.
    first_page_span: tuple[datetime.datetime, datetime.datetime] | None = None


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
    found = Window(start, end)
    batches: list[CallBatch] = []
    for number, (batch, items, total, more) in enumerate(_page_batches(gong, start, end)):
        if number == 0:
            found.total = total
            if more and total > max_pages * BATCH_SIZE:
                found.complete = False
                found.first_page_span = _span(items, start, end)
                return found
        batches.append(batch)
    found.batches = batches
    return found


def read_through(gong: CallEndpoints, start: datetime.datetime, end: datetime.datetime) -> Window:
    """``[start, end)`` paged to its end, lazily: each page is requested as it is emitted.

    For a window that cannot be split: its cursor chain is sequential anyway, and holding one
    page at a time keeps memory flat however many calls it holds.
    """
    pages = _page_batches(gong, start, end)
    return Window(start, end, batches=(batch for batch, _, _, _ in pages))


def _page_batches(
    gong: CallEndpoints, start: datetime.datetime, end: datetime.datetime
) -> Iterator[tuple[CallBatch, list[Item], int, bool]]:
    """Each page of ``[start, end)`` as a batch, with its items, totalRecords and more-to-come."""
    filters = gong.range_filter(start, end)
    selection = gong.selection
    if not selection.needs_metadata:  # transcripts alone list themselves
        endpoint = TRANSCRIPT
    else:
        endpoint = EXTENSIVE if selection.needs_blocks else LISTING
    seen: set[str] = set()  # a call can move between pages while Gong pages; once is enough
    for items, total, more in gong.pages(endpoint, filters):
        if endpoint == TRANSCRIPT:
            yield CallBatch(transcripts=tuple(items), transcripts_asked=True), items, total, more
            continue
        fresh = [item for item in items if call_id(item, endpoint) not in seen]
        seen.update(call_id(item, endpoint) for item in fresh)
        yield gong.batch(fresh), items, total, more


def emitted(window: Window) -> Iterator[CallBatch]:
    """The window's batches, then one that says every call before its end was emitted."""
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
    # first == last too: a page of calls at one instant says where the dense second is.
    return (first, last) if start <= first <= last < end else None


@dataclass
class WindowPlanner:
    """Walks ``[start, end)`` in windows sized to hold about ``target_calls`` calls each.

    Windows end on whole seconds (the range's own ends aside): Gong reads fromDateTime and
    toDateTime to the second, so a bound with a fraction could drop or repeat calls at the
    seam. Windows keep each cursor sequence short (Gong's cursors expire) and let the bookmark move
    as each one completes. Empty windows grow fourfold, so a sparse two-year range costs a
    handful of requests, not one per day; a dense window shrinks the next one. Safe to use from
    several threads: windows are planned while earlier ones are still being fetched.
    """

    start: datetime.datetime
    end: datetime.datetime
    size: datetime.timedelta = datetime.timedelta(days=1)
    target_calls: int = 500
    min_size: datetime.timedelta = datetime.timedelta(minutes=10)
    max_growth: float = 4.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __iter__(self) -> WindowPlanner:
        return self

    def __next__(self) -> tuple[datetime.datetime, datetime.datetime]:
        with self._lock:
            if self.start >= self.end:
                raise StopIteration
            window_end = min(_next_whole_second(self.start + self.size), self.end)
            window = (self.start, window_end)
            self.start = window_end
            return window

    def completed(self, calls: int, span: datetime.timedelta | None = None) -> None:
        """Resize the next window from how many calls a window held.

        ``span``: that window's length (default: the current size).
        """
        with self._lock:
            growth = self.max_growth if calls == 0 else self.target_calls / calls
            growth = min(self.max_growth, max(1 / self.max_growth, growth))
            self.size = max(self.min_size, (span or self.size) * growth)


def _next_whole_second(moment: datetime.datetime) -> datetime.datetime:
    """``moment`` rounded up to a whole second (unchanged if it is one)."""
    if moment.microsecond == 0:
        return moment
    return moment.replace(microsecond=0) + datetime.timedelta(seconds=1)
