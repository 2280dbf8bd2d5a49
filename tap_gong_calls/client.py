"""The base stream: Gong's URL and auth, throttled and retried requests, its error semantics."""

from __future__ import annotations

import datetime
import email.utils
import math
import random
import re
import sys
import time
from functools import cached_property
from importlib.metadata import version
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import backoff
import requests
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase, HTTPBasicAuth
from singer_sdk import RESTStream
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

from tap_gong_calls.adaptive_rate import AdaptiveRate
from tap_gong_calls.errors import (
    BadResponseError,
    GongAuthError,
    GongUnavailableError,
    NotFoundError,
    QuotaExhaustedError,
    RateLimitedError,
    describe,
    retry_after_seconds,
)
from tap_gong_calls.progress import RunStats
from tap_gong_calls.rate_limiter import RateLimiter
from tap_gong_calls.timestamps import UTC, format_utc

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from collections.abc import Callable, Generator

    JSONBody = dict[str, Any]

# Faults worth another try: the request may well succeed a moment later.
TRANSIENT_ERRORS = (
    RetriableAPIError,
    ConnectionResetError,
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


class BearerAuth(AuthBase):
    """``Authorization: Bearer <token>`` for an OAuth access token."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request


class GongStream(RESTStream[str]):
    """A stream of Gong's v2 API with one throttle, one retry policy and clear errors."""

    MAX_TRANSIENT_TRIES = 5
    MAX_RATE_LIMITED_TRIES = 30
    BACKOFF_CAP_SECONDS = 60.0
    # The most requests in flight when ids are fetched one by one: enough to keep the rate
    # limit busy through a few seconds of server latency, few enough to be polite.
    MAX_IN_FLIGHT = 32

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # One connection per worker thread, reused across requests.
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=self.MAX_IN_FLIGHT)
        self.requests_session.mount("http://", adapter)
        self.requests_session.mount("https://", adapter)

    @override
    @property
    def url_base(self) -> str:
        return str(self.config["api_url"]).rstrip("/")

    @override
    @cached_property
    def authenticator(self) -> AuthBase:
        if token := self.config.get("access_token"):
            return BearerAuth(token)
        return HTTPBasicAuth(self.config["access_key"], self.config["access_key_secret"])

    @override
    @property
    def user_agent(self) -> str:
        # Tells Gong's support which client sent a request when a requestId is reported.
        return str(self.config.get("user_agent") or f"tap-gong-calls/{version('tap-gong-calls')}")

    @override
    @property
    def http_headers(self) -> dict[str, str]:
        return {"Accept": "application/json", "User-Agent": self.user_agent}

    @override
    @property
    def timeout(self) -> int:
        # A float, whatever the config holds: singer-sdk reads JSON fractions as Decimal,
        # which requests refuses. (requests takes a float; the SDK annotates an int.)
        return float(self.config["request_timeout_seconds"])  # type: ignore[return-value]

    # Gong's clock at its first answer of the run (its Date header), if it sent one.
    server_time: datetime.datetime | None = None

    @cached_property
    def rate_limiter(self) -> RateLimiter:
        """The limiter every request of the run goes through."""
        return RateLimiter(float(self.config["requests_per_second"]))

    @cached_property
    def rate_control(self) -> AdaptiveRate:
        """What sets the limiter's rate: lower after a 429, back up while none come."""
        return AdaptiveRate(self.rate_limiter)

    @cached_property
    def stats(self) -> RunStats:
        """This run's counters."""
        return RunStats(rate=self.rate_limiter.rate)

    def request_json(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: JSONBody | None = None,
    ) -> JSONBody:
        """Send one request (throttled, retried) and return its JSON object.

        Safe to call from worker threads: the session's pool and the limiter are thread-safe.
        """
        prepared = self.build_prepared_request(
            method=method,
            url=self.url_base + path,
            params=params,
            json=body,
            headers=self.http_headers,
        )
        try:
            return self._retrying_send(prepared)
        except requests.exceptions.SSLError as exc:
            raise GongUnavailableError(
                f"TLS with {self.url_base} failed on {method} {path}: {_tls_reason(exc)}. "
                f"Check api_url: https to a port that speaks plain http, a proxy that "
                f"intercepts TLS, or a certificate your machine does not trust."
            ) from None
        except RateLimitedError as exc:
            raise GongUnavailableError(
                f"Still rate limited after {self.MAX_RATE_LIMITED_TRIES} waits on {method} "
                f"{path}: {exc}. Lower requests_per_second, or check what else uses your "
                f"company's Gong API quota."
            ) from exc
        except TRANSIENT_ERRORS as exc:
            raise GongUnavailableError(
                f"Gong did not answer {method} {path} successfully after "
                f"{self.MAX_TRANSIENT_TRIES} tries: {exc}. Check that api_url ({self.url_base}) "
                f"is reachable and Gong is up; a date-range run resumes from its last STATE."
            ) from exc

    @cached_property
    def _retrying_send(self) -> Callable[[requests.PreparedRequest], JSONBody]:
        # Two layers, so that waiting out 429s never uses up the tries meant for faults.
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
        return rate_limited(transient(self._send_once))

    def _send_once(self, prepared: requests.PreparedRequest) -> JSONBody:
        started = self.rate_limiter.acquire()
        self.stats.request_sent()
        response = self.requests_session.send(prepared, timeout=self.timeout)
        self._adapt_rate(started, rate_limited=response.status_code == 429)
        self.validate_response(response)
        if self.server_time is None:
            self.server_time = _server_time(response)
        try:
            body = response.json()
        except ValueError as exc:
            raise RetriableAPIError(
                f"Gong answered {_endpoint(response)} with HTTP {response.status_code} "
                f"but a body that is not JSON ({len(response.content)} bytes)",
                response,
            ) from exc
        if not isinstance(body, dict):
            raise BadResponseError(
                f"Gong answered {_endpoint(response)} with JSON that is not an object"
            )
        return body

    def _adapt_rate(self, started: float, *, rate_limited: bool) -> None:
        """Tell the rate control how a request fared; log when the rate falls or is restored."""
        control = self.rate_control
        if rate_limited:
            rate = control.rate_limited(started)
            if rate is not None:
                self.logger.info(
                    "Rate limit: lowering to %.2f requests/s after a 429 (ceiling %g)",
                    rate,
                    control.ceiling,
                )
        else:
            rate = control.admitted(started)
            if rate is not None and rate >= control.ceiling:
                self.logger.info("Rate limit: back at the ceiling of %g requests/s", rate)
        if rate is not None:
            self.stats.rate = rate

    @override
    def validate_response(self, response: requests.Response) -> None:
        status = response.status_code
        endpoint = _endpoint(response)
        if status == 429:
            self._raise_rate_limited(response, endpoint)
        if status >= 500:
            raise RetriableAPIError(describe(response, endpoint), response)
        if status in (401, 403):
            raise GongAuthError(
                f"Gong refused the request: {describe(response, endpoint)}. Check access_key "
                f"and access_key_secret (or access_token), that they belong to the workspace "
                f"you expect and carry the scope this endpoint needs, and that api_url "
                f"({self.url_base}) is your company's Gong API host.",
                status,
            )
        if status == 404:
            raise NotFoundError(response, endpoint)
        if status >= 400:
            raise FatalAPIError(f"Gong rejected the request: {describe(response, endpoint)}")

    def _raise_rate_limited(self, response: requests.Response, endpoint: str) -> None:
        seconds = retry_after_seconds(response.headers.get("Retry-After"))
        limit = float(self.config["max_retry_after_seconds"])
        if seconds is not None and seconds > limit:
            resume = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(
                seconds=seconds
            )
            raise QuotaExhaustedError(
                f"Gong's rate limit answered {endpoint} with Retry-After {seconds:.0f}s, "
                f"longer than max_retry_after_seconds ({limit:.0f}s): the daily quota "
                f"(10,000 requests per company) is probably used up. Retry after "
                f"{resume:%Y-%m-%d %H:%M:%S} UTC, or raise max_retry_after_seconds to wait."
            )
        deadline = None if seconds is None else time.monotonic() + seconds
        if deadline is not None:
            self.rate_limiter.pause_until(deadline)
        raise RateLimitedError(describe(response, endpoint), response, deadline)

    def _transient_waits(self) -> Generator[float, BaseException, None]:
        """Exponential backoff with full jitter, so parallel retries do not stampede."""
        base = float(self.config["backoff_base_seconds"])
        attempt = 0
        yield 0.0  # primed by backoff, which then sends each exception
        while True:
            wait = random.uniform(0, min(self.BACKOFF_CAP_SECONDS, base * 2**attempt))  # noqa: S311
            self.stats.waited(wait, rate_limited=False)
            yield wait
            attempt += 1

    def _rate_limit_waits(self) -> Generator[float, BaseException, None]:
        """Exactly what Retry-After asked for; without it, backoff that pauses every worker."""
        base = float(self.config["backoff_base_seconds"])
        attempt = 0
        exc = yield 0.0
        while True:
            deadline = exc.deadline if isinstance(exc, RateLimitedError) else None
            if deadline is None:
                cap = min(self.BACKOFF_CAP_SECONDS, base * 2**attempt)
                deadline = time.monotonic() + random.uniform(cap / 2, cap)  # noqa: S311
                self.rate_limiter.pause_until(deadline)
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

    def check_access(self) -> None:
        """One ``GET /v2/calls`` over the last minute: raises unless the credentials work.

        It needs no scope beyond the basic one, so it tells wrong credentials from a missing
        scope, and costs one request.
        """
        now = datetime.datetime.now(UTC).replace(microsecond=0)
        minute_ago = now - datetime.timedelta(minutes=1)
        params = {"fromDateTime": format_utc(minute_ago), "toDateTime": format_utc(now)}
        if workspace_id := self.config.get("workspace_id"):
            params["workspaceId"] = str(workspace_id)
        try:
            self.request_json("GET", "/v2/calls", params=params)
        except NotFoundError as exc:
            if not exc.is_empty_result:  # Gong's "no calls in that minute" is a yes
                raise

    @cached_property
    def max_in_flight(self) -> int:
        """Requests to keep in flight: enough to keep the limiter busy through ~4 s of latency."""
        wanted = math.ceil(4 * float(self.config["requests_per_second"]))
        return min(self.MAX_IN_FLIGHT, max(2, wanted))


def _tls_reason(exc: requests.exceptions.SSLError) -> str:
    """The OpenSSL reason (``[SSL: WRONG_VERSION_NUMBER] wrong version number``), if any."""
    found = re.search(r"\[SSL: [A-Z_]+\][^'\"()]*", str(exc))
    return found.group(0).strip() if found else type(exc).__name__


def _server_time(response: requests.Response) -> datetime.datetime | None:
    try:
        when = email.utils.parsedate_to_datetime(response.headers.get("Date", ""))
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _endpoint(response: requests.Response) -> str:
    """``METHOD /path`` of a response, without the query (which can hold a cursor)."""
    method = response.request.method if response.request is not None else "?"
    return f"{method} {urlparse(response.url).path}"
