"""One window of the date-range mode: its calls, fetched a page at a time; the planner that
sizes the next window from how many calls the last ones held; and how large windows are.

Windows end on whole seconds: Gong reads its filters to the second. How a range is cut into
windows, fetched side by side and cut again when too dense is splitting.py's.
"""

from __future__ import annotations

import datetime
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tap_gong_calls.extract.batch import CallBatch, Window
from tap_gong_calls.gong.api import BATCH_SIZE, EXTENSIVE, LISTING, TRANSCRIPT, call_id, callid_of
from tap_gong_calls.timestamps import parse_utc

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tap_gong_calls.extract.batch import Item, Selection, Span
    from tap_gong_calls.gong.calls import CallsApi

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
# Windows with content (parties, trackers, outlines…) hold a few hundred calls each.
MAX_WINDOWS_WITH_CONTENT_IN_FLIGHT = 3
# Transcripts run to 100 KB of JSON a call: few batches in flight keep memory flat.
MAX_TRANSCRIPT_BATCHES_IN_FLIGHT = 4


def fetch_window(
    api: CallsApi,
    selection: Selection,
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
    for number, (batch, items, total, more) in enumerate(_page_batches(api, selection, start, end)):
        if number == 0:
            found.total = total
            if more and total > max_pages * BATCH_SIZE:
                found.complete = False
                found.first_page_span = _span(items, start, end)
                return found
        batches.append(batch)
    found.batches = batches
    return found


def read_through(
    api: CallsApi, selection: Selection, start: datetime.datetime, end: datetime.datetime
) -> Window:
    """``[start, end)`` paged to its end, lazily: each page is requested as it is emitted.

    For a window that cannot be split: its cursor chain is sequential anyway, and holding one
    page at a time keeps memory flat however many calls it holds.
    """
    pages = _page_batches(api, selection, start, end)
    return Window(start, end, batches=(batch for batch, _, _, _ in pages))


def _page_batches(
    api: CallsApi, selection: Selection, start: datetime.datetime, end: datetime.datetime
) -> Iterator[tuple[CallBatch, list[Item], int, bool]]:
    """Each page of ``[start, end)`` as a batch, with its items, totalRecords and more-to-come."""
    filters = api.range_filter(start, end)
    if not selection.needs_metadata:  # transcripts alone list themselves
        endpoint = TRANSCRIPT
    else:
        endpoint = EXTENSIVE if selection.needs_blocks else LISTING
    # A call can move between pages while Gong pages, or come again when a listing restarts
    # (an expired cursor): once is enough.
    seen: set[str] = set()
    for page in api.pages(endpoint, filters):
        items, total, more = page.items, page.total, page.more
        if endpoint == TRANSCRIPT:
            fresh = [item for item in items if callid_of(item) not in seen]
            seen.update(callid_of(item) for item in fresh)
            yield CallBatch(transcripts=tuple(fresh), transcripts_asked=True), items, total, more
            continue
        fresh = [item for item in items if call_id(item, endpoint) not in seen]
        seen.update(call_id(item, endpoint) for item in fresh)
        yield selection.batch(fresh), items, total, more


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

    def __next__(self) -> Span:
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
