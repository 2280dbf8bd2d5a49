"""The ids mode: configured call ids, in batches of up to 100, each fetched once for all streams.

Every selected stream is served from the batch, so a call costs the same requests whether one
stream or four are selected: one ``POST /v2/calls/extensive`` per 100 ids for ``calls``,
``call_participants`` and ``call_details``, one ``POST /v2/calls/transcript`` per 100 for
``call_transcripts``. Without the extensive scope, ``calls`` alone falls back to one
``GET /v2/calls/{id}`` per id.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import replace
from typing import TYPE_CHECKING

from singer_sdk.exceptions import FatalAPIError

from tap_gong_calls.concurrency import map_in_order
from tap_gong_calls.extract.batch import CallBatch, chunks
from tap_gong_calls.extract.transcript_sizing import (
    FIRST_IDS,
    TranscriptSizer,
    regrouped,
    sized_chunks,
)
from tap_gong_calls.gong.api import BATCH_SIZE, BY_ID, EXTENSIVE, EXTENSIVE_SCOPE, call_id
from tap_gong_calls.gong.calls import ExtensiveRefusedError

if TYPE_CHECKING:
    import logging
    from collections.abc import Iterator

    from tap_gong_calls.extract.batch import Item, Selection
    from tap_gong_calls.gong.api import Endpoint
    from tap_gong_calls.gong.calls import CallsApi

# The calls of a batch wait for its transcripts: few batches ahead keep memory flat.
MAX_BATCHES_IN_FLIGHT = 4


def request_cost(call_ids: list[str], selection: Selection, *, batch_call_ids: bool) -> int:
    """The requests a call_ids run sends, known before it starts (it fits whole or not at all:
    without a bookmark, a part of the ids would be fetched again next run)."""
    count = len(dict.fromkeys(call_ids))
    needed = 0
    if selection.needs_metadata:
        batched = batch_call_ids or selection.needs_blocks
        needed += math.ceil(count / BATCH_SIZE) if batched else count
    if selection.transcripts and count:
        # A first request of a few ids, then 100 a request.
        needed += 1 + math.ceil(max(0, count - FIRST_IDS) / BATCH_SIZE)
    return needed


def id_batches(
    api: CallsApi,
    selection: Selection,
    call_ids: list[str],
    *,
    batch_call_ids: bool,
    in_flight: int,
    logger: logging.Logger,
) -> Iterator[CallBatch]:
    """Batches of the configured ids, in their order, duplicates fetched once.

    Fails when Gong knows none of them: that is what a wrong api_url or workspace looks like.
    """
    unique = list(dict.fromkeys(call_ids))
    if len(unique) < len(call_ids):
        logger.info("Ignoring %d duplicate call_ids", len(call_ids) - len(unique))
    batched = batch_call_ids or selection.needs_blocks
    logger.info(
        "Mode: call_ids, %d calls, %s",
        len(unique),
        "batched by 100" if batched else "one GET /v2/calls/{id} each",
    )
    missing = 0
    mode = IdsMode(api, selection, in_flight=in_flight, logger=logger)
    for batch in mode.batches(unique, batched=batched):
        missing += len(batch.missing)
        yield batch
    if missing == len(unique):
        raise FatalAPIError(
            f"None of the {len(unique)} call_ids was found in Gong. Check api_url "
            f"({api.client.url_base}) and that the credentials belong to the company and "
            f"workspace these calls were recorded in."
        )


class IdsMode:
    """The batches of configured ids, through the endpoints, for one selection of streams."""

    def __init__(
        self, api: CallsApi, selection: Selection, *, in_flight: int, logger: logging.Logger
    ) -> None:
        self.api = api
        self.selection = selection
        self.in_flight = in_flight
        self.logger = logger
        self._extensive_refused = False  # set once POST /v2/calls/extensive was refused

    def batches(self, call_ids: list[str], *, batched: bool) -> Iterator[CallBatch]:
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
        in_flight = self.in_flight
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
            yield self.selection.batch(
                (found[c] for c in chunk if c in found),
                missing=[c for c in chunk if c not in found],
            )

    def _with_transcripts(
        self, batches: Iterator[CallBatch], endpoint: Endpoint
    ) -> Iterator[CallBatch]:
        """``batches``, regrouped and with their transcripts when those are selected."""
        if not self.selection.transcripts:
            yield from batches
            return
        sizer = TranscriptSizer(self.in_flight)
        yield from sizer.fetched(
            regrouped(batches, sizer.ids_per_request),
            lambda batch: self.selection.with_transcripts(self.api, batch, endpoint),
        )

    def _transcripts_by_id(self, call_ids: list[str]) -> Iterator[CallBatch]:
        """Transcripts alone. The ids left without one are then looked up, 100 a request, to
        tell calls Gong does not know (missing) from transcripts not ready yet: no request
        more when every id has its transcript."""
        sizer = TranscriptSizer(self.in_flight)

        def fetch(chunk: list[str]) -> CallBatch:
            return self.selection.with_transcripts_of(
                CallBatch(), chunk, *self.api.transcripts(chunk)
            )

        unsure: list[str] = []
        for batch in sizer.fetched(sized_chunks(call_ids, sizer.ids_per_request), fetch):
            unsure.extend(batch.no_transcript)
            told = replace(batch, not_ready=0)  # counted once told apart
            while len(unsure) >= BATCH_SIZE:
                told = self._told_apart(told, unsure[:BATCH_SIZE])
                unsure = unsure[BATCH_SIZE:]
            yield told
        if unsure:
            yield self._told_apart(CallBatch(transcripts_asked=True), unsure)

    def _told_apart(self, batch: CallBatch, call_ids: list[str]) -> CallBatch:
        """``batch`` with those of ``call_ids`` (no transcript) that Gong does not know as
        missing, and the others as not ready."""
        unknown = self._unknown(call_ids)
        return replace(
            batch,
            missing=(*batch.missing, *unknown),
            not_ready=batch.not_ready + len(call_ids) - len(unknown),
        )

    def _unknown(self, call_ids: list[str]) -> list[str]:
        if not self._extensive_refused:
            try:
                known = {
                    call_id(i, EXTENSIVE) for i in self.api.items(EXTENSIVE, {"callIds": call_ids})
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
        found = map_in_order(self.api.get_call, call_ids, max_in_flight=self.in_flight)
        return [c for c, call in zip(call_ids, found, strict=True) if call is None]

    def _extensive_by_id(self, chunk: list[str]) -> dict[str, Item]:
        items = self.api.items(EXTENSIVE, {"callIds": chunk})
        return {call_id(item, EXTENSIVE): item for item in items}

    def _fall_back_to_one_by_one(
        self, call_ids: list[str], refused_status: int
    ) -> Iterator[CallBatch]:
        # Probe with the per-id endpoint: if it is refused too, the credentials are wrong, and
        # its error says so.
        first = self.api.get_call(call_ids[0])
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
            first = self.api.get_call(call_ids[0])
        rest = call_ids[1:]
        found = map_in_order(self.api.get_call, rest, max_in_flight=self.in_flight)
        pairs = zip(call_ids, itertools.chain([first], found), strict=True)
        # Child streams are served a batch at a time; calls alone go out as they arrive.
        size = BATCH_SIZE if self.selection.has_children else 1
        batches = (
            self.selection.batch(
                ({"metaData": call} for _, call in chunk if call),
                missing=[c for c, call in chunk if call is None],
            )
            for chunk in chunks(pairs, size)
        )
        yield from self._with_transcripts(batches, BY_ID)
