"""The four streams: ``calls``, and the participants, details and transcripts of those calls.

Streams describe their schema and keys and write the records they are handed. ``calls``
takes the batches of up to 100 calls that one run makes (extract/run.py, through the tap's one
client) and hands each batch down to the selected child streams, so one request serves every
stream: singer-sdk would otherwise sync a child once per parent record, one request per call.

Tombstones: with ``exclude_private_calls`` a call made private must leave the warehouse, not
only stop being loaded. So every selected stream writes, for each private call, a record of its
keys and ``_sdc_deleted_at`` and nothing else; the record contract fills every other top-level
property with null, which makes an upserting target (target-postgres merges on the key) blank
the row. Participants are tombstoned party by party, from the parties the listing carried.
"""

from __future__ import annotations

import sys
from functools import cached_property
from importlib import resources
from typing import TYPE_CHECKING, ClassVar

from singer_sdk import SchemaDirectory, StreamSchema
from singer_sdk.helpers.conform import TypeConformanceLevel

from tap_gong_calls.contract import RecordContract
from tap_gong_calls.extract.batch import Selection
from tap_gong_calls.extract.run import ExtractionRun
from tap_gong_calls.sdk_overrides import BatchFedStream, VersionedStream, WindowBookmarkedStream
from tap_gong_calls.state import REIMPORT_KEY
from tap_gong_calls.timestamps import format_utc, utc_now

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

    from singer_sdk import Stream, Tap
    from singer_sdk.helpers.types import Context, Record

    from tap_gong_calls.extract.batch import CallBatch
    from tap_gong_calls.gong.client import GongClient
    from tap_gong_calls.progress import RunStats

DELETED_AT = "_sdc_deleted_at"


class ValidatedStream(VersionedStream):
    """A stream whose records keep to its contract (contract.py): a broken key or an
    unparseable critical date fails the run saying where; any other mismatch is a warning."""

    schema = StreamSchema(SchemaDirectory(resources.files("tap_gong_calls") / "schemas"))
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
        if DELETED_AT in record:  # a tombstone: keys, nothing else
            return self.contract.tombstone(record, source)
        return self.contract.check(record, source)


