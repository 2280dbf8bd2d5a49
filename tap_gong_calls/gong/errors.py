"""What can go wrong talking to Gong, as exceptions whose messages say what to check."""

from __future__ import annotations

import datetime
import email.utils
import time
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

if TYPE_CHECKING:
    import requests


# Gong's 400 for a cursor it no longer honours (docs/gong-api-behaviour.md §16).
CURSOR_EXPIRED = "cursor has expired"


def check_response(response: requests.Response, *, api_url: str, max_retry_after: float) -> None:
    """Raise the exception that says what an answer of Gong that is not a success means."""
    status = response.status_code
    endpoint = endpoint_of(response)
    if status == 429:
        seconds = retry_after_seconds(response.headers.get("Retry-After"))
        if seconds is not None and seconds > max_retry_after:
            resume = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=seconds)
            raise QuotaExhaustedError(
                f"Gong's rate limit answered {endpoint} with Retry-After {seconds:.0f}s, "
                f"longer than max_retry_after_seconds ({max_retry_after:.0f}s): the daily "
                f"quota (10,000 requests per company) is probably used up. Retry after "
                f"{resume:%Y-%m-%d %H:%M:%S} UTC, or raise max_retry_after_seconds to wait."
            )
        deadline = None if seconds is None else time.monotonic() + seconds
        raise RateLimitedError(describe(response, endpoint), response, deadline)
    if status >= 500:
        raise RetriableAPIError(describe(response, endpoint), response)
    if status in (401, 403):
        raise GongAuthError(
            f"Gong refused the request: {describe(response, endpoint)}. Check access_key "
            f"and access_key_secret (or access_token), that they belong to the workspace "
            f"you expect and carry the scope this endpoint needs, and that api_url "
            f"({api_url}) is your company's Gong API host.",
            status,
        )
    if status == 404:
        raise NotFoundError(response, endpoint)
    if status == 400 and any(CURSOR_EXPIRED in m.lower() for m in gong_errors(response)[0]):
        raise CursorExpiredError(describe(response, endpoint))
    if status >= 400:
        raise FatalAPIError(f"Gong rejected the request: {describe(response, endpoint)}")


def endpoint_of(response: requests.Response) -> str:
    """``METHOD /path`` of a response, without the query (which can hold a cursor)."""
    method = response.request.method if response.request is not None else "?"
    return f"{method} {urlparse(response.url).path}"


def gong_errors(response: requests.Response) -> tuple[list[str], str | None]:
    """Gong's ``errors[]`` and ``requestId`` from an error body, or the raw text if not JSON."""
    try:
        body = response.json()
    except ValueError:
        text = " ".join(response.text.split())[:200]
        return ([text] if text else []), response.headers.get("x-traceid")
    if not isinstance(body, dict):
        return [str(body)[:200]], response.headers.get("x-traceid")
    errors = body.get("errors")
    messages = [str(e) for e in errors] if isinstance(errors, list) else []
    request_id = body.get("requestId") or response.headers.get("x-traceid")
    return messages, request_id


def describe(response: requests.Response, endpoint: str) -> str:
    """One line naming the endpoint, the status, Gong's messages and its requestId."""
    return _describe(response, endpoint, *gong_errors(response))


def _describe(
    response: requests.Response, endpoint: str, messages: list[str], request_id: str | None
) -> str:
    detail = "; ".join(messages) or response.reason or "no message"
    return f"HTTP {response.status_code} from {endpoint}: {detail} (requestId {request_id or '-'})"


def retry_after_seconds(value: str | None) -> float | None:
    """Parse ``Retry-After`` as seconds or as an HTTP-date; None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return max(0.0, (when - datetime.datetime.now(datetime.UTC)).total_seconds())


class GongAuthError(FatalAPIError):
    """401/403: the credentials or their scopes are wrong; retrying cannot help."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class NotFoundError(FatalAPIError):
    """A 404; the endpoint table (api.py) says which of Gong's texts mean "nothing"."""

    def __init__(self, response: requests.Response, endpoint: str) -> None:
        self.gong_messages, request_id = gong_errors(response)
        super().__init__(_describe(response, endpoint, self.gong_messages, request_id))


class RateLimitedError(RetriableAPIError):
    """429: wait until ``deadline`` (monotonic clock), or back off when Gong gave no wait."""

    def __init__(self, message: str, response: requests.Response, deadline: float | None) -> None:
        super().__init__(message, response)
        self.deadline = deadline


class QuotaExhaustedError(FatalAPIError):
    """A ``Retry-After`` longer than the tap may sleep: the daily quota is gone."""


class BudgetReachedError(Exception):
    """Raised instead of sending a request the daily request budget has no room for: the
    run stops cleanly there (never retried)."""


class CursorExpiredError(FatalAPIError):
    """400 "cursor has expired": the listing restarts from its first page (client.paginate)."""


class BadResponseError(FatalAPIError):
    """A 200 whose JSON does not have the shape Gong documents."""


class GongUnavailableError(FatalAPIError):
    """Retries are used up: Gong kept failing, timing out or rate limiting."""
