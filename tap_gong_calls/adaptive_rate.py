"""Learning the rate the server really grants, below a configured ceiling."""

from __future__ import annotations

import threading
from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tap_gong_calls.rate_limiter import RateLimiter


class AdaptiveRate:
    """Lowers a limiter's rate to what the server granted after a 429, then probes back up.

    Gong's quota is per company, so another integration can take part of it. A 429 means the
    bucket is empty: the requests admitted over the last few seconds are what was left for us.
    The rate drops to that (times ``MARGIN``, and by at most half in one step, as a short
    window can be noisy), then climbs by ``PROBE_STEP`` of the ceiling after each
    ``PROBE_EVERY`` seconds without a 429, to find capacity that came back. 429s of requests
    started before the last lowering were sent at the old rate, and teach nothing new.
    """

    WINDOW = 10.0  # seconds of admitted requests the granted rate is measured over, at most
    MIN_WINDOW = 2.0  # ... and at least, when the run is that old
    MARGIN = 0.9
    MAX_CUT = 0.5
    PROBE_STEP = 0.01
    PROBE_EVERY = 3.0
    FLOOR = 0.1  # requests per second

    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter
        self.ceiling = limiter.rate
        self._clock = limiter.clock
        self._lock = threading.Lock()
        self._admitted: deque[float] = deque()  # when each admitted request was answered
        self._first_start: float | None = None
        self._changed_at = float("-inf")  # last lowering or probe step
        self._lowered_at = float("-inf")

    @property
    def rate(self) -> float:
        return self.limiter.rate

    def admitted(self, started: float) -> float | None:
        """Note a request the server let through; return the new rate if this probed up."""
        with self._lock:
            now = self._clock()
            self._note_start(started)
            self._admitted.append(now)
            while self._admitted[0] < now - self.WINDOW:
                self._admitted.popleft()
            rate = self.limiter.rate
            if rate >= self.ceiling or now - self._changed_at < self.PROBE_EVERY:
                return None
            rate = min(self.ceiling, rate + self.PROBE_STEP * self.ceiling)
            self.limiter.set_rate(rate)
            self._changed_at = now
            return rate

    def rate_limited(self, started: float) -> float | None:
        """Note a 429 of a request started at ``started``; return the new rate if lowered."""
        with self._lock:
            now = self._clock()
            first_start = self._note_start(started)
            if started < self._lowered_at:
                return None
            since = max(self._lowered_at, now - self.WINDOW)
            since = max(first_start, min(since, now - self.MIN_WINDOW))
            granted = sum(1 for t in self._admitted if t >= since) / max(now - since, 1e-9)
            rate = self.limiter.rate
            lowered = max(min(granted, rate) * self.MARGIN, rate * self.MAX_CUT, self.FLOOR)
            lowered = min(lowered, self.ceiling)
            self.limiter.set_rate(lowered)
            self._lowered_at = self._changed_at = now
            return lowered

    def _note_start(self, started: float) -> float:
        """Note a request's start; return the first start of the run."""
        if self._first_start is None or started < self._first_start:
            self._first_start = started
        return self._first_start
