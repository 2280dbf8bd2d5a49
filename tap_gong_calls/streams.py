"""The four streams: ``calls``, and the participants, details and transcripts of those calls.

``calls`` drives the run: it fetches batches of up to 100 calls (batches.py) and hands each
batch to the selected child streams, so one request serves every stream. singer-sdk would
otherwise sync a child once per parent record, one request per call.
"""

from __future__ import annotations

import datetime
import sys
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from singer_sdk import SchemaDirectory, Stream, StreamSchema
from singer_sdk.exceptions import FatalAPIError
from singer_sdk.helpers.conform import TypeConformanceLevel

from tap_gong_calls.batches import CallFetcher
from tap_gong_calls.bookmark import bookmark_state, read_bookmark
from tap_gong_calls.contract import RecordContract
from tap_gong_calls.selection import Selection
from tap_gong_calls.timestamps import format_utc, parse_utc, utc_now

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping
    from importlib.resources.abc import Traversable

    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context, Record

    from tap_gong_calls.bookmark import Bookmark
    from tap_gong_calls.client import GongClient
    from tap_gong_calls.endpoints import CallBatch


def _schemas_dir() -> Traversable:
    # A wheel carries the schemas inside the package; an editable install reads the repo's.
    packaged = resources.files("tap_gong_calls") / "schemas"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "schemas"


class ValidatedStream(Stream):
    """A stream whose records keep to its contract (contract.py): a broken key or an
    unparseable critical date fails the run saying where; any other mismatch is a warning."""

    schema = StreamSchema(SchemaDirectory(_schemas_dir()))
    critical_date_times: ClassVar[tuple[str, ...]] = ()
    # Records leave as Gong sent them: they are parsed JSON, so there is nothing to conform,
    # and singer-sdk's conforming would turn a mistyped "false" into True.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    @cached_property
    def contract(self) -> RecordContract:
        return RecordContract(
            self.name,
            self.schema,
            self.primary_keys or (),
            critical_date_times=self.critical_date_times,
            logger=self.logger,
        )

    def checked(self, record: Record, source: str) -> Record:
        """The record to emit, every top-level field present; fails on a broken key."""
        return self.contract.check(record, source)


