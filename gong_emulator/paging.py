"""Request filters (§7) and paging (§6): date windows, id lists, cursors bound to their filter."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import TYPE_CHECKING, Any

from .protocol import GONG_ID, NO_CALLS_FOUND, ApiError, Call, parse_time

if TYPE_CHECKING:
    from datetime import datetime

    from .protocol import RequestRecord


def _parse_bound(value: object) -> datetime | None:
    """Read a fromDateTime/toDateTime request value; absent or null means an open range."""
    if value is None:
        return None
    parsed = parse_time(value)
    if parsed is None:
        # A bound without an offset is ambiguous; rejecting it catches taps that drop the zone.
        raise ApiError(400)
    return parsed


class Window:
    """From inclusive, to exclusive, either side open when absent."""

    def __init__(self, start: object, end: object) -> None:
        self.start, self.end = _parse_bound(start), _parse_bound(end)

    def contains(self, moment: datetime | None) -> bool:
        if moment is None:
            return self.start is None and self.end is None
        return (self.start is None or moment >= self.start) and (
            self.end is None or moment < self.end
        )


def list_filter_time(call: Call) -> datetime | None:
    # GET /v2/calls dates web-conference calls by their scheduled time, others by start (§7).
    if call.get("meetingUrl") and call.get("scheduled"):
        return parse_time(call["scheduled"])
    return parse_time(call.get("started"))


def id_list(value: object, limit: int | None = None) -> set[str] | None:
    """The ids of a callIds-like filter, or None when absent. Gong rejects `[]` (§7)."""
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(item, str) and GONG_ID.fullmatch(item) for item in value)
    ):
        raise ApiError(400)
    if limit is not None and len(value) > limit:
        raise ApiError(400, f"Too many call IDs: at most {limit} are allowed per request")
    return set(value)


def filter_hash(endpoint: str, params: object) -> str:
    canonical = json.dumps([endpoint, params], sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _encode_cursor(offset: int, bound_to: str) -> str:
    raw = json.dumps({"offset": offset, "filter": bound_to}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: object, bound_to: str) -> int:
    # Binding the cursor to the filter catches clients that change inputs between pages,
    # which Gong forbids ("All other request inputs should remain the same").
    if not isinstance(cursor, str):
        raise ApiError(400)
    try:
        state = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        offset, hashed = state["offset"], state["filter"]
    except (ValueError, TypeError, KeyError):
        raise ApiError(400) from None
    if hashed != bound_to or not isinstance(offset, int) or offset < 0:
        raise ApiError(400)
    return offset


def paginate(
    matched: list[Call],
    cursor: object,
    bound_to: str,
    page_size: int,
    empty_message: str = NO_CALLS_FOUND,
) -> tuple[dict[str, Any], list[Call]]:
    """The `records` object and the items of the page the cursor points at (404 with
    `empty_message` past the end)."""
    offset = _decode_cursor(cursor, bound_to) if cursor else 0
    page = matched[offset : offset + page_size]
    if not page:
        raise ApiError(404, empty_message)
    records: dict[str, Any] = {
        "totalRecords": len(matched),
        "currentPageSize": len(page),
        "currentPageNumber": offset // page_size,
    }
    if offset + len(page) < len(matched):
        records["cursor"] = _encode_cursor(offset + len(page), bound_to)
    return records, page


def body_filter(request: RequestRecord) -> tuple[dict[str, Any], dict[str, Any]]:
    """The body and its filter, both required. The cursor is read from the body's top level,
    never from the query string (§6)."""
    body = request.body
    if not isinstance(body, dict) or not isinstance(body.get("filter"), dict):
        raise ApiError(400)
    return body, body["filter"]
