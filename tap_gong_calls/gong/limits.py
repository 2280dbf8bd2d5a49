"""The rate of requests: one limiter shared by every request of a run, the rate it adapts to,
and the one rule for a 429 (lower the rate; pause every worker until Retry-After).

The client asks ``RateControl.acquire()`` before each send and tells ``answered()`` after it;
the retries (retries.py) pause through ``pause_until`` when Gong gave no Retry-After. Nothing
else waits for Gong's rate limit.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import TYPE_CHECKING

from tap_gong_calls.gong.errors import retry_after_seconds

if TYPE_CHECKING:
    import logging
    from collections.abc import Callable

    import requests


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


class RateControl:
    """The limiter and its adaptive rate, with the one 429 rule and its log lines."""

    def __init__(
        self, requests_per_second: float, *, max_retry_after: float, logger: logging.Logger
    ) -> None:
        self.limiter = RateLimiter(requests_per_second)
        self.adaptive = AdaptiveRate(self.limiter)
        self.max_retry_after = max_retry_after
        self.logger = logger

    @property
    def rate(self) -> float:
        return self.limiter.rate

    def acquire(self) -> float:
        """Block until a request may start; its start, for ``answered``."""
        return self.limiter.acquire()

    def pause_until(self, deadline: float) -> None:
        """Hold every worker back until ``deadline`` (monotonic clock)."""
        self.limiter.pause_until(deadline)

    def answered(self, started: float, response: requests.Response) -> None:
        """Learn from an answer: after a 429, a lower rate and every worker paused for as long
        as Gong asked (a wait longer than max_retry_after_seconds fails the run instead)."""
        control = self.adaptive
        if response.status_code == 429:
            seconds = retry_after_seconds(response.headers.get("Retry-After"))
            if seconds is not None and seconds <= self.max_retry_after:
                self.limiter.pause_until(time.monotonic() + seconds)
            rate = control.rate_limited(started)
            if rate is not None:
                self.logger.info(
                    "Rate limit: lowering to %.2f requests/s after a 429 (ceiling %g)",
                    rate,
                    control.ceiling,
                )
            return
        rate = control.admitted(started)
        if rate is not None and rate >= control.ceiling:
            self.logger.info("Rate limit: back at the ceiling of %g requests/s", rate)
