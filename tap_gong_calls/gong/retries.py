"""How long to wait before trying a request again: Gong's Retry-After, or jittered backoff.

Two layers, so that waiting out 429s never uses up the tries meant for faults: transient
faults (5xx, resets, timeouts) get a few tries with full-jitter exponential backoff; a 429 is
waited out exactly as long as Gong asked, with every worker paused.
"""

from __future__ import annotations

import random
import time
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from urllib.parse import urlparse

import backoff
import requests
from singer_sdk.exceptions import RetriableAPIError

from tap_gong_calls.gong.errors import RateLimitedError

if TYPE_CHECKING:
    import logging
    from collections.abc import Callable, Generator

    from tap_gong_calls.progress import RunStats

T = TypeVar("T")

# Faults worth another try: the request may well succeed a moment later.
TRANSIENT_ERRORS = (
    RetriableAPIError,
    ConnectionResetError,
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


class Pauses(Protocol):
    """What the retries need of the rate limit (limits.RateControl): pausing every worker."""

    def pause_until(self, deadline: float) -> None: ...


class RetryPolicy:
    """Wraps one request function in both layers of retries, counting every wait in ``stats``."""

    MAX_TRANSIENT_TRIES = 5
    MAX_RATE_LIMITED_TRIES = 30
    BACKOFF_CAP_SECONDS = 60.0

    def __init__(
        self,
        base_seconds: float,
        limits: Pauses,
        stats: RunStats,
        logger: logging.Logger,
    ) -> None:
        self.base_seconds = base_seconds
        self.limits = limits
        self.stats = stats
        self.logger = logger

    def wrap(
        self, send: Callable[[requests.PreparedRequest], T]
    ) -> Callable[[requests.PreparedRequest], T]:
        """``send`` with retries: transient faults inside, rate limiting outside."""
        transient = backoff.on_exception(
            self._transient_waits,
            TRANSIENT_ERRORS,
            # A TLS failure (wrong protocol, untrusted certificate) does not heal by waiting.
            giveup=lambda exc: isinstance(exc, (RateLimitedError, requests.exceptions.SSLError)),
            max_tries=self.MAX_TRANSIENT_TRIES,
            jitter=None,
            on_backoff=self._log_retry,
            logger=None,
        )
        rate_limited = backoff.on_exception(
            self._rate_limit_waits,
            RateLimitedError,
            max_tries=self.MAX_RATE_LIMITED_TRIES,
            jitter=None,
            on_backoff=self._log_retry,
            logger=None,
        )
        return rate_limited(transient(send))

    def _transient_waits(self) -> Generator[float, BaseException, None]:
        """Exponential backoff with full jitter, so parallel retries do not stampede."""
        attempt = 0
        yield 0.0  # primed by backoff, which then sends each exception
        while True:
            cap = min(self.BACKOFF_CAP_SECONDS, self.base_seconds * 2**attempt)
            wait = random.uniform(0, cap)  # noqa: S311
            self.stats.waited(wait, rate_limited=False)
            yield wait
            attempt += 1

    def _rate_limit_waits(self) -> Generator[float, BaseException, None]:
        """Exactly what Retry-After asked for; without it, backoff that pauses every worker."""
        attempt = 0
        exc = yield 0.0
        while True:
            deadline = exc.deadline if isinstance(exc, RateLimitedError) else None
            if deadline is None:
                cap = min(self.BACKOFF_CAP_SECONDS, self.base_seconds * 2**attempt)
                deadline = time.monotonic() + random.uniform(cap / 2, cap)  # noqa: S311
                self.limits.pause_until(deadline)
            wait = max(0.0, deadline - time.monotonic())
            self.stats.waited(wait, rate_limited=True)
            exc = yield wait
            attempt += 1

    def _log_retry(self, details: Any) -> None:
        prepared: requests.PreparedRequest = details["args"][0]
        self.logger.warning(
            "Retrying %s %s in %.2fs (try %d): %s",
            prepared.method,
            urlparse(prepared.url).path,
            details["wait"],
            details["tries"],
            details["exception"],
        )
