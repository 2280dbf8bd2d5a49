"""Window admission: spending the daily request budget only on work that can be finished.

A date-range run stops at the budget between windows, never inside one: a window's pages are
emitted (and the bookmark moves past it) only once all of them and their transcripts are in,
so a window cut short would have its requests thrown away, and windows fetched side by side
after it too. So, with a budget in force:

- every window reserves, before its first request, what it may cost: its most pages
  (``max_pages``, beyond which it is split instead) and, with ``call_transcripts``, the
  transcript requests of that many calls. Once listed, it gives back the pages it did not
  use and keeps what its calls' transcripts need (``listed``).
- the last window that fits is shrunk to the pages left (planned a little under them, since
  a window holding more than it may is split, at one request). After it, nothing starts.
- below ``SEQUENTIAL_BELOW`` unreserved requests, windows go one at a time: a window listed
  ahead of one that then turns out too dense to finish would be thrown away.
- a window read to its end (one dense second) reserves its pages from its ``totalRecords``.

The probe (one page over the whole range) is planning: its ``totalRecords`` sizes the windows
and the plan line, which the gate logs. Retries are the one cost nobody plans: one may find the
budget spent mid-window, and that window's requests are then lost (the run still stops cleanly).
"""

from __future__ import annotations

import datetime
import math
import threading
from typing import TYPE_CHECKING

from tap_gong_calls.gong.api import BATCH_SIZE

if TYPE_CHECKING:
    import logging
    from collections.abc import Callable, Collection, Iterable, Iterator, Mapping

    from tap_gong_calls.extract.batch import Selection, Window
    from tap_gong_calls.gong.budget import RequestBudget

Piece = tuple[datetime.datetime, datetime.datetime]  # a planned window: extract.batch.Span
# Unreserved requests below which windows are fetched one at a time.
SEQUENTIAL_BELOW = 100
# A shrunk last window is planned for this share of the calls its pages hold: the planner's
# density is an estimate, and a window over its pages costs a request to split.
SHRUNK_FILL = 0.99
# The first transcript request of a run carries few ids (transcripts.FIRST_IDS): one more.
FIRST_TRANSCRIPT_EXTRA = 1


