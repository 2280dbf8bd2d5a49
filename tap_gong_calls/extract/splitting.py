"""Cutting a date range into windows: fetched side by side, emitted in order, cut again when
too dense.

A cursor chain is sequential, so the range is cut into windows of a few pages (windows.py),
fetched side by side; they still come out in order, so the bookmark only moves over windows
whose every call was emitted. The splitting is a loop over a stack of levels, never recursion:
a level's windows are each shorter than the window they split, and below ``MAX_SPLIT_DEPTH``
levels, or at one second, a window is read to its end instead. Windows stop where the request
budget could not finish the next one (admission.py).
"""

from __future__ import annotations

import datetime
import itertools
from typing import TYPE_CHECKING

from tap_gong_calls.concurrency import map_in_order
from tap_gong_calls.extract.windows import (
    MAX_SPLIT_DEPTH,
    TARGET_CALLS,
    TARGET_CALLS_WHEN_SPLIT,
    TARGET_CALLS_WITH_CONTENT,
    WindowPlanner,
    fetch_window,
    read_through,
)
from tap_gong_calls.gong.api import BATCH_SIZE

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from tap_gong_calls.extract.admission import WindowGate
    from tap_gong_calls.extract.batch import Selection, Span, Window
    from tap_gong_calls.gong.calls import CallsApi

ONE_SECOND = datetime.timedelta(seconds=1)


class RangeSplitter:
    """The windows of a range through one API, selection and admission gate."""

    def __init__(
        self,
        api: CallsApi,
        selection: Selection,
        gate: WindowGate,
        *,
        in_flight: int | Callable[[], int],
    ) -> None:
        self.api = api
        self.selection = selection
        self.gate = gate
        self.in_flight = in_flight

    def windows(self, start: datetime.datetime, end: datetime.datetime) -> Iterator[Window]:
        """The windows of ``[start, end)``, fetched, in order (the module says how)."""
        if not self.gate.probe():  # the daily request budget is spent: not one request
            return
        # One page over the whole range is either all of it (a quiet incremental run costs one
        # request) or tells, by its totalRecords, how long a window should be.
        probe = fetch_window(self.api, self.selection, start, end, max_pages=1)
        self.gate.probed(probe)
        levels: list[Iterator[Window]] = [iter([probe])]
        try:
            while levels:
                window = next(levels[-1], None)
                if window is None:
                    levels.pop()
                elif window.complete:
                    yield window
                elif len(levels) > MAX_SPLIT_DEPTH or window.end - window.start <= ONE_SECOND:
                    if not self.gate.read_through(window.total):
                        return
                    yield read_through(self.api, self.selection, window.start, window.end)
                else:
                    levels.append(self._split(window, is_probe=window is probe))
        finally:
            for level in levels:  # stops the requests still in flight (map_in_order's finally)
                close = getattr(level, "close", None)
                if close is not None:
                    close()

    def _split(self, window: Window, *, is_probe: bool) -> Iterator[Window]:
        """The windows ``window`` (incomplete: too many calls) is cut into, fetched, in order."""
        start, end = window.start, window.end
        if is_probe:
            target = TARGET_CALLS_WITH_CONTENT if self.selection.needs_blocks else TARGET_CALLS
        else:
            target = TARGET_CALLS_WHEN_SPLIT
        max_pages = max(2, 2 * target // BATCH_SIZE)
        size = (end - start) * (target / max(window.total, 1))
        lead: list[Span] = []
        if window.first_page_span is not None:
            # Gong was seen to page calls oldest first; then a full first page also tells where
            # the calls begin and how dense they are there: one window up to the first call
            # (empty if that order holds, fetched like any other if not), then windows sized
            # from that density.
            first, last = (max(start, _floor_second(m)) for m in window.first_page_span)
            if first == last:
                # A full page of calls in one second (bulk imports share one `started`): that
                # second cannot be cut (Gong reads whole seconds), so it is read to its end.
                return self._dense_second(window, first, max_pages=max_pages)
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

        def fetch(piece: Span) -> Window:
            found = fetch_window(
                self.api, self.selection, *piece, max_pages=self.gate.max_pages(piece, max_pages)
            )
            self.gate.listed(piece, found)
            if piece not in lead:
                planner.completed(found.total, span=found.end - found.start)
            return found

        planned = itertools.chain(lead, _until_expected(planner, end, window.total, target))
        pieces = self.gate.pieces(
            planned,
            max_pages,
            target_calls=target,
            total_calls=window.total,
            range_end=end,
            fixed=lead,
        )
        return map_in_order(fetch, pieces, max_in_flight=self.in_flight)

    def _dense_second(
        self, window: Window, second: datetime.datetime, *, max_pages: int
    ) -> Iterator[Window]:
        """``window`` as: before ``second``, that second read to its end, and after it."""
        dense = (max(window.start, second), min(window.end, second + ONE_SECOND))
        pieces = [(window.start, dense[0]), dense, (dense[1], window.end)]

        def fetch(piece: Span) -> Window:
            if piece == dense:  # no request yet: its pages are read as they are emitted
                return read_through(self.api, self.selection, *piece)
            found = fetch_window(self.api, self.selection, *piece, max_pages=max_pages)
            self.gate.listed(piece, found)
            return found

        # The dense second reserves the pages of every call its window held: an upper bound.
        gated = self.gate.pieces(
            [p for p in pieces if p[0] < p[1]], max_pages, dense={dense: window.total}
        )
        return map_in_order(fetch, gated, max_in_flight=self.in_flight)


def _floor_second(moment: datetime.datetime) -> datetime.datetime:
    return moment.replace(microsecond=0)


def _until_expected(
    planner: WindowPlanner, end: datetime.datetime, total: int, target: int
) -> Iterator[Span]:
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
