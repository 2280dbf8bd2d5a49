"""What one run works in: the selected streams (``Selection``) and batches of up to 100 calls.

One batch is at most 100 calls: one ``POST /v2/calls/extensive`` (or one page of a listing)
carries their metadata, parties and content, and one ``POST /v2/calls/transcript`` their
transcripts. Every selected stream writes its records from the same batch.
"""

from __future__ import annotations

import datetime
import itertools
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from tap_gong_calls.gong.api import BATCH_SIZE, CONTENT_FLAGS, INTERACTION_FLAGS, call_id

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

    from tap_gong_calls.gong.api import Endpoint

Item = dict[str, Any]
Span = tuple[datetime.datetime, datetime.datetime]  # [start, end) of a window to fetch
T = TypeVar("T")


class TranscriptSource(Protocol):
    """Where transcripts come from (gong.calls.CallsApi)."""

    def transcripts(self, call_ids: Sequence[str]) -> tuple[list[Item], int]:
        """The transcripts Gong has of ``call_ids``, and the bytes of JSON they came in."""
        ...


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


@dataclass
class Window:
    """The batches of one date window, and what its first page said of it."""

    start: datetime.datetime
    end: datetime.datetime
    total: int = 0  # totalRecords of the first page: every call of the window
    complete: bool = True
    # A list, or (read_through) a generator that requests each page as it is consumed.
    batches: Iterable[CallBatch] = field(default_factory=list)
    # Of a window not complete: the first and last start of a full first page's calls.
    first_page_span: tuple[datetime.datetime, datetime.datetime] | None = None


@dataclass(frozen=True)
class Selection:
    """The selected streams of a run (plus the private-call filter, which needs metadata)."""

    calls: bool = True
    participants: bool = False
    details: bool = False
    transcripts: bool = False
    # What a private call is in this run: "metadata" (the calls row keeps what Gong shows
    # everyone, nothing else is written), "exclude" (tombstones everywhere), "include" (in full).
    private: str = "include"

    @property
    def splits_private(self) -> bool:
        """Whether private calls are set apart from the others (and their content not read)."""
        return self.private != "include"

    @property
    def needs_blocks(self) -> bool:
        """Whether POST /v2/calls/extensive must expose more than metaData."""
        return self.participants or self.details

    @property
    def has_children(self) -> bool:
        """Whether any stream but ``calls`` is selected."""
        return self.participants or self.details or self.transcripts

    @property
    def needs_metadata(self) -> bool:
        """Whether calls must be looked up at all (not just their transcripts)."""
        return self.calls or self.needs_blocks or self.splits_private

    @property
    def block_streams(self) -> list[str]:
        """The selected streams that only POST /v2/calls/extensive can serve."""
        return [
            name
            for name, wanted in (
                ("call_participants", self.participants),
                ("call_details", self.details),
            )
            if wanted
        ]

    def content_selector(self) -> dict[str, Any] | None:
        """``contentSelector`` exposing exactly what the selected streams need, or None.

        Never ``media``: its signed URLs expire after 8 hours and change on every request,
        which makes them worthless in a warehouse and churns every row on every run.
        """
        if not self.needs_blocks:
            return None
        exposed: dict[str, Any] = {}
        selector: dict[str, Any] = {"exposedFields": exposed}
        if self.participants:
            exposed["parties"] = True
        if self.details:
            exposed["content"] = dict.fromkeys(CONTENT_FLAGS, True)
            exposed["interaction"] = dict.fromkeys(INTERACTION_FLAGS, True)
            exposed["collaboration"] = {"publicComments": True}
            selector["context"] = "Extended"  # CRM links with their fields
        return selector

    def batch(self, items: Iterable[Item], missing: Sequence[str] = ()) -> CallBatch:
        """A batch of ``items``, the private calls set apart unless they are loaded in full:
        their content is never written, and their transcripts never asked for."""
        items = tuple(items)
        if not self.splits_private:
            return CallBatch(calls=items, missing=tuple(missing))
        return CallBatch(
            calls=tuple(item for item in items if item["metaData"].get("isPrivate") is not True),
            private=tuple(item for item in items if item["metaData"].get("isPrivate") is True),
            missing=tuple(missing),
        )

    def with_transcripts(
        self, source: TranscriptSource, batch: CallBatch, endpoint: Endpoint
    ) -> CallBatch:
        """``batch`` with its calls' transcripts, when they are selected."""
        if not self.transcripts:
            return batch
        wanted = [call_id(item, endpoint) for item in batch.calls]
        return self.with_transcripts_of(batch, wanted, *source.transcripts(wanted))

    def with_transcripts_of(
        self, batch: CallBatch, wanted: Sequence[str], transcripts: list[Item], size: int = 0
    ) -> CallBatch:
        """``batch`` with the transcripts of the ``wanted`` calls (``size`` bytes of JSON), in
        their order."""
        if not self.transcripts:
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


def chunks(items: Iterable[T], size: int = BATCH_SIZE) -> Iterator[list[T]]:
    """Groups of up to ``size`` items as they arrive."""
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk
