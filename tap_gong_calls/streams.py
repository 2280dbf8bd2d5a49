"""The four streams: ``calls``, and the participants, details and transcripts of those calls.

Streams describe their schema and keys and write the records they are handed. ``calls``
takes the batches of up to 100 calls that one run makes (extract/run.py, through the tap's one
client) and hands each batch down to the selected child streams, so one request serves every
stream: singer-sdk would otherwise sync a child once per parent record, one request per call.

Private calls (``private_calls``): Gong shows everyone only when a private call occurred and
who owns it. By default (``metadata``) its ``calls`` row keeps just that, every other field
null; with ``exclude`` it is a tombstone. Either way every child stream writes, for each
private call, a tombstone: a record of its keys and ``_sdc_deleted_at`` and nothing else; the
record contract fills every other top-level property with null, which makes an upserting target
(target-postgres merges on the key) blank a row loaded before the call turned private.
Participants are tombstoned party by party, from the parties the listing carried.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, ClassVar

from tap_gong_calls.extract.batch import Selection
from tap_gong_calls.extract.run import ExtractionRun, SharedBudget
from tap_gong_calls.sdk_overrides import BatchFedStream, VersionedStream, WindowBookmarkedStream
from tap_gong_calls.settings import by_ids, private_calls_of
from tap_gong_calls.state import REIMPORT_KEY
from tap_gong_calls.stream_base import DELETED_AT, RunClosing, ValidatedStream
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


# Calls not found in Gong that are named one by one in a warning.
NAMED_MISSING = 100
# What Gong shows everyone of a private call: when it occurred, and who owns it.
PRIVATE_METADATA = ("id", "scheduled", "started", "primaryUserId", "workspaceId", "isPrivate")


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
        *,
        stats: RunStats,
        budget: SharedBudget,
        closing: RunClosing,
        written: Mapping[str, int] | None = None,
    ) -> None:
        super().__init__(tap)
        self.client = client
        self.stats = stats
        self.budget = budget
        self.closing = closing
        self.run: ExtractionRun | None = None  # once get_records began
        self.deleted_at = ""  # the _sdc_deleted_at of this run's tombstones
        # Records that reached stdout, per stream (the tap's writer counts them).
        self.written: Mapping[str, int] = {} if written is None else written
        if by_ids(self.config):  # call_ids or call_ids_file, read when the run starts
            # A fixed set of ids is read in full on every run: there is no bookmark to keep.
            self.replication_key = None  # type: ignore[assignment]

    @override
    def get_records(self, context: Context | None) -> Iterable[Record]:
        # When a private call's tombstones say it left: when this run found it so.
        self.deleted_at = format_utc(utc_now())
        self.stats.set_private_calls(private_calls_of(self.config))
        self.run = run = ExtractionRun(
            self.client,
            self.config,
            self.stream_state,
            self._selection(),
            budget=self.budget.get(),
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
            self.closing.done(self.name)
        done = self.stats.emitted + self.stats.private_tombstoned + self.stats.missing
        run.report(done, self.stream_state.get("replication_key_value"))

    def record_usage(self) -> None:
        """Put the requests sent so far into the state (for the STATE of a run cut short)."""
        if self.budget.opened:
            self.stream_state.update(self.budget.get().state_entry())

    def summary(self) -> str:
        """The run's closing line: the records written to stdout, and what they cost."""
        # Private calls set apart are counted apart ("private: N tombstoned").
        set_apart = self.selected and private_calls_of(self.config) != "include"
        tombstones = self.stats.private_tombstoned if set_apart else 0
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
        for nth, call_id in enumerate(batch.missing, start=self.stats.missing + 1):
            # Each of the first ones by name; a list of 100,000 ids would otherwise be as many
            # lines. The Summary counts them all.
            if nth <= NAMED_MISSING:
                self.logger.warning("Call %s was not found in Gong: skipped", call_id)
            if nth == NAMED_MISSING:
                self.logger.warning(
                    "Further calls not found in Gong are not named: the Summary counts them "
                    "(missing N)."
                )
        for item in batch.calls:
            call = item["metaData"]
            yield self.checked(call, f"a call (id {call.get('id')!r})")
        for record in self.private_records(batch):
            yield self.checked(record, f"private call {record['id']!r}")
        in_full = sum(1 for item in batch.calls if item["metaData"].get("isPrivate") is True)
        self.stats.batch_written(
            emitted=len(batch.calls),
            missing=len(batch.missing),
            tombstoned=len(batch.private) or in_full,
            not_ready=batch.not_ready if batch.transcripts_asked else None,
        )
        for child in self.child_streams:
            if (
                isinstance(child, CallChildStream)
                and child.selected
                and child.take(batch, self.deleted_at)
            ):
                child.sync_batch(number)

    def private_records(self, batch: CallBatch) -> list[Record]:
        """The ``calls`` records of the batch's private calls: what Gong shows everyone of
        them, or (``exclude``) their tombstones."""
        if private_calls_of(self.config) == "exclude":
            return [
                {"id": item["metaData"]["id"], DELETED_AT: self.deleted_at}
                for item in batch.private
            ]
        return [
            {key: item["metaData"].get(key) for key in PRIVATE_METADATA} for item in batch.private
        ]

    def _selection(self) -> Selection:
        children = {child.name: child.selected for child in self.child_streams}
        return Selection(
            calls=self.selected,
            participants=children.get("call_participants", False),
            details=children.get("call_details", False),
            transcripts=children.get("call_transcripts", False),
            private=private_calls_of(self.config),
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
