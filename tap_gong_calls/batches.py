"""Turns configured ids or a date range into batches of calls, each fetched once for all streams.

Every selected stream is served from the batch, so a call costs the same requests whether one
stream or four are selected: one extensive request per 100 calls for ``calls``,
``call_participants`` and ``call_details``, one transcript request per 100 for
``call_transcripts``.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

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
from tap_gong_calls.transcripts import TranscriptBudget, regrouped, sized_chunks

if TYPE_CHECKING:
    import datetime
    from collections.abc import Iterator

    from tap_gong_calls.endpoints import Item

# Transcripts run to 100 KB of JSON a call: few batches in flight keep memory flat.
MAX_BATCHES_IN_FLIGHT = 4
# Windows with content (parties, trackers, outlines…) hold a few hundred calls each.
MAX_WINDOWS_WITH_CONTENT_IN_FLIGHT = 3


class CallFetcher(CallEndpoints):
    """The batches of a run: by configured id, or by date range."""

    _extensive_refused = False  # set once POST /v2/calls/extensive was refused

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
        if not self.selection.needs_metadata:
            yield from self._transcripts_by_id(call_ids)
        elif batched or self.selection.needs_blocks:
            try:
                yield from self._with_transcripts(self._looked_up(call_ids), EXTENSIVE)
            except ExtensiveRefusedError as exc:
                refused_status = exc.status
            else:
                return
            # Outside the except block, so a later failure does not read as caused by it.
            yield from self._fall_back_to_one_by_one(call_ids, refused_status)
        else:
            yield from self._one_by_one_batches(call_ids)

    def _looked_up(self, call_ids: list[str]) -> Iterator[CallBatch]:
        """The ids' calls, 100 per POST /v2/calls/extensive, overlapping, in order."""
        id_chunks = list(chunks(call_ids))
        # The first request goes alone: it tells whether the key may use the endpoint at all.
        first = self._extensive_by_id(id_chunks[0])
        in_flight = self.client.max_in_flight
        if self.selection.transcripts:  # the calls wait for their transcripts: few ahead
            in_flight = min(in_flight, MAX_BATCHES_IN_FLIGHT)
        rest = map_in_order(self._extensive_by_id, id_chunks[1:], max_in_flight=in_flight)
        results = itertools.chain([first], rest)
        for chunk in id_chunks:
            try:
                found = next(results)
            except ExtensiveRefusedError as exc:
                # Refused after it had worked: falling back now would emit calls twice.
                raise FatalAPIError(
                    f"Gong refused {EXTENSIVE} (HTTP {exc.status}) after accepting it earlier "
                    f"in this run: check that the credentials were not revoked meanwhile."
                ) from None
            batch = CallBatch(missing=[c for c in chunk if c not in found])
            batch.calls = self.without_private([found[c] for c in chunk if c in found])
            yield batch

    def _with_transcripts(self, batches: Iterator[CallBatch], endpoint: str) -> Iterator[CallBatch]:
        """``batches``, regrouped and with their transcripts when those are selected."""
        if not self.selection.transcripts:
            yield from batches
            return
        budget = TranscriptBudget(self.client.max_in_flight)
        yield from budget.fetched(
            regrouped(batches, budget.ids_per_request),
            lambda batch: self.with_transcripts(batch, endpoint),
        )

    def _transcripts_by_id(self, call_ids: list[str]) -> Iterator[CallBatch]:
        """Transcripts alone. The ids left without one are then looked up, 100 a request, to
        tell calls Gong does not know (missing) from transcripts not ready yet: no request
        more when every id has its transcript."""
        budget = TranscriptBudget(self.client.max_in_flight)

        def fetch(chunk: list[str]) -> CallBatch:
            found = self.items(TRANSCRIPT, {"callIds": chunk})
            return self.with_transcripts_of(CallBatch(), chunk, found)

        unsure: list[str] = []
        for batch in budget.fetched(sized_chunks(call_ids, budget.ids_per_request), fetch):
            unsure.extend(batch.no_transcript)
            batch.not_ready = 0  # counted once told apart
            while len(unsure) >= BATCH_SIZE:
                self._tell_apart(batch, unsure[:BATCH_SIZE])
                unsure = unsure[BATCH_SIZE:]
            yield batch
        if unsure:
            batch = CallBatch(transcripts_asked=True)
            self._tell_apart(batch, unsure)
            yield batch

    def _tell_apart(self, batch: CallBatch, call_ids: list[str]) -> None:
        """Of ``call_ids`` (no transcript), the unknown ones go to ``batch.missing``."""
        unknown = self._unknown(call_ids)
        batch.missing.extend(unknown)
        batch.not_ready += len(call_ids) - len(unknown)

    def _unknown(self, call_ids: list[str]) -> list[str]:
        if not self._extensive_refused:
            try:
                known = {
                    call_id(i, EXTENSIVE) for i in self.items(EXTENSIVE, {"callIds": call_ids})
                }
            except ExtensiveRefusedError as exc:
                self._extensive_refused = True
                self.logger.warning(
                    "POST /v2/calls/extensive was refused (HTTP %d): the key lacks the %s "
                    "scope. Calls without a transcript are looked up one GET /v2/calls/{id} "
                    "each instead.",
                    exc.status,
                    EXTENSIVE_SCOPE,
                )
            else:
                return [c for c in call_ids if c not in known]
        found = map_in_order(self.get_call, call_ids, max_in_flight=self.client.max_in_flight)
        return [c for c, call in zip(call_ids, found, strict=True) if call is None]

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
        batches = (
            CallBatch(
                missing=[c for c, call in chunk if call is None],
                calls=self.without_private([{"metaData": call} for _, call in chunk if call]),
            )
            for chunk in chunks(pairs, size)
        )
        yield from self._with_transcripts(batches, BY_ID)
