"""Cursor paging: every page of an endpoint of the table in api.py, through the client.

The cursor goes where the endpoint table says (docs/gong-api-behaviour.md §6); Gong's
empty-result 404 means no pages (§5); an expired cursor (§16) restarts the listing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from singer_sdk.exceptions import FatalAPIError

from tap_gong_calls.gong.errors import BadResponseError, CursorExpiredError, NotFoundError

if TYPE_CHECKING:
    import logging
    from collections.abc import Iterator

    from tap_gong_calls.gong.api import Endpoint

JSONBody = dict[str, Any]
Item = dict[str, Any]
# Restarts of one listing after Gong's cursor expired, before the run gives up on it.
MAX_CURSOR_RESTARTS = 3


class Answered(Protocol):
    """A successful answer (client.Answer): its JSON object, and the bytes it came in."""

    @property
    def body(self) -> JSONBody: ...

    @property
    def size(self) -> int: ...


class Requester(Protocol):
    """What paging needs of the client (client.GongClient)."""

    logger: logging.Logger

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: JSONBody | None = None,
    ) -> Answered: ...


@dataclass(frozen=True)
class Page:
    """One page of a cursor-paged endpoint."""

    items: list[Item]  # the endpoint's records_key list, each an object
    total: int  # records.totalRecords, or the items' count when Gong gave none
    more: bool  # a cursor to a next page came with it
    size: int  # bytes of JSON it came in (what sizes transcript requests)


def paginate(
    client: Requester,
    endpoint: Endpoint,
    *,
    params: dict[str, str] | None = None,
    body: JSONBody | None = None,
) -> Iterator[Page]:
    """Each page of a cursor-paged ``endpoint``; its empty-result 404 means no pages.

    Gong wants every other input unchanged on the next page; the cursor goes where the
    endpoint table says (a query cursor on POST is ignored). A cursor Gong says has expired
    restarts the listing from its first page, a few times at most: the pages come again,
    and callers skip the items they already have.
    """
    key = endpoint.records_key
    assert key is not None, f"{endpoint} is not paged"
    cursor: str | None = None
    restarts = 0
    while True:
        page_params = dict(params or {})
        page_body = dict(body or {})
        if cursor:
            (page_params if endpoint.cursor_in == "query" else page_body)["cursor"] = cursor
        try:
            answer = client.request(
                endpoint.method,
                endpoint.path,
                params=page_params or None,
                body=page_body or None,
            )
        except NotFoundError as exc:
            if cursor is None and endpoint.says_empty(exc.gong_messages):
                return
            raise
        except CursorExpiredError as exc:
            if cursor is None:
                raise
            if restarts == MAX_CURSOR_RESTARTS:
                raise FatalAPIError(
                    f"Gong's cursor expired {restarts + 1} times while paging {endpoint}, "
                    f"each time restarted from the first page: {exc}. Check what slows the "
                    f"run between pages (a slow target, a machine short of CPU), then run "
                    f"again; a date-range run resumes from its last STATE."
                ) from None
            restarts += 1
            client.logger.warning(
                "Gong's cursor expired while paging %s: listing it again from the first "
                "page (restart %d of at most %d); calls already written are skipped.",
                endpoint,
                restarts,
                MAX_CURSOR_RESTARTS,
            )
            cursor = None
            continue
        records = answer.body.get("records")
        if not isinstance(records, dict):
            raise BadResponseError(f"Gong answered {endpoint} without the 'records' paging object")
        items = records_in(answer.body, endpoint)
        total = records.get("totalRecords")
        next_cursor = records.get("cursor")
        yield Page(
            items,
            total if isinstance(total, int) else len(items),
            bool(next_cursor),
            answer.size,
        )
        if not next_cursor:
            return
        if next_cursor == cursor:
            raise BadResponseError(f"Gong repeated the same cursor on {endpoint}")
        cursor = str(next_cursor)


def records_in(body: JSONBody, endpoint: Endpoint) -> list[Item]:
    """The list of objects an answer of ``endpoint`` carries under its records key, or a clear
    error."""
    key = endpoint.records_key
    items = body.get(key or "")
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise BadResponseError(f"Gong answered {endpoint} without a '{key}' list")
    return items
