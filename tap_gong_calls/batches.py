"""Turns configured ids or date windows into batches of calls, each fetched once for all streams.

A batch is at most 100 calls: one ``POST /v2/calls/extensive`` (or one page of a listing)
carries their metadata, parties and content, and one ``POST /v2/calls/transcript`` their
transcripts. Every selected stream is served from the batch, so a call costs the same
requests whether one stream or four are selected.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from singer_sdk.exceptions import FatalAPIError

from tap_gong_calls.concurrency import map_in_order
from tap_gong_calls.errors import BadResponseError, GongAuthError
from tap_gong_calls.selection import EXTENSIVE_SCOPE, TRANSCRIPT_SCOPE
from tap_gong_calls.windows import format_utc

if TYPE_CHECKING:
    import datetime
    from collections.abc import Callable, Iterable, Iterator

    from tap_gong_calls.client import GongStream, JSONBody
    from tap_gong_calls.selection import Selection

Item = dict[str, Any]
T = TypeVar("T")
BATCH_SIZE = 100  # ids per request, as validated against live Gong on both endpoints
EXTENSIVE = "POST /v2/calls/extensive"
TRANSCRIPT = "POST /v2/calls/transcript"
# Transcripts run to 100 KB of JSON a call: few batches in flight keep memory flat.
MAX_BATCHES_IN_FLIGHT = 4


@dataclass
class CallBatch:
    """Up to 100 calls with everything the selected streams need of them."""

    calls: list[Item] = field(default_factory=list)  # extensive items: {"metaData": …, …}
    transcripts: list[Item] = field(default_factory=list)  # {"callId", "transcript"}
    missing: list[str] = field(default_factory=list)  # configured ids Gong does not know
    transcripts_asked: bool = False
    not_ready: int = 0  # calls without a transcript yet
    window_end: datetime.datetime | None = None  # set: every call before it was fetched


@dataclass
class Window:
    """The batches of one date window, and what its first page said of it."""

    start: datetime.datetime
    end: datetime.datetime
    total: int = 0  # totalRecords of the first page: every call of the window
    complete: bool = True
    batches: list[CallBatch] = field(default_factory=list)


class ExtensiveRefusedError(Exception):
    """POST /v2/calls/extensive answered 401/403 where per-id lookups could stand in."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class CallFetcher:
    """Fetches batches of calls for a run through one stream's throttled client."""

    def __init__(self, client: GongStream, selection: Selection) -> None:
        self.client = client
        self.selection = selection
        self.stats = client.stats
        self.logger = client.logger

    # -- ids mode -------------------------------------------------------------------------

    def by_ids(self, call_ids: list[str], *, batched: bool) -> Iterator[CallBatch]:
        """Batches of the configured ids, in their order."""
        chunks = list(_chunks(call_ids))
        if not self.selection.needs_metadata:
            yield from self._id_batches(chunks, lookup=False)
        elif batched or self.selection.needs_blocks:
            try:
                yield from self._id_batches(chunks, lookup=True)
            except ExtensiveRefusedError as exc:
                refused_status = exc.status
            else:
                return
            # Outside the except block, so a later failure does not read as caused by it.
            yield from self._fall_back_to_one_by_one(call_ids, refused_status)
        else:
            yield from self._one_by_one_batches(call_ids)

    def _id_batches(self, chunks: list[list[str]], *, lookup: bool) -> Iterator[CallBatch]:
        endpoints: list[Callable[[list[str]], Any]] = []
        if lookup:
            endpoints.append(self._extensive_by_id)
        if self.selection.transcripts:
            endpoints.append(self._transcripts_by_id)
        tasks = [(endpoint, chunk) for chunk in chunks for endpoint in endpoints]
        # The first request goes alone: it tells whether the key may use the endpoint at all.
        first = _run(tasks[0])
        rest = map_in_order(_run, tasks[1:], max_in_flight=self._max_in_flight(len(endpoints)))
        results = itertools.chain([first], rest)
        for chunk in chunks:
            try:
                found: dict[str, Item] | None = next(results) if lookup else None
            except ExtensiveRefusedError as exc:
                # Refused after it had worked: falling back now would emit calls twice.
                raise FatalAPIError(
                    f"Gong refused {EXTENSIVE} (HTTP {exc.status}) after accepting it earlier "
                    f"in this run: check that the credentials were not revoked meanwhile."
                ) from None
            transcripts = next(results) if self.selection.transcripts else []
            batch = CallBatch()
            if found is None:  # transcripts only: every configured id is wanted
                wanted = chunk
            else:
                batch.missing = [call_id for call_id in chunk if call_id not in found]
                batch.calls = self._without_private([found[c] for c in chunk if c in found])
                wanted = [_call_id(item) for item in batch.calls]
            yield self._with_transcripts_of(batch, wanted, transcripts)

    def _extensive_by_id(self, chunk: list[str]) -> dict[str, Item]:
        body: JSONBody = {"filter": {"callIds": chunk}}
        if selector := self.selection.content_selector():
            body["contentSelector"] = selector
        try:
            items = list(self._extensive_items(body))
        except GongAuthError as exc:
            if self.selection.needs_blocks:
                raise self._scope_error(exc, EXTENSIVE, EXTENSIVE_SCOPE) from None
            raise ExtensiveRefusedError(exc.status) from None
        return {_call_id(item): item for item in items}

    def _transcripts_by_id(self, chunk: list[str]) -> list[Item]:
        return list(self._transcript_items({"callIds": chunk}))

    def _with_transcripts_of(
        self, batch: CallBatch, wanted: list[str], transcripts: list[Item]
    ) -> CallBatch:
        """``batch`` with the transcripts of the ``wanted`` calls, in their order."""
        if self.selection.transcripts:
            by_id = {str(t["callId"]): t for t in transcripts}
            batch.transcripts = [by_id[c] for c in wanted if c in by_id]
            batch.transcripts_asked = True
            batch.not_ready = len(wanted) - len(batch.transcripts)
        return batch

    def _fall_back_to_one_by_one(
        self, call_ids: list[str], refused_status: int
    ) -> Iterator[CallBatch]:
        # Probe with the per-id endpoint: if it is refused too, the credentials are wrong, and
        # its error says so.
        first = self.client.get_call(call_ids[0])
        self.logger.warning(
            "POST /v2/calls/extensive was refused (HTTP %d) while GET /v2/calls/{id} works: the "
            "key lacks the %s scope. Falling back to one request per call id; grant that scope "
            "to fetch 100 per request, or set batch_call_ids to false to skip this probe.",
            refused_status,
            EXTENSIVE_SCOPE,
        )
        yield from self._one_by_one_batches(call_ids, first=first)

    def _one_by_one_batches(
        self, call_ids: list[str], *, first: Item | None = None
    ) -> Iterator[CallBatch]:
        # The first request goes alone, so bad credentials cost one request, not a volley.
        if first is None:
            first = self.client.get_call(call_ids[0])
        rest = call_ids[1:]
        found = map_in_order(self.client.get_call, rest, max_in_flight=self.client.max_in_flight)
        pairs = zip(call_ids, itertools.chain([first], found), strict=True)
        # Without transcripts to batch, each call goes out as soon as it arrives.
        for chunk in _chunks(pairs, self._group):
            batch = CallBatch(missing=[call_id for call_id, call in chunk if call is None])
            batch.calls = self._without_private([{"metaData": c} for _, c in chunk if c])
            yield self._with_transcripts(batch)

    # -- date-range mode ------------------------------------------------------------------

    def window(
        self, start: datetime.datetime, end: datetime.datetime, *, first_page_only: bool = False
    ) -> Window:
        """The calls started in ``[start, end)``, in batches of a page each.

        ``first_page_only``: stop after the first page if there are more (``complete`` False),
        to learn from its ``totalRecords`` how dense the range is.
        """
        filters = {"fromDateTime": format_utc(start), "toDateTime": format_utc(end)}
        if workspace_id := self.client.config.get("workspace_id"):
            filters["workspaceId"] = str(workspace_id)
        found = Window(start, end)
        seen: set[str] = set()  # a call can move between pages while Gong pages; once is enough
        for number, (items, total, more) in enumerate(self._listing_pages(filters)):
            if number == 0:
                found.total = total
                if first_page_only and more:
                    found.complete = False
                    return found
            if not self.selection.needs_metadata:
                found.batches.append(CallBatch(transcripts=items, transcripts_asked=True))
                continue
            fresh = [item for item in items if _call_id(item, self._listing_endpoint) not in seen]
            seen.update(_call_id(item) for item in fresh)
            batch = CallBatch(calls=self._without_private(fresh))
            found.batches.append(self._with_transcripts(batch))
        return found

    @property
    def windows_in_flight(self) -> int:
        """How many date windows to fetch at once."""
        if self.selection.transcripts:
            return min(self.client.max_in_flight, MAX_BATCHES_IN_FLIGHT)
        return self.client.max_in_flight

    @property
    def _listing_endpoint(self) -> str:
        if self.selection.needs_blocks or self.client.config.get("call_ids") is not None:
            return EXTENSIVE if self.selection.needs_blocks else "GET /v2/calls/{id}"
        return "GET /v2/calls"

    @property
    def _group(self) -> int:
        # Child streams are served a batch at a time; calls alone go out as they arrive.
        return BATCH_SIZE if self.selection.has_children else 1

    def _listing_pages(self, filters: dict[str, str]) -> Iterator[tuple[list[Item], int, bool]]:
        """Each page of the listing that serves the selection: items, totalRecords, more."""
        if not self.selection.needs_metadata:  # transcripts alone list themselves
            method, path, key, scope = (
                "POST",
                "/v2/calls/transcript",
                "callTranscripts",
                TRANSCRIPT_SCOPE,
            )
            pages = self.client.paginate(method, path, body={"filter": filters})
        elif self.selection.needs_blocks:
            method, path, key, scope = "POST", "/v2/calls/extensive", "calls", EXTENSIVE_SCOPE
            body = {"filter": filters, "contentSelector": self.selection.content_selector()}
            pages = self.client.paginate(method, path, body=body)
        else:
            method, path, key, scope = "GET", "/v2/calls", "calls", ""
            pages = self.client.paginate(method, path, params=filters)
        endpoint = f"{method} {path}"
        try:
            for page in pages:
                items = _list_of(page, key, endpoint)
                if method == "GET":
                    items = [{"metaData": call} for call in items]
                elif key == "callTranscripts":
                    items = [_checked_transcript(item) for item in items]
                records = page["records"]
                total = records.get("totalRecords")
                yield (
                    items,
                    total if isinstance(total, int) else len(items),
                    bool(records.get("cursor")),
                )
        except GongAuthError as exc:
            if not scope:
                raise
            raise self._scope_error(exc, endpoint, scope) from None

    def _with_transcripts(self, batch: CallBatch) -> CallBatch:
        """``batch`` with its calls' transcripts, when they are selected."""
        if not self.selection.transcripts:
            return batch
        wanted = [_call_id(item, self._listing_endpoint) for item in batch.calls]
        transcripts = self._transcripts_by_id(wanted) if wanted else []
        return self._with_transcripts_of(batch, wanted, transcripts)

    # -- both modes -----------------------------------------------------------------------

    def _extensive_items(self, body: JSONBody) -> Iterator[Item]:
        for page in self.client.paginate("POST", "/v2/calls/extensive", body=body):
            for item in _list_of(page, "calls", EXTENSIVE):
                _call_id(item, EXTENSIVE)  # checks the shape early, with a clear message
                yield item

    def _transcript_items(self, filters: dict[str, Any]) -> Iterator[Item]:
        try:
            for page in self.client.paginate(
                "POST", "/v2/calls/transcript", body={"filter": filters}
            ):
                for item in _list_of(page, "callTranscripts", TRANSCRIPT):
                    yield _checked_transcript(item)
        except GongAuthError as exc:
            raise self._scope_error(exc, TRANSCRIPT, TRANSCRIPT_SCOPE) from None

    def _without_private(self, items: list[Item]) -> list[Item]:
        if not self.selection.exclude_private:
            return items
        kept = [item for item in items if item["metaData"].get("isPrivate") is not True]
        self.stats.private_skipped += len(items) - len(kept)
        return kept

    def _scope_error(self, refusal: GongAuthError, endpoint: str, scope: str) -> FatalAPIError:
        """The refusal of one endpoint, explained: a missing scope, or wrong credentials."""
        # One request that needs no extra scope tells the two apart; if it is refused too, its
        # error (about the credentials) is the one to show.
        self.client.check_access()
        streams = {
            EXTENSIVE_SCOPE: self.selection.block_streams,
            TRANSCRIPT_SCOPE: ["call_transcripts"],
        }[scope]
        deselect = "; ".join(f"meltano select tap-gong-calls --exclude {n} '*'" for n in streams)
        return FatalAPIError(
            f"Gong refused {endpoint} (HTTP {refusal.status}) while the credentials work for "
            f"GET /v2/calls: the key lacks the {scope} scope, which the selected stream(s) "
            f"{', '.join(streams)} need. Grant that scope to the key in Gong, or deselect "
            f"them ({deselect}; or selected: false in the catalog)."
        )

    def _max_in_flight(self, requests_per_batch: int) -> int:
        if not self.selection.transcripts:
            return self.client.max_in_flight
        return min(self.client.max_in_flight, MAX_BATCHES_IN_FLIGHT * requests_per_batch)


def _run(task: tuple[Callable[[list[str]], Any], list[str]]) -> Any:
    endpoint, chunk = task
    return endpoint(chunk)


def _chunks(items: Iterable[T], size: int = BATCH_SIZE) -> Iterator[list[T]]:
    """Groups of up to ``size`` items as they arrive."""
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _call_id(item: Item, endpoint: str = EXTENSIVE) -> str:
    meta = item.get("metaData")
    if not isinstance(meta, dict) or not meta.get("id"):
        field = "metaData.id" if endpoint == EXTENSIVE else "id"
        raise BadResponseError(
            f"Gong answered {endpoint} with a call that has no {field}; the response does not "
            f"have the documented shape"
        )
    return str(meta["id"])


def _checked_transcript(item: Item) -> Item:
    if not item.get("callId"):
        raise BadResponseError(f"Gong answered {TRANSCRIPT} with a transcript that has no callId")
    return item


def _list_of(page: JSONBody, key: str, endpoint: str) -> list[Item]:
    items = page.get(key)
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise BadResponseError(f"Gong answered {endpoint} without a '{key}' list")
    return items
