"""A client-side limiter shared by every request of a run, across threads."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable


class RateLimiter:
    """Spaces request starts at least ``1 / rate`` apart.

    Gong meters a leaky bucket per company (3 requests/second by default), so evenly spaced
    starts use the whole budget without ever bursting over it. ``pause_until`` holds every
    caller back, so one 429's ``Retry-After`` pauses all worker threads, not just the one
    that received it. ``set_rate`` changes the spacing; lowering it also moves the starts
    already reserved at the old spacing.
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
        self._rate = requests_per_second
        self.clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_start = float("-inf")
        self._last_start = float("-inf")
        self._paused_until = float("-inf")
        self._plan = 0  # bumped when the rate is lowered: reservations made before are void

    @property
    def rate(self) -> float:
        """The current rate, in requests per second."""
        return self._rate

    @property
    def interval(self) -> float:
        return 1.0 / self._rate

    def acquire(self) -> float:
        """Block until a request may start, claim that start and return it (on ``clock``).

        Each caller reserves the next free start when it asks, so callers are served in the
        order they asked: with in-order consumers (map_in_order), a caller that kept losing a
        race for starts would stall every request queued behind it.
        """
        while True:
            with self._lock:
                now = self.clock()
                start = max(now, self._next_start, self._paused_until)
                self._next_start = start + 1.0 / self._rate
                plan = self._plan
            if start > now:
                self._sleep(start - now)
            with self._lock:
                if self._paused_until <= start and self._plan == plan:
                    self._last_start = max(self._last_start, start)
                    return start
            # A 429 paused every caller, or lowered the rate, while this one waited: reserve
            # again. Waiters wake in the order of their old starts, so the order is kept.

    def pause_until(self, deadline: float) -> None:
        """Let no request start before ``deadline`` (a value of the limiter's clock)."""
        with self._lock:
            self._paused_until = max(self._paused_until, deadline)

    def set_rate(self, requests_per_second: float) -> None:
        """Space starts ``1 / requests_per_second`` apart from now on."""
        if requests_per_second <= 0:
            raise ValueError(f"requests_per_second must be positive, got {requests_per_second}")
        with self._lock:
            lowered = requests_per_second < self._rate
            self._rate = requests_per_second
            if lowered:
                self._plan += 1
                self._next_start = self._last_start + 1.0 / requests_per_second
