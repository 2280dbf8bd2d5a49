"""Gong's wire conventions shared by every module: constants, the request record, error replies
(§4, §5), request ids and date-times (§3)."""

from __future__ import annotations

import dataclasses
import json
import re
import secrets
import string
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, Final

Call = dict[str, Any]

PAGE_SIZE: Final = 100
SCOPE_BASIC: Final = "api:calls:read:basic"
SCOPE_EXTENSIVE: Final = "api:calls:read:extensive"
SCOPE_TRANSCRIPT: Final = "api:calls:read:transcript"
SCOPE_MEDIA_URL: Final = "api:calls:read:media-url"
SCOPE_USERS: Final = "api:users:read"
SCOPE_WORKSPACES: Final = "api:workspaces:read"
SCOPE_TRACKERS: Final = "api:settings:trackers:read"
SCOPE_SCORECARDS: Final = "api:settings:scorecards:read"
SCOPE_STATS_SCORECARDS: Final = "api:stats:scorecards"
ALL_SCOPES: Final = frozenset(
    {
        SCOPE_BASIC,
        SCOPE_EXTENSIVE,
        SCOPE_TRANSCRIPT,
        SCOPE_MEDIA_URL,
        SCOPE_USERS,
        SCOPE_WORKSPACES,
        SCOPE_TRACKERS,
        SCOPE_SCORECARDS,
        SCOPE_STATS_SCORECARDS,
    }
)
NO_CALLS_FOUND: Final = "No calls found corresponding to the provided filters"
NO_USERS_FOUND: Final = "No users found corresponding to the provided filters"  # inferred text
# Gong's text, final period included (the calls message has none).
NO_ANSWERED_SCORECARDS: Final = (
    "No answered scorecards found corresponding to the provided filters."
)
WORKSPACE_NOT_FOUND: Final = "Workspace not found"
DEFAULT_COMPANY_TIME_ZONE: Final = "America/New_York"
RATE_LIMITED: Final = "API request limit exceeded"
CURSOR_EXPIRED: Final = "cursor has expired"  # Dust matches this substring; exact text unknown
DEFAULT_WORKSPACE_ID: Final = "623457276584334"
SEED_ID_BASE: Final = 7_000_000_000_000_000_000
JSON_CONTENT_TYPE: Final = "application/json; charset=utf-8"
EARLIEST: Final = datetime.min.replace(tzinfo=UTC)
GONG_ID: Final = re.compile(r"[0-9]{1,20}")

_REQUEST_ID_ALPHABET = string.digits + string.ascii_lowercase
_ERROR_MESSAGES = {
    400: "Malformed request",
    401: "Access denied",
    403: "Access denied",
    429: RATE_LIMITED,
    500: "Failed to complete the operation due to an unexpected error",
}


@dataclass(frozen=True)
class RequestRecord:
    """One request as the emulator saw it; `status` is 0 when a fault dropped the connection."""

    method: str
    path: str
    query: dict[str, str]
    body: Any | None
    authorization: str | None
    started_at: float
    status: int
    fault: str | None
    retry_after: str | None = None  # the Retry-After header sent, if any
    request_id: str | None = None  # the requestId (x-traceid) of the reply, if one was sent


def new_request_id() -> str:
    return "".join(secrets.choice(_REQUEST_ID_ALPHABET) for _ in range(19))


@dataclass
class Reply:
    status: int
    body: str
    content_type: str = JSON_CONTENT_TYPE
    retry_after: str | None = None
    request_id: str = dataclasses.field(default_factory=new_request_id)


def status_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:  # a fault may use any code, standard or not
        return "Error"


class ApiError(Exception):
    """Raised anywhere while answering; becomes a Gong ErrorResponse."""

    def __init__(self, status: int, message: str | None = None, retry_after: str | None = None):
        self.status = status
        self.message = message or _ERROR_MESSAGES.get(status) or status_phrase(status)
        self.retry_after = retry_after
        super().__init__(self.message)


def json_reply(status: int, payload: dict[str, Any], retry_after: str | None = None) -> Reply:
    reply = Reply(status, "", retry_after=retry_after)
    # Gong puts requestId first and echoes it in x-traceid.
    reply.body = json.dumps({"requestId": reply.request_id, **payload}, separators=(",", ":"))
    return reply


def error_reply(error: ApiError) -> Reply:
    return json_reply(error.status, {"errors": [error.message]}, error.retry_after)


def parse_time(value: object) -> datetime | None:
    """An aware datetime, or None for anything else (absent, junk, or without an offset)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def start_time(call: Call) -> datetime | None:
    return parse_time(call.get("started"))