class CallsStream(ValidatedStream):
    """Gong calls (``CallBasicData``), by configured id or by date range."""

    name = "calls"
    primary_keys = ("id",)
    replication_key = "started"
    critical_date_times = ("started",)  # windows and the bookmark are computed from it

    def __init__(
        self, tap: Tap, client: GongClient, written: Mapping[str, int] | None = None
    ) -> None:
        super().__init__(tap)
        self.client = client
        self.stats = client.stats
        # Records that reached stdout, per stream (the tap's writer counts them).
        self.written: Mapping[str, int] = {} if written is None else written
        if self.config.get("call_ids") is not None:
            # A fixed set of ids is read in full on every run: there is no bookmark to keep.
            self.replication_key = None  # type: ignore[assignment]

    @override
    def get_records(self, context: Context | None) -> Iterable[Record]:
        selection = self._selection()
        fetcher = CallFetcher(self.client, selection)
        try:
            call_ids = self.config.get("call_ids")
            batches = (
                self._batches_by_id(fetcher, list(call_ids))
                if call_ids is not None
                else self._batches_in_range(fetcher)
            )
            for number, batch in enumerate(batches, start=1):
                for call_id in batch.missing:
                    self.logger.warning("Call %s was not found in Gong: skipped", call_id)
                self.stats.missing += len(batch.missing)
                for item in batch.calls:
                    call = item["metaData"]
                    yield self.checked(call, f"a call (id {call.get('id')!r})")
                    self.stats.emitted += 1
                self._serve_children(batch, number)
                if batch.window_end is not None:
                    self._save_bookmark(batch.window_end)
                self.stats.maybe_log_progress(self.logger)
        finally:
            self.logger.info(self.summary())

    def summary(self) -> str:
        """The run's closing line: the records written to stdout, and what they cost."""
        self.stats.emitted = self.written.get(self.name, 0)
        self.stats.child_records = {
            child.name: self.written.get(child.name, 0)
            for child in self.child_streams
            if isinstance(child, CallChildStream) and child.selected
        }
        self.stats.schema_warnings = sum(
            stream.contract.warnings
            for stream in (self, *self.child_streams)
            if isinstance(stream, ValidatedStream)
        )
        return self.stats.summary()

    def _selection(self) -> Selection:
        children = {child.name: child.selected for child in self.child_streams}
        return Selection(
            calls=self.selected,
            participants=children.get("call_participants", False),
            details=children.get("call_details", False),
            transcripts=children.get("call_transcripts", False),
            exclude_private=bool(self.config["exclude_private_calls"]),
        )

    def _serve_children(self, batch: CallBatch, number: int) -> None:
        served = False
        for child in self.child_streams:
            if isinstance(child, CallChildStream) and child.selected:
                served = child.take(batch) > 0 or served
        if batch.transcripts_asked:
            self.stats.transcripts_not_ready = (
                self.stats.transcripts_not_ready or 0
            ) + batch.not_ready
        if served:
            self._sync_children({"batch": number})

    @override
    def generate_child_contexts(
        self, record: Record, context: Context | None
    ) -> Iterable[Context | None]:
        # Children are served a batch at a time by _serve_children, never per call.
        return ()

    @override
    def _increment_stream_state(
        self, latest_record: Record, *, context: Context | None = None
    ) -> None:
        # The bookmark is the end of the last completed window, set by _save_bookmark. A
        # per-record bookmark would compare Gong's mixed-offset timestamps as text.
        return

    # -- ids mode -----------------------------------------------------------------------

    def _batches_by_id(self, fetcher: CallFetcher, call_ids: list[str]) -> Iterator[CallBatch]:
        unique = list(dict.fromkeys(call_ids))
        if len(unique) < len(call_ids):
            self.logger.info("Ignoring %d duplicate call_ids", len(call_ids) - len(unique))
        self.stats.requested = len(unique)
        batched = bool(self.config["batch_call_ids"]) or fetcher.selection.needs_blocks
        self.logger.info(
            "Mode: call_ids, %d calls, %s",
            len(unique),
            "batched by 100" if batched else "one GET /v2/calls/{id} each",
        )
        yield from fetcher.by_ids(unique, batched=batched)
        if self.stats.missing == len(unique):
            raise FatalAPIError(
                f"None of the {len(unique)} call_ids was found in Gong. Check api_url "
                f"({self.client.url_base}) and that the credentials belong to the company and "
                f"workspace these calls were recorded in."
            )

    # -- date-range mode ----------------------------------------------------------------

    def _batches_in_range(self, fetcher: CallFetcher) -> Iterator[CallBatch]:
        # No call listed from here on can have started after this moment (whatever end_date
        # says), so the bookmark never passes it: a call recorded after the run is not skipped.
        self._listing_began = utc_now()
        start = parse_utc(str(self.config["start_date"]))
        end_date = self.config.get("end_date")
        end = parse_utc(str(end_date)) if end_date else self._listing_began
        lookback = datetime.timedelta(days=int(self.config["lookback_days"]))
        bookmark = self._read_bookmark()
        if bookmark is not None:
            start = max(start, bookmark.moment - lookback)
        self._saved_bookmark = None if bookmark is None else bookmark.moment
        self.logger.info(
            "Mode: date range, calls from %s to %s (bookmark %s, lookback %s days)",
            format_utc(start),
            format_utc(end),
            format_utc(bookmark.moment) if bookmark else "none",
            lookback.days,
        )
        if start >= end:
            if end_date:
                raise FatalAPIError(
                    f"end_date {format_utc(end)} is not after where this run starts "
                    f"({format_utc(start)}: the bookmark minus lookback_days): move end_date "
                    f"later, or remove it to extract up to now."
                )
            return
        yield from fetcher.in_range(start, end)

    def _read_bookmark(self) -> Bookmark | None:
        """The state's bookmark, unless it was made under another filter."""
        bookmark = read_bookmark(self.stream_state, now=self._listing_began)
        workspace_id = self.config.get("workspace_id")
        if bookmark is not None and bookmark.filter_known and bookmark.workspace_id != workspace_id:
            self.logger.info(
                "Not using the bookmark %s: it was made with workspace_id %s and this run has "
                "%s, so it says nothing about this run's calls. Starting from start_date.",
                format_utc(bookmark.moment),
                bookmark.workspace_id or "unset",
                workspace_id or "unset",
            )
            return None
        return bookmark

    def _save_bookmark(self, window_end: datetime.datetime) -> None:
        """Every call before ``window_end`` has been emitted: move the bookmark and say so."""
        moment = min(window_end, self._listing_began)
        server_time = self.client.server_time
        if server_time is not None:  # Gong's clock, should the machine's run ahead of it
            moment = min(moment, server_time - datetime.timedelta(seconds=1))
        if self._saved_bookmark is not None and self._saved_bookmark >= moment:
            return
        self._saved_bookmark = moment
        state = self.stream_state
        state.update(bookmark_state(moment, self.config.get("workspace_id")))
        self.finalize_state_progress_markers(state)


class CallChildStream(ValidatedStream):
    """Records about the calls of the batch ``calls`` hands over before each sync."""

    parent_stream_type = CallsStream
    # One stream-level state, not one partition per batch: the bookmark is the calls stream's.
    state_partitioning_keys: ClassVar[list[str]] = []

    def __init__(self, tap: Tap) -> None:
        super().__init__(tap)
        self._records: list[Record] = []

    def take(self, batch: CallBatch) -> int:
        """Hold this stream's records of ``batch`` for the next sync; return how many."""
        self._records = self.records_of(batch)
        return len(self._records)

    @override
    def get_records(self, context: Context | None) -> Iterable[Record]:
        records, self._records = self._records, []
        for record in records:
            yield self.checked(record, f"a {self.name} record of call {record.get('callId')!r}")

    def records_of(self, batch: CallBatch) -> list[Record]:
        """This stream's records of ``batch``, exactly as Gong sent them plus ``callId``."""
        raise NotImplementedError


class CallParticipantsStream(CallChildStream):
    """Who was on each call: one record per party."""

    name = "call_participants"
    primary_keys = ("callId", "id")

    @override
    def records_of(self, batch: CallBatch) -> list[Record]:
        return [
            {"callId": item["metaData"]["id"], **party}
            for item in batch.calls
            for party in item.get("parties") or ()
        ]


class CallDetailsStream(CallChildStream):
    """What was discussed: content, interaction, collaboration and CRM context of a call."""

    name = "call_details"
    primary_keys = ("callId",)
    BLOCKS = ("content", "interaction", "collaboration", "context")

    @override
    def records_of(self, batch: CallBatch) -> list[Record]:
        return [
            {"callId": item["metaData"]["id"], **{k: item[k] for k in self.BLOCKS if k in item}}
            for item in batch.calls
        ]


class CallTranscriptsStream(CallChildStream):
    """What was said: the transcript of each call that has one."""

    name = "call_transcripts"
    primary_keys = ("callId",)

    @override
    def records_of(self, batch: CallBatch) -> list[Record]:
        return [
            {"callId": t["callId"], "transcript": t.get("transcript")} for t in batch.transcripts
        ]
