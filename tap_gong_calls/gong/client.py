"""GongClient: the one HTTP client of a run, shared by every stream and worker thread.

Every request goes through one send pipeline: the rate limit (limits.py) → the daily request
budget's hard limit (whatever ``use_budget`` attached) → HTTP → Gong's errors (errors.py),
the whole wrapped by the retries (retries.py). ``paginate`` walks a cursor-paged endpoint of
the table in api.py. The tap builds one client per run; the calls API (calls.py) uses it.
"""

from __future__ import annotations

import datetime
import math
import threading
from dataclasses import dataclass
from functools import cached_property
from importlib.metadata import version
from typing import TYPE_CHECKING, Any, Protocol

import requests
from requests.adapters import HTTPAdapter

from tap_gong_calls.gong.api import LISTING, STREAM_OF_PATH
from tap_gong_calls.gong.errors import (
    GongUnavailableError,
    NotFoundError,
    RateLimitedError,
    check_response,
    endpoint_of,
)
from tap_gong_calls.gong.http import JSONBody, authenticator, json_object, server_time, tls_reason
from tap_gong_calls.gong.limits import RateControl
from tap_gong_calls.gong.retries import TRANSIENT_ERRORS, RetryPolicy
from tap_gong_calls.gong.text import StreamOf, TextCleaner
from tap_gong_calls.timestamps import format_utc, utc_now

if TYPE_CHECKING:
    import logging
    from collections.abc import Callable, Mapping

    from tap_gong_calls.progress import RunStats

Item = dict[str, Any]


_STREAM_OF = StreamOf(STREAM_OF_PATH)


class Spender(Protocol):
    """What the client needs of the daily request budget: count a request, or refuse it."""

    def spend(self) -> None:
        """Count one request about to be sent; raise (never retried) when none is left."""


class _Unlimited:
    def spend(self) -> None:
        return


@dataclass(frozen=True)
class Answer:
    """A successful answer: its JSON object, and the bytes it came in."""

    body: JSONBody
    size: int


class GongClient:
    """Throttled, retried requests to Gong's v2 API, with errors that say what to check.

    Safe to use from worker threads: the session's pool, the limiter and the counters are.
    Nothing is read from the config before the first request, so a tap can build one while
    its config is still being checked.
    """

    # The most requests in flight when ids are fetched one by one: enough to keep the rate
    # limit busy through a few seconds of server latency, few enough to be polite.
    MAX_IN_FLIGHT = 32

    def __init__(self, config: Mapping[str, Any], logger: logging.Logger, stats: RunStats) -> None:
        self.config = config
        self.logger = logger
        self.stats = stats
        # Gong's clock at its first answer of the run (its Date header), if it sent one.
        self.server_time: datetime.datetime | None = None
        self._spender: Spender = _Unlimited()
        self._lock = threading.Lock()

    def use_budget(self, budget: Spender) -> None:
        """Count every request from now on against ``budget`` (a run's daily request budget)."""
        self._spender = budget

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
        session.auth = authenticator(self.config)
        # The User-Agent tells Gong's support which client sent a request.
        agent = self.config.get("user_agent") or f"tap-gong-calls/{version('tap-gong-calls')}"
        session.headers.update({"Accept": "application/json", "User-Agent": str(agent)})
        return session

    @cached_property
    def limits(self) -> RateControl:
        """The rate every request of the run goes through: lower after a 429, back up after."""
        return RateControl(
            float(self.config["requests_per_second"]),
            max_retry_after=float(self.config["max_retry_after_seconds"]),
            logger=self.logger,
        )

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
        return self.request(method, path, params=params, body=body).body

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: JSONBody | None = None,
    ) -> Answer:
        """Send one request through the pipeline; its answer, or the error that says why not."""
        request = requests.Request(method, self.url_base + path, params=params, json=body)
        prepared = self.session.prepare_request(request)
        try:
            return self._send(prepared)
        except requests.exceptions.SSLError as exc:
            raise GongUnavailableError(
                f"TLS with {self.url_base} failed on {method} {path}: {tls_reason(exc)}. "
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
            self.request(LISTING.method, LISTING.path, params=params)
        except NotFoundError as exc:
            if not LISTING.says_empty(exc.gong_messages):  # "no calls in that minute": a yes
                raise

    @cached_property
    def text(self) -> TextCleaner:
        """What cleans Gong's answers of text no target can store, and counts it."""
        return TextCleaner(
            remove_nul=bool(self.config.get("remove_nul_characters", True)), logger=self.logger
        )

    @property
    def rate(self) -> float:
        """Requests per second the limiter is at now."""
        return self.limits.rate

    @cached_property
    def _send(self) -> Callable[[requests.PreparedRequest], Answer]:
        policy = RetryPolicy(
            float(self.config["backoff_base_seconds"]), self.limits, self.stats, self.logger
        )
        return policy.wrap(self._send_once)

    def _send_once(self, prepared: requests.PreparedRequest) -> Answer:
        started = self.limits.acquire()
        self._spender.spend()  # raises, never retried, when the daily budget is spent
        self.stats.request_sent()
        # A float, whatever the config holds: singer-sdk reads JSON fractions as Decimal,
        # which requests refuses.
        timeout = float(self.config["request_timeout_seconds"])
        response = self.session.send(prepared, timeout=timeout)
        self.limits.answered(started, response)
        self.stats.note_rate(self.limits.rate)
        check_response(
            response,
            api_url=self.url_base,
            max_retry_after=float(self.config["max_retry_after_seconds"]),
        )
        with self._lock:
            if self.server_time is None:
                self.server_time = server_time(response)
        body = json_object(response)
        self.text.clean(body, response.content, endpoint_of(response), _STREAM_OF)
        return Answer(body, len(response.content))
