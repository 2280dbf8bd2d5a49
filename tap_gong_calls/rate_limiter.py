"""A client-side limiter shared by every request of a run, across threads."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable


class RateLimiter:
    """Spaces request starts at least ``1 / requests_per_second`` apart.

    Gong meters a leaky bucket per company (3 requests/second by default), so evenly spaced
    starts use the whole budget without ever bursting over it. ``pause_until`` holds every
    caller back, so one 429's ``Retry-After`` pauses all worker threads, not just the one
    that received it.
    """

    def __init__(
        self,
        requests_per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if requests_per_second <= 0:
            raise ValueError(f"requests_per_second must be positive, got {requests_per_second}")
        self.interval = 1.0 / requests_per_second
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_start = float("-inf")
        self._paused_until = float("-inf")

    def acquire(self) -> None:
        """Block until a request may start, then claim that start.

        Each caller reserves the next free start when it asks, so callers are served in the
        order they asked: with in-order consumers (map_in_order), a caller that kept losing a
        race for starts would stall every request queued behind it.
        """
        while True:
            with self._lock:
                now = self._clock()
                start = max(now, self._next_start, self._paused_until)
                self._next_start = start + self.interval
            if start > now:
                self._sleep(start - now)
            with self._lock:
                if self._paused_until <= start:
                    return
            # A 429 paused every caller while this one waited: reserve a start after the pause.

    def pause_until(self, deadline: float) -> None:
        """Let no request start before ``deadline`` (a value of the limiter's clock)."""
        with self._lock:
            self._paused_until = max(self._paused_until, deadline)
