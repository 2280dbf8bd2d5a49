"""Gong's calls endpoints as the streams use them: pages of calls or transcripts, and batches.

One batch is at most 100 calls: one ``POST /v2/calls/extensive`` (or one page of a listing)
carries their metadata, parties and content, and one ``POST /v2/calls/transcript`` their
transcripts. A refusal (401/403) of either is explained as the missing scope it usually is.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar

from singer_sdk.exceptions import FatalAPIError

from tap_gong_calls.errors import BadResponseError, GongAuthError, NotFoundError
from tap_gong_calls.selection import EXTENSIVE_SCOPE, TRANSCRIPT_SCOPE
from tap_gong_calls.timestamps import format_utc

if TYPE_CHECKING:
    import datetime
    from collections.abc import Iterable, Iterator, Sequence

    from tap_gong_calls.budget_plan import WindowGate
    from tap_gong_calls.client import GongClient, JSONBody
    from tap_gong_calls.selection import Selection

Item = dict[str, Any]
Page = tuple[list[Item], int, bool]  # items, totalRecords, whether more pages follow
T = TypeVar("T")
BATCH_SIZE = 100  # ids per request, as validated against live Gong on both endpoints
LISTING = "GET /v2/calls"
BY_ID = "GET /v2/calls/{id}"
EXTENSIVE = "POST /v2/calls/extensive"
TRANSCRIPT = "POST /v2/calls/transcript"
_KEY = {LISTING: "calls", EXTENSIVE: "calls", TRANSCRIPT: "callTranscripts"}


@dataclass(frozen=True)
class CallBatch:
    """Up to 100 calls with everything the selected streams need of them.

    Complete when built (a new batch is made to add to one), so that what a stream is handed
    cannot change under it.
    """

    calls: tuple[Item, ...] = ()  # extensive items: {"metaData": …, …}
    # Calls excluded as private, as extensive items: what their tombstones are built from.
    private: tuple[Item, ...] = ()
    transcripts: tuple[Item, ...] = ()  # {"callId", "transcript"}
    missing: tuple[str, ...] = ()  # configured ids Gong does not know
    transcripts_asked: bool = False
    no_transcript: tuple[str, ...] = ()  # of the ids asked for, those without one yet
    not_ready: int = 0  # calls without a transcript yet
    transcript_bytes: int = 0  # the JSON the transcripts came in
    window_end: datetime.datetime | None = None  # set: every call before it was fetched


class ExtensiveRefusedError(Exception):
    """POST /v2/calls/extensive answered 401/403 where per-id lookups could stand in."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class CallEndpoints:
    """The endpoints, through the run's client, for one selection of streams."""

    def __init__(
        self, client: GongClient, selection: Selection, *, workspace_id: str | None = None
    ) -> None:
        self.client = client
        self.selection = selection
        self.workspace_id = workspace_id
        self.stats = client.stats
        self.logger = client.logger
        self.gate: WindowGate | None = None  # what the request budget lets windows start

    def range_filter(self, start: datetime.datetime, end: datetime.datetime) -> dict[str, str]:
        """The filter of the calls started in ``[start, end)`` (of the workspace, if one)."""
        filters = {"fromDateTime": format_utc(start), "toDateTime": format_utc(end)}
        if self.workspace_id:
            filters["workspaceId"] = self.workspace_id
        return filters

    def pages(self, endpoint: str, filters: dict[str, Any]) -> Iterator[Page]:
        """Each page of ``endpoint`` for ``filters``: its items, totalRecords and more-to-come.

        Listed calls come as extensive items (``{"metaData": call}``), and extensive asks for
        exactly the blocks the selected streams need.
        """
        method, path = endpoint.split(" ", 1)
        if method == "GET":
            pages = paginate(self.client, method, path, params=filters)
        else:
            body: JSONBody = {"filter": filters}
            if endpoint == EXTENSIVE and (selector := self.selection.content_selector()):
                body["contentSelector"] = selector
            pages = paginate(self.client, method, path, body=body)
        try:
            for page in pages:
                items = _list_of(page, _KEY[endpoint], endpoint)
                if endpoint == LISTING:
                    items = [{"metaData": call} for call in items]
                for item in items:  # the shape, checked early, with a clear message
                    _ = call_id(item, endpoint) if endpoint != TRANSCRIPT else _callid_of(item)
                records = page["records"]
                total = records.get("totalRecords")
                total = total if isinstance(total, int) else len(items)
                yield items, total, bool(records.get("cursor"))
        except GongAuthError as exc:
            if endpoint == LISTING:
                raise
            if endpoint == EXTENSIVE and not self.selection.needs_blocks:
                raise ExtensiveRefusedError(exc.status) from None
            raise self._scope_error(exc, endpoint) from None

    def get_call(self, call_id: str) -> JSONBody | None:
        """One call by id, or None when Gong says it does not exist (yet)."""
        endpoint = f"GET /v2/calls/{call_id}"
        try:
            body = self.client.request_json("GET", f"/v2/calls/{call_id}")
        except NotFoundError as exc:
            if any("was not found" in m or "not ready" in m for m in exc.gong_messages):
                return None
            raise FatalAPIError(
                f"{exc}: not Gong's answer for a missing call. Check api_url "
                f"({self.client.url_base})."
            ) from exc
        call = body.get("call")
        if not isinstance(call, dict):
            raise BadResponseError(f"Gong answered {endpoint} without a 'call' object")
        return call

    def items(self, endpoint: str, filters: dict[str, Any]) -> list[Item]:
        """Every item of every page."""
        return [item for items, _, _ in self.pages(endpoint, filters) for item in items]

    def with_transcripts(self, batch: CallBatch, endpoint: str) -> CallBatch:
        """``batch`` with its calls' transcripts, when they are selected."""
        if not self.selection.transcripts:
            return batch
        wanted = [call_id(item, endpoint) for item in batch.calls]
        return self.with_transcripts_of(batch, wanted, *self.transcripts(wanted))

    def transcripts(self, call_ids: Sequence[str]) -> tuple[list[Item], int]:
        """The transcripts Gong has of ``call_ids``, and the bytes of JSON they came in."""
        found: list[Item] = []
        size = 0
        if call_ids:
            for items, _, _ in self.pages(TRANSCRIPT, {"callIds": list(call_ids)}):
                found.extend(items)
                size += self.client.last_body_bytes  # the page was fetched on this thread
        return found, size

    def with_transcripts_of(
        self, batch: CallBatch, wanted: Sequence[str], transcripts: list[Item], size: int = 0
    ) -> CallBatch:
        """``batch`` with the transcripts of the ``wanted`` calls (``size`` bytes of JSON), in
        their order."""
        if not self.selection.transcripts:
            return batch
        by_id = {str(t["callId"]): t for t in transcripts}
        no_transcript = tuple(c for c in wanted if c not in by_id)
        return replace(
            batch,
            transcripts=tuple(by_id[c] for c in wanted if c in by_id),
            transcripts_asked=True,
            no_transcript=no_transcript,
            not_ready=len(no_transcript),
            transcript_bytes=size,
        )

    def batch(self, items: Iterable[Item], missing: Sequence[str] = ()) -> CallBatch:
        """A batch of ``items``, the private calls set apart when those are excluded: they
        go out as tombstones, and their transcripts are never asked for."""
        items = tuple(items)
        if not self.selection.exclude_private:
            return CallBatch(calls=items, missing=tuple(missing))
        return CallBatch(
            calls=tuple(item for item in items if item["metaData"].get("isPrivate") is not True),
            private=tuple(item for item in items if item["metaData"].get("isPrivate") is True),
            missing=tuple(missing),
        )

    def _scope_error(self, refusal: GongAuthError, endpoint: str) -> FatalAPIError:
        """The refusal of one endpoint, explained: a missing scope, or wrong credentials."""
        # One request that needs no extra scope tells the two apart; if it is refused too, its
        # error (about the credentials) is the one to show.
        self.client.check_access()
        if endpoint == EXTENSIVE:
            scope, streams = EXTENSIVE_SCOPE, self.selection.block_streams
        else:
            scope, streams = TRANSCRIPT_SCOPE, ["call_transcripts"]
        deselect = "; ".join(f"meltano select tap-gong-calls --exclude {n} '*'" for n in streams)
        return FatalAPIError(
            f"Gong refused {endpoint} (HTTP {refusal.status}) while the credentials work for "
            f"GET /v2/calls: the key lacks the {scope} scope, which the selected stream(s) "
            f"{', '.join(streams)} need. Grant that scope to the key in Gong, or deselect "
            f"them ({deselect}; or selected: false in the catalog)."
        )


def paginate(
    client: GongClient,
    method: str,
    path: str,
    *,
    params: dict[str, str] | None = None,
    body: JSONBody | None = None,
) -> Iterator[JSONBody]:
    """Yield each page of a cursor-paged endpoint, empty-result 404 meaning no pages.

    Gong wants every other input unchanged on the next page; the cursor goes in the query
    for GET and at the top level of the body for POST (a query cursor on POST is ignored).
    """
    cursor: str | None = None
    while True:
        page_params = dict(params or {})
        page_body = dict(body or {})
        if cursor and method == "GET":
            page_params["cursor"] = cursor
        elif cursor:
            page_body["cursor"] = cursor
        try:
            page = client.request_json(
                method, path, params=page_params or None, body=page_body or None
            )
        except NotFoundError as exc:
            if exc.is_empty_result and cursor is None:
                return
            raise
        records = page.get("records")
        if not isinstance(records, dict):
            raise BadResponseError(
                f"Gong answered {method} {path} without the 'records' paging object"
            )
        yield page
        next_cursor = records.get("cursor")
        if not next_cursor:
            return
        if next_cursor == cursor:
            raise BadResponseError(f"Gong repeated the same cursor on {method} {path}")
        cursor = str(next_cursor)


def chunks(items: Iterable[T], size: int = BATCH_SIZE) -> Iterator[list[T]]:
    """Groups of up to ``size`` items as they arrive."""
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def call_id(item: Item, endpoint: str) -> str:
    """The id of an extensive item (or a listed call as one), or a clear error."""
    meta = item.get("metaData")
    if not isinstance(meta, dict) or not meta.get("id"):
        name = "metaData.id" if endpoint == EXTENSIVE else "id"
        raise BadResponseError(
            f"Gong answered {endpoint} with a call that has no {name}; the response does not "
            f"have the documented shape"
        )
    return str(meta["id"])


def _callid_of(transcript: Item) -> str:
    if not transcript.get("callId"):
        raise BadResponseError(f"Gong answered {TRANSCRIPT} with a transcript that has no callId")
    return str(transcript["callId"])


def _list_of(page: JSONBody, key: str, endpoint: str) -> list[Item]:
    items = page.get(key)
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise BadResponseError(f"Gong answered {endpoint} without a '{key}' list")
    return items
