"""GongClient: the one HTTP client of a run, shared by every stream and worker thread.

It owns the session and authentication, the rate limiter every request goes through (adapted
after a 429), the retries (retries.py) and Gong's error semantics (errors.py). The tap builds
one per run; the endpoints (endpoints.py) use it; streams never see HTTP.
"""

from __future__ import annotations

import datetime
import email.utils
import math
import re
import threading
from functools import cached_property
from importlib.metadata import version
from typing import TYPE_CHECKING, Any

import requests
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase, HTTPBasicAuth
from singer_sdk.exceptions import RetriableAPIError

from tap_gong_calls.adaptive_rate import AdaptiveRate
from tap_gong_calls.errors import (
    BadResponseError,
    GongUnavailableError,
    NotFoundError,
    RateLimitedError,
    check_response,
    endpoint_of,
)
from tap_gong_calls.progress import RunStats
from tap_gong_calls.rate_limiter import RateLimiter
from tap_gong_calls.retries import TRANSIENT_ERRORS, RetryPolicy
from tap_gong_calls.timestamps import UTC, format_utc, utc_now

if TYPE_CHECKING:
    import logging
    from collections.abc import Callable, Mapping

    from tap_gong_calls.budget import RequestBudget

JSONBody = dict[str, Any]


class BearerAuth(AuthBase):
    """``Authorization: Bearer <token>`` for an OAuth access token."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request


class GongClient:
    """Throttled, retried requests to Gong's v2 API, with errors that say what to check.

    Safe to use from worker threads: the session's pool, the limiter and the counters are.
    Nothing is read from the config before the first request, so a tap can build one while
    its config is still being checked.
    """

    # The most requests in flight when ids are fetched one by one: enough to keep the rate
    # limit busy through a few seconds of server latency, few enough to be polite.
    MAX_IN_FLIGHT = 32

    def __init__(self, config: Mapping[str, Any], logger: logging.Logger) -> None:
        self.config = config
        self.logger = logger
        # Gong's clock at its first answer of the run (its Date header), if it sent one.
        self.server_time: datetime.datetime | None = None
        # The daily request budget, once a run set one: every request is counted against it.
        self.budget: RequestBudget | None = None
        self._lock = threading.Lock()
        self._local = threading.local()  # per worker thread: the size of its last answer

    @property
    def url_base(self) -> str:
        return str(self.config["api_url"]).rstrip("/")

    @cached_property
    def session(self) -> requests.Session:
        session = requests.Session()
        # One connection per worker thread, reused across requests.
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=self.MAX_IN_FLIGHT)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.auth = _authenticator(self.config)
        # The User-Agent tells Gong's support which client sent a request.
        agent = self.config.get("user_agent") or f"tap-gong-calls/{version('tap-gong-calls')}"
        session.headers.update({"Accept": "application/json", "User-Agent": str(agent)})
        return session

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
        return RunStats(rate=float(self.config["requests_per_second"]))

    @cached_property
    def max_in_flight(self) -> int:
        """Requests to keep in flight: enough to keep the limiter busy through ~4 s of latency."""
        wanted = math.ceil(4 * float(self.config["requests_per_second"]))
        return min(self.MAX_IN_FLIGHT, max(2, wanted))

    def request_json(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: JSONBody | None = None,
    ) -> JSONBody:
        """Send one request (throttled, retried) and return its JSON object."""
        request = requests.Request(method, self.url_base + path, params=params, json=body)
        prepared = self.session.prepare_request(request)
        try:
            return self._send(prepared)
        except requests.exceptions.SSLError as exc:
            raise GongUnavailableError(
                f"TLS with {self.url_base} failed on {method} {path}: {_tls_reason(exc)}. "
                f"Check api_url: https to a port that speaks plain http, a proxy that "
                f"intercepts TLS, or a certificate your machine does not trust."
            ) from None
        except RateLimitedError as exc:
            raise GongUnavailableError(
                f"Still rate limited after {RetryPolicy.MAX_RATE_LIMITED_TRIES} waits on "
                f"{method} {path}: {exc}. Lower requests_per_second, or check what else uses "
                f"your company's Gong API quota."
            ) from exc
        except TRANSIENT_ERRORS as exc:
            raise GongUnavailableError(
                f"Gong did not answer {method} {path} successfully after "
                f"{RetryPolicy.MAX_TRANSIENT_TRIES} tries: {exc}. Check that api_url "
                f"({self.url_base}) is reachable and Gong is up; a date-range run resumes "
                f"from its last STATE."
            ) from exc

    def check_access(self) -> None:
        """One ``GET /v2/calls`` over the last minute: raises unless the credentials work.

        It needs no scope beyond the basic one, so it tells wrong credentials from a missing
        scope, and costs one request.
        """
        now = utc_now()
        params = {
            "fromDateTime": format_utc(now - datetime.timedelta(minutes=1)),
            "toDateTime": format_utc(now),
        }
        if workspace_id := self.config.get("workspace_id"):
            params["workspaceId"] = str(workspace_id)
        try:
            self.request_json("GET", "/v2/calls", params=params)
        except NotFoundError as exc:
            if not exc.is_empty_result:  # Gong's "no calls in that minute" is a yes
                raise

    @cached_property
    def _send(self) -> Callable[[requests.PreparedRequest], JSONBody]:
        policy = RetryPolicy(
            float(self.config["backoff_base_seconds"]), self.rate_limiter, self.stats, self.logger
        )
        return policy.wrap(self._send_once)

    def _send_once(self, prepared: requests.PreparedRequest) -> JSONBody:
        started = self.rate_limiter.acquire()
        if self.budget is not None:  # raises BudgetReachedError, never retried, when spent
            self.budget.spend()
        self.stats.request_sent()
        # A float, whatever the config holds: singer-sdk reads JSON fractions as Decimal,
        # which requests refuses.
        timeout = float(self.config["request_timeout_seconds"])
        response = self.session.send(prepared, timeout=timeout)
        self._adapt_rate(started, rate_limited=response.status_code == 429)
        try:
            check_response(
                response,
                api_url=self.url_base,
                max_retry_after=float(self.config["max_retry_after_seconds"]),
            )
        except RateLimitedError as exc:
            if exc.deadline is not None:  # every worker waits, not only this one
                self.rate_limiter.pause_until(exc.deadline)
            raise
        with self._lock:
            if self.server_time is None:
                self.server_time = _server_time(response)
        self._local.body_bytes = len(response.content)
        return _json_object(response)

    @property
    def last_body_bytes(self) -> int:
        """The bytes of the last answer this thread received (what sizes transcript requests:
        measuring the parsed JSON again would cost more than checking it)."""
        return int(getattr(self._local, "body_bytes", 0))

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


def _authenticator(config: Mapping[str, Any]) -> AuthBase:
    if token := config.get("access_token"):
        return BearerAuth(token)
    return HTTPBasicAuth(config["access_key"], config["access_key_secret"])


def _json_object(response: requests.Response) -> JSONBody:
    try:
        body = response.json()
    except ValueError as exc:
        raise RetriableAPIError(
            f"Gong answered {endpoint_of(response)} with HTTP {response.status_code} "
            f"but a body that is not JSON ({len(response.content)} bytes)",
            response,
        ) from exc
    if not isinstance(body, dict):
        raise BadResponseError(
            f"Gong answered {endpoint_of(response)} with JSON that is not an object"
        )
    return body


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
