"""Transcript requests sized in bytes, so memory does not grow with how long transcripts are.

A transcript is 50 KB to 1 MB+ of JSON, and once parsed it takes about four times that in
Python objects; the client parses a whole response at once, and a batch's transcripts are
held until its records are written. So the ids per request and the requests in flight follow
the bytes per transcript seen so far: 100 ids and 4 requests for ordinary transcripts, fewer
of both for large ones. The first request of a run carries a few ids, since nothing is known
yet, and goes alone.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, TypeVar

from tap_gong_calls.concurrency import map_in_order
from tap_gong_calls.extract.batch import CallBatch
from tap_gong_calls.gong.api import BATCH_SIZE

if TYPE_CHECKING:
    import datetime
    from collections.abc import Callable, Iterable, Iterator

    from tap_gong_calls.extract.batch import Item

WorkT = TypeVar("WorkT")
# Ids of the first transcript request: 20 transcripts of 1 MB parse to ~90 MB of objects,
# what the requests in flight may hold later; a quiet hourly run needs no second request.
FIRST_IDS = 20
# Transcript JSON one request may bring (100 ids up to ~120 KB a transcript), and all the
# requests in flight together: 4 of 100 ordinary (~50 KB) transcripts.
BYTES_PER_REQUEST = 12_000_000
BYTES_IN_FLIGHT = 24_000_000
MAX_IN_FLIGHT = 4


class TranscriptSizer:
    """How many ids to ask per transcript request, and how many requests to keep in flight."""

    def __init__(self, max_in_flight: int) -> None:
        self.max_in_flight = max(1, min(max_in_flight, MAX_IN_FLIGHT))
        self._lock = threading.Lock()
        self._bytes = 0
        self._count = 0
        self._last_mean = 0.0

    @property
    def bytes_per_transcript(self) -> float | None:
        """The larger of the run's mean and the last response's: it follows a rise at once."""
        with self._lock:
            if not self._count:
                return None
            return max(self._bytes / self._count, self._last_mean)

    def ids_per_request(self) -> int:
        per = self.bytes_per_transcript
        if per is None:
            return FIRST_IDS
        return max(1, min(BATCH_SIZE, int(BYTES_PER_REQUEST // per)))

    def planned_ids(self) -> int:
        """Ids a transcript request is planned to carry: 100 until sizes are known (what the
        request budget reserves), then ``ids_per_request``."""
        return self.ids_per_request() if self.bytes_per_transcript else BATCH_SIZE

    def in_flight(self) -> int:
        per = self.bytes_per_transcript
        if per is None:
            return 1
        request = per * self.ids_per_request()
        return max(1, min(self.max_in_flight, int(BYTES_IN_FLIGHT // max(request, 1))))

    def measure(self, batch: CallBatch) -> None:
        """Count the JSON size of the transcripts a batch's requests brought."""
        count = len(batch.transcripts)
        if not count:
            return
        with self._lock:
            self._bytes += batch.transcript_bytes
            self._count += count
            self._last_mean = batch.transcript_bytes / count

    def fetched(
        self, work: Iterator[WorkT], fetch: Callable[[WorkT], CallBatch]
    ) -> Iterator[CallBatch]:
        """``fetch(item)`` for each item of ``work``, in order: the first alone (its size sets
        the sizes), then as many at once as the sizes allow."""

        def measured(item: WorkT) -> CallBatch:
            done = fetch(item)
            self.measure(done)
            return done

        for first in work:
            yield measured(first)
            break
        yield from map_in_order(measured, work, max_in_flight=self.in_flight)


def regrouped(batches: Iterable[CallBatch], size: Callable[[], int]) -> Iterator[CallBatch]:
    """The batches' calls regrouped ``size()`` at a time, read when each group starts.

    A group carries the missing ids and private calls met on the way, and the end of the last
    window whose every call it or an earlier group holds.
    """
    calls: list[Item] = []
    private: list[Item] = []
    missing: list[str] = []
    window_end: datetime.datetime | None = None
    limit = size()

    def group() -> CallBatch:
        return CallBatch(
            calls=tuple(calls),
            private=tuple(private),
            missing=tuple(missing),
            window_end=window_end,
        )

    for batch in batches:
        missing.extend(batch.missing)
        private.extend(batch.private)
        for item in batch.calls:
            calls.append(item)
            if len(calls) >= limit:
                yield group()
                calls, private, missing, window_end, limit = [], [], [], None, size()
        if batch.window_end is not None:
            window_end = batch.window_end
    if calls or private or missing or window_end is not None:
        yield group()


def sized_chunks(items: list[str], size: Callable[[], int]) -> Iterator[list[str]]:
    """``items`` in consecutive chunks of ``size()`` each, read when each chunk starts."""
    done = 0
    while done < len(items):
        count = size()
        yield items[done : done + count]
        done += count
