"""Turns configured ids or a date range into batches of calls, each fetched once for all streams.

Every selected stream is served from the batch, so a call costs the same requests whether one
stream or four are selected: one extensive request per 100 calls for ``calls``,
``call_participants`` and ``call_details``, one transcript request per 100 for
``call_transcripts``.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from singer_sdk.exceptions import FatalAPIError

from tap_gong_calls.concurrency import map_in_order
from tap_gong_calls.date_range import batches_in_range
from tap_gong_calls.endpoints import (
    BATCH_SIZE,
    BY_ID,
    EXTENSIVE,
    TRANSCRIPT,
    CallBatch,
    CallEndpoints,
    ExtensiveRefusedError,
    call_id,
    chunks,
)
from tap_gong_calls.selection import EXTENSIVE_SCOPE

if TYPE_CHECKING:
    import datetime
    from collections.abc import Callable, Iterator

    from tap_gong_calls.endpoints import Item

# Transcripts run to 100 KB of JSON a call: few batches in flight keep memory flat.
MAX_BATCHES_IN_FLIGHT = 4
# Windows with content (parties, trackers, outlines…) hold a few hundred calls each.
MAX_WINDOWS_WITH_CONTENT_IN_FLIGHT = 3


class CallFetcher(CallEndpoints):
    """The batches of a run: by configured id, or by date range."""

    def in_range(self, start: datetime.datetime, end: datetime.datetime) -> Iterator[CallBatch]:
        """Batches of the calls started in ``[start, end)``; see date_range.py."""
        transcripts_in_flight = min(self.client.max_in_flight, MAX_BATCHES_IN_FLIGHT)
        # Listed windows hold metadata (and content, when asked for), not transcripts.
        # A window is a chain of a few pages: half as many windows as single requests keep
        # the limiter busy, and fewer are planned ahead into what may be an empty tail.
        in_flight = max(2, self.client.max_in_flight // 2)
        if self.selection.needs_blocks:
            in_flight = min(in_flight, MAX_WINDOWS_WITH_CONTENT_IN_FLIGHT)
        return batches_in_range(
            self, start, end, in_flight=in_flight, transcripts_in_flight=transcripts_in_flight
        )

    def by_ids(self, call_ids: list[str], *, batched: bool) -> Iterator[CallBatch]:
        """Batches of the configured ids, in their order."""
        id_chunks = list(chunks(call_ids))
        if not self.selection.needs_metadata:
            yield from self._id_batches(id_chunks, lookup=False)
        elif batched or self.selection.needs_blocks:
            try:
                yield from self._id_batches(id_chunks, lookup=True)
            except ExtensiveRefusedError as exc:
                refused_status = exc.status
            else:
                return
            # Outside the except block, so a later failure does not read as caused by it.
            yield from self._fall_back_to_one_by_one(call_ids, refused_status)
        else:
            yield from self._one_by_one_batches(call_ids)

    def _id_batches(self, id_chunks: list[list[str]], *, lookup: bool) -> Iterator[CallBatch]:
        # Each batch is one request per endpoint; all of them overlap, the answers in order.
        endpoints: list[Callable[[list[str]], Any]] = []
        if lookup:
            endpoints.append(self._extensive_by_id)
        if self.selection.transcripts:
            endpoints.append(lambda chunk: self.items(TRANSCRIPT, {"callIds": chunk}))
        tasks = [(endpoint, chunk) for chunk in id_chunks for endpoint in endpoints]
        # The first request goes alone: it tells whether the key may use the endpoint at all.
        first = _run(tasks[0])
        in_flight = self.client.max_in_flight
        if self.selection.transcripts:
            in_flight = min(in_flight, MAX_BATCHES_IN_FLIGHT * len(endpoints))
        results = itertools.chain([first], map_in_order(_run, tasks[1:], max_in_flight=in_flight))
        for chunk in id_chunks:
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
                batch.missing = [c for c in chunk if c not in found]
                batch.calls = self.without_private([found[c] for c in chunk if c in found])
                wanted = [call_id(item, EXTENSIVE) for item in batch.calls]
            yield self.with_transcripts_of(batch, wanted, transcripts)

    def _extensive_by_id(self, chunk: list[str]) -> dict[str, Item]:
        items = self.items(EXTENSIVE, {"callIds": chunk})
        return {call_id(item, EXTENSIVE): item for item in items}

    def _fall_back_to_one_by_one(
        self, call_ids: list[str], refused_status: int
    ) -> Iterator[CallBatch]:
        # Probe with the per-id endpoint: if it is refused too, the credentials are wrong, and
        # its error says so.
        first = self.get_call(call_ids[0])
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
            first = self.get_call(call_ids[0])
        rest = call_ids[1:]
        found = map_in_order(self.get_call, rest, max_in_flight=self.client.max_in_flight)
        pairs = zip(call_ids, itertools.chain([first], found), strict=True)
        # Child streams are served a batch at a time; calls alone go out as they arrive.
        size = BATCH_SIZE if self.selection.has_children else 1
        for chunk in chunks(pairs, size):
            batch = CallBatch(missing=[c for c, call in chunk if call is None])
            batch.calls = self.without_private([{"metaData": call} for _, call in chunk if call])
            yield self.with_transcripts(batch, BY_ID)


def _run(task: tuple[Callable[[list[str]], Any], list[str]]) -> Any:
    fetch, chunk = task
    return fetch(chunk)