class CallsStream(ValidatedStream, WindowBookmarkedStream):
    """Gong calls (``CallBasicData``), by configured id or by date range."""

    name = "calls"
    primary_keys = ("id",)
    replication_key = "started"
    critical_date_times = ("started",)  # windows and the bookmark are computed from it

    def __init__(
        self,
        tap: Tap,
        client: GongClient,
        stats: RunStats,
        written: Mapping[str, int] | None = None,
    ) -> None:
        super().__init__(tap)
        self.client = client
        self.stats = stats
        self.run: ExtractionRun | None = None  # once get_records began
        self.deleted_at = ""  # the _sdc_deleted_at of this run's tombstones
        # Records that reached stdout, per stream (the tap's writer counts them).
        self.written: Mapping[str, int] = {} if written is None else written
        if self.config.get("call_ids") is not None:
            # A fixed set of ids is read in full on every run: there is no bookmark to keep.
            self.replication_key = None  # type: ignore[assignment]

    @override
    def get_records(self, context: Context | None) -> Iterable[Record]:
        # When a private call's tombstones say it left: when this run found it so.
        self.deleted_at = format_utc(utc_now())
        self.run = run = ExtractionRun(
            self.client,
            self.config,
            self.stream_state,
            self._selection(),
            streams=[self, *(c for c in self.child_streams if isinstance(c, VersionedStream))],
            version=self.run_version,
            stats=self.stats,
            logger=self.logger,
        )
        try:
            for number, batch in enumerate(run.batches(), start=1):
                yield from self._emit(batch, number)
                if (entries := run.state_after(batch)) is not None:
                    self.write_bookmark(entries)
                self.stats.maybe_log_progress(self.logger)
            if run.finish():  # the re-import is complete: no later run continues it
                self.stream_state.pop(REIMPORT_KEY, None)
        finally:
            # Every run's last STATE carries what it sent (a failed one's too).
            self.write_bookmark(run.usage_entry())
            self.logger.info(self.summary())
            run.close()
        done = self.stats.emitted + self.stats.private_tombstoned + self.stats.missing
        run.report(done, self.stream_state.get("replication_key_value"))

    def record_usage(self) -> None:
        """Put the requests sent so far into the state (for the STATE of a run cut short)."""
        if self.run is not None:
            self.stream_state.update(self.run.usage_entry())

    def summary(self) -> str:
        """The run's closing line: the records written to stdout, and what they cost."""
        # Tombstones are counted apart ("private: N tombstoned").
        tombstones = self.stats.private_tombstoned if self.selected else 0
        pending = self.run.pending if self.run is not None else None
        self.stats.closing(
            in_range=self.run.probe_total if self.run is not None else None,
            emitted=self._written(self) - tombstones,
            child_records={
                child.name: self._written(child)
                for child in self.child_streams
                if isinstance(child, CallChildStream) and child.selected
            },
            pending=None if pending is None else (len(pending), pending.arrived),
            schema_warnings=sum(
                stream.contract.warnings
                for stream in (self, *self.child_streams)
                if isinstance(stream, ValidatedStream)
            ),
            text_cleaned=(self.client.text.removed, self.client.text.replaced),
        )
        return self.stats.summary()

    def _written(self, stream: Stream) -> int:
        """The records of ``stream`` that reached stdout. The writer counts them by the name
        they went out under: the stream's own, or the ``__alias__`` its stream map gives it (the
        primary map, the 0th); copies a map makes under other names (``__source__``) are not
        counted again."""
        return self.written.get(stream.stream_maps[0].stream_alias, 0)

    @override
    def generate_child_contexts(
        self, record: Record, context: Context | None
    ) -> Iterable[Context | None]:
        # Children are handed a batch at a time by _emit, never a call at a time.
        return ()

    def _emit(self, batch: CallBatch, number: int) -> Iterator[Record]:
        """The batch's calls, then its records of every selected child stream."""
        for call_id in batch.missing:
            self.logger.warning("Call %s was not found in Gong: skipped", call_id)
        for item in batch.calls:
            call = item["metaData"]
            yield self.checked(call, f"a call (id {call.get('id')!r})")
        for tombstone in self.tombstones_of(batch, self.deleted_at):
            yield self.checked(tombstone, f"the tombstone of private call {tombstone['id']!r}")
        self.stats.batch_written(
            emitted=len(batch.calls),
            missing=len(batch.missing),
            tombstoned=len(batch.private),
            not_ready=batch.not_ready if batch.transcripts_asked else None,
        )
        for child in self.child_streams:
            if (
                isinstance(child, CallChildStream)
                and child.selected
                and child.take(batch, self.deleted_at)
            ):
                child.sync_batch(number)

    def tombstones_of(self, batch: CallBatch, deleted_at: str) -> list[Record]:
        """The ``calls`` tombstones of the batch's private calls."""
        return [{"id": item["metaData"]["id"], DELETED_AT: deleted_at} for item in batch.private]

    def _selection(self) -> Selection:
        children = {child.name: child.selected for child in self.child_streams}
        return Selection(
            calls=self.selected,
            participants=children.get("call_participants", False),
            details=children.get("call_details", False),
            transcripts=children.get("call_transcripts", False),
            exclude_private=bool(self.config["exclude_private_calls"]),
        )

    @property
    def _batch_ids(self) -> bool:
        return bool(self.config["batch_call_ids"])


class CallChildStream(ValidatedStream, BatchFedStream):
    """Records about the calls of the batch ``calls`` hands over before each sync."""

    parent_stream_type = CallsStream
    # One stream-level state, not one partition per batch: the bookmark is the calls stream's.
    state_partitioning_keys: ClassVar[list[str]] = []

    def __init__(self, tap: Tap) -> None:
        super().__init__(tap)
        self._records: list[Record] = []

    def take(self, batch: CallBatch, deleted_at: str) -> int:
        """Hold this stream's records of ``batch``, and the tombstones of its private calls,
        for its next sync; return how many."""
        self._records = self.records_of(batch) + self.tombstones_of(batch, deleted_at)
        return len(self._records)

    def tombstones_of(self, batch: CallBatch, deleted_at: str) -> list[Record]:
        """This stream's tombstones of the batch's private calls: keyed on ``callId`` alone."""
        return [
            {"callId": item["metaData"]["id"], DELETED_AT: deleted_at} for item in batch.private
        ]

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

    @override
    def tombstones_of(self, batch: CallBatch, deleted_at: str) -> list[Record]:
        # One per party of each private call: the keys only.
        return [
            {"callId": item["metaData"]["id"], "id": party.get("id"), DELETED_AT: deleted_at}
            for item in batch.private
            for party in item.get("parties") or ()
            if isinstance(party, dict)
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