class WindowGate:
    """What the windows of a date-range run may start, given the run's RequestBudget."""

    def __init__(
        self,
        budget: RequestBudget,
        selection: Selection,
        *,
        ids_per_request: Callable[[], int] = lambda: BATCH_SIZE,
        calls_per_window: int = 500,
        rate: float | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        """``ids_per_request``: transcript ids a request will carry; ``calls_per_window`` and
        ``rate`` make the plan line, logged once the probe answered (with a logger)."""
        self.budget = budget
        self.logger = logger
        # With transcripts beside a listing, each page of calls costs transcript requests too.
        self.transcripts_apart = selection.transcripts and selection.needs_metadata
        self.ids_per_request = ids_per_request
        self.calls_per_window = calls_per_window
        self.rate = rate
        self.probe_total: int | None = None  # calls in the run's range, once probed
        self._pages: dict[Piece, tuple[int, int]] = {}  # piece -> (max pages, reserved)
        self._calls: dict[Piece, int] = {}  # piece -> the calls it held (its totalRecords)
        self._pending_calls = 0  # listed, transcripts not asked yet
        self._transcripts_held = 0
        self._lock = threading.Lock()

    def cost_per_page(self) -> int:
        """Requests a page of calls costs: itself, and its transcripts if they are apart."""
        if not self.transcripts_apart:
            return 1
        return 1 + math.ceil(BATCH_SIZE / max(1, self.ids_per_request()))

    def probe(self) -> bool:
        """Reserve the probe and, should it hold the whole range, its transcripts."""
        return self.budget.reserve(1 + self._probe_extra())

    def probed(self, probe: Window) -> int:
        """Settle the probe's reservation once it answered how many calls the range holds,
        and log the plan; that number."""
        self.probe_total = probe.total
        self.budget.release(self._probe_extra())  # windows reserve their transcripts
        if probe.complete:
            self.listed(None, probe)
        if self.logger is not None and self.rate is not None:
            needed = self.estimate(probe.total)
            self.logger.info(
                self.budget.plan_line(probe.total, needed, self.cost_per_page(), self.rate)
            )
        return probe.total

    def estimate(self, calls: int) -> int:
        """Requests ``calls`` of a range cost: a page per 100 (and their transcripts), about
        half a page more per window, and the probe and empty windows at the ends."""
        windows = math.ceil(calls / self.calls_per_window)
        return math.ceil(calls / BATCH_SIZE) * self.cost_per_page() + math.ceil(windows / 2) + 2

    def in_flight(self, usual: int) -> Callable[[], int]:
        """Windows to keep in flight: ``usual``, or one at a time near the end of the budget."""
        if self.budget.limit is None:
            return lambda: usual
        return lambda: usual if self.budget.unreserved >= SEQUENTIAL_BELOW else 1

    def pieces(
        self,
        pieces: Iterable[Piece],
        max_pages: int,
        *,
        target_calls: int | None = None,
        total_calls: int | None = None,
        range_end: datetime.datetime | None = None,
        fixed: Collection[Piece] = (),
        dense: Mapping[Piece, int] | None = None,
    ) -> Iterator[Piece]:
        """``pieces`` while the budget can finish them; the last one shrunk to what is left.

        A piece may cost ``max_pages`` pages (a ``dense`` one, the pages of its calls). Pieces
        planned for ``target_calls`` calls each (not ``fixed``, a lead window) may be shrunk;
        near the end of the budget, the one expected to hold the last of ``total_calls``
        reaches ``range_end``, sparing the request of an empty window after it.
        """
        started: list[Piece] = []
        for planned_piece in pieces:
            piece, calls = planned_piece, (dense or {}).get(planned_piece)
            pages = max_pages if calls is None else max(1, math.ceil(calls / BATCH_SIZE))
            cost = self.cost_per_page()
            planned = target_calls is not None and piece not in fixed and calls is None
            left = self._calls_left(started, target_calls, total_calls) if planned else None
            final = False
            if left is not None and left <= (target_calls or 0) and range_end is not None:
                final = self.budget.unreserved < SEQUENTIAL_BELOW
                piece = (piece[0], range_end) if final else piece
            if not self.budget.reserve(pages * cost, close_if_refused=False):
                # Not its most pages: the pages left, and shrunk to them if it is planned to
                # hold more calls; then it is the run's last window.
                pages = int(self.budget.unreserved) // cost
                room = pages * BATCH_SIZE * SHRUNK_FILL
                if not planned or pages < 1:
                    self.budget.close()
                    return
                share = min(1.0, room / (target_calls or 1))
                shrunk = (left is None or left > room) and share < 1
                if shrunk:
                    start, end = piece
                    piece = (start, (start + (end - start) * share).replace(microsecond=0))
                if piece[1] <= piece[0] or not self.budget.reserve(pages * cost):
                    self.budget.close()
                    return
                if shrunk:  # the range goes on past it: nothing more starts this run
                    self.budget.close()
                    final = True
            self._remember(piece, pages, pages * cost)
            started.append(piece)
            yield piece
            if final:
                return

    def _calls_left(
        self, started: list[Piece], target_calls: int | None, total_calls: int | None
    ) -> int | None:
        """Of ``total_calls``, those the ``started`` pieces are not known or planned to hold."""
        if total_calls is None:
            return None
        with self._lock:
            done = sum(self._calls.get(p, target_calls or 0) for p in started)
        return max(0, total_calls - done)

    def max_pages(self, piece: Piece, default: int) -> int:
        with self._lock:
            return self._pages.get(piece, (default, 0))[0]

    def listed(self, piece: Piece | None, window: Window) -> None:
        """``window`` (``piece``) was listed: give back what its calls do not need."""
        batches = window.batches if isinstance(window.batches, list) else []
        sent = max(1, len(batches)) if window.complete else 1
        calls = sum(len(b.calls) for b in batches) if window.complete else window.total
        with self._lock:
            reserved = self._pages.pop(piece, (0, 0))[1] if piece else sent
            if piece:
                self._calls[piece] = calls
        needed = self._transcripts_for(calls if window.complete else 0)
        left = reserved - sent
        if left >= needed:
            self.budget.release(left - needed)
        elif not self.budget.reserve(needed - left):  # retries took some: no more windows
            self.budget.close()

    def read_through(self, total: int) -> bool:
        """Reserve a window read to its end, ``total`` calls, or refuse it (and stop)."""
        pages = max(1, math.ceil(total / BATCH_SIZE))
        if not self.budget.reserve(pages * self.cost_per_page()):
            return False
        self._transcripts_for(total)  # within the reservation: only counted
        return True

    def transcripts_asked(self, ids: int) -> None:
        """One transcript request for ``ids`` calls is about to go out."""
        with self._lock:
            self._pending_calls = max(0, self._pending_calls - ids)
            self._transcripts_held = max(0, self._transcripts_held - 1)

    def _remember(self, piece: Piece, pages: int, reserved: int) -> None:
        with self._lock:
            self._pages[piece] = (pages, reserved)

    def _probe_extra(self) -> int:
        return 1 + FIRST_TRANSCRIPT_EXTRA if self.transcripts_apart else 0

    def _transcripts_for(self, calls: int) -> int:
        """Count ``calls`` listed; return the transcript requests to hold for them now."""
        if not self.transcripts_apart:
            return 0
        with self._lock:
            self._pending_calls += calls
            wanted = math.ceil(self._pending_calls / max(1, self.ids_per_request()))
            needed = max(0, wanted + FIRST_TRANSCRIPT_EXTRA - self._transcripts_held)
            self._transcripts_held += needed
            return needed
