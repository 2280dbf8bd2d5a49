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
        # One condition guards the schedule and serves callers first come, first served: with
        # in-order consumers (map_in_order), a caller that kept losing the race for a start
        # would stall every request queued behind it.
        self._turns = threading.Condition()
        self._next_ticket = 0
        self._serving = 0
        self._next_start = float("-inf")
        self._paused_until = float("-inf")

    def acquire(self) -> None:
        """Block until a request may start, then claim that start; callers are served in order."""
        with self._turns:
            ticket = self._next_ticket
            self._next_ticket += 1
            self._turns.wait_for(lambda: self._serving == ticket)
        try:
            while True:
                with self._turns:
                    now = self._clock()
                    earliest = max(self._next_start, self._paused_until)
                    if earliest <= now:
                        self._next_start = now + self.interval
                        return
                # Sleep without the lock, so that a pause arriving meanwhile still applies.
                self._sleep(earliest - now)
        finally:
            with self._turns:
                self._serving += 1
                self._turns.notify_all()

    def pause_until(self, deadline: float) -> None:
        """Let no request start before ``deadline`` (a value of the limiter's clock)."""
        with self._turns:
            self._paused_until = max(self._paused_until, deadline)
