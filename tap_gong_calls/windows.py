"""The window planner of the date-range mode: windows sized to hold a few pages of calls."""

from __future__ import annotations

import datetime
import threading
from dataclasses import dataclass, field

from tap_gong_calls.timestamps import UTC, format_utc, parse_utc

__all__ = ["UTC", "WindowPlanner", "format_utc", "parse_utc"]  # the helpers moved to timestamps


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
