"""Gong's per-company limits (§8): a leaky bucket of requests per second and a daily quota.

One Admission per emulator, i.e. per company: every client with valid credentials draws from
it, so a competing client slows the tap exactly as it would against Gong.
"""

from __future__ import annotations

import email.utils
import math
import threading
import time
from typing import Final

from .protocol import ApiError

RETRY_AFTER_STYLES: Final = frozenset({"float", "int", "http-date", "none"})


class LeakyBucket:
    """Admits `rate` requests per second with a burst of max(1, rate).

    Refused requests take nothing from the bucket, as with Gong, so a client that waits the
    advertised Retry-After is let through.
    """

    def __init__(self, rate: float) -> None:
        self._rate = rate
        self._capacity = max(1.0, rate)
        self._tokens = self._capacity
        self._updated = time.monotonic()

    def take(self) -> float:
        """Take a token and return 0.0, or return the seconds until one will be available."""
        now = time.monotonic()
        self._tokens = min(self._capacity, self._tokens + (now - self._updated) * self._rate)
        self._updated = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self._rate


class Admission:
    """The rate limit and the daily quota together; `admit` raises the 429 Gong would send."""

    def __init__(
        self,
        rate_limit_per_second: float | None,
        daily_quota: int | None,
        quota_retry_after: float,
        retry_after_style: str,
    ) -> None:
        if retry_after_style not in RETRY_AFTER_STYLES:
            raise ValueError(f"retry_after_style must be one of {sorted(RETRY_AFTER_STYLES)}")
        if rate_limit_per_second is not None and rate_limit_per_second <= 0:
            raise ValueError("rate_limit_per_second must be positive (or None for no limit)")
        self.daily_quota, self.quota_retry_after = daily_quota, quota_retry_after
        self.retry_after_style = retry_after_style
        self._bucket = LeakyBucket(rate_limit_per_second) if rate_limit_per_second else None
        self._admitted = 0
        self._lock = threading.Lock()

    def admit(self) -> None:
        with self._lock:
            if self.daily_quota is not None and self._admitted >= self.daily_quota:
                raise ApiError(429, retry_after=self.retry_after(self.quota_retry_after))
            wait = self._bucket.take() if self._bucket else 0.0
            if wait > 0:
                raise ApiError(429, retry_after=self.retry_after(wait))
            self._admitted += 1

    def retry_after(self, seconds: float) -> str | None:
        # Always round up: a client that waits exactly this long must find a free slot.
        if self.retry_after_style == "none":
            return None
        if self.retry_after_style == "int":
            return str(max(1, math.ceil(seconds)))
        if self.retry_after_style == "http-date":
            return email.utils.formatdate(math.ceil(time.time() + seconds), usegmt=True)
        return f"{max(0.001, math.ceil(seconds * 1000) / 1000):.3f}"
