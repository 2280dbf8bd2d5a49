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

from jsonschema import Draft202012Validator, FormatChecker
from singer_sdk import SchemaDirectory, StreamSchema
from singer_sdk.exceptions import FatalAPIError

from tap_gong_calls.batches import CallFetcher
from tap_gong_calls.client import GongStream
from tap_gong_calls.errors import BadResponseError
from tap_gong_calls.selection import Selection
from tap_gong_calls.windows import UTC, format_utc, parse_utc

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from importlib.resources.abc import Traversable

    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context, Record

    from tap_gong_calls.endpoints import CallBatch


def _schemas_dir() -> Traversable:
    # A wheel carries the schemas inside the package; an editable install reads the repo's.
    packaged = resources.files("tap_gong_calls") / "schemas"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "schemas"


class ValidatedStream(GongStream):
    """A stream whose records must match its schema file, or the run fails saying where."""

    schema = StreamSchema(SchemaDirectory(_schemas_dir()))

    @cached_property
    def _validator(self) -> Draft202012Validator:
        return Draft202012Validator(self.schema, format_checker=FormatChecker())

    def checked(self, record: Record, source: str) -> Record:
        """``record`` if it matches the schema; a clear error naming the field if not."""
        error = next(iter(self._validator.iter_errors(record)), None)
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "the record"
            raise BadResponseError(
                f"Gong sent {source} that does not match the {self.name} schema: "
                f"{error.message} at {where}"
            )
        return record


class CallsStream(ValidatedStream):
    """Gong calls (``CallBasicData``), by configured id or by date range."""

    name = "calls"
    primary_keys = ("id",)
    replication_key = "started"

    def __init__(self, tap: Tap) -> None:
        super().__init__(tap)
        if self.config.get("call_ids") is not None:
            # A fixed set of ids is read in full on every run: there is no bookmark to keep.
            self.replication_key = None  # type: ignore[assignment]

    @override
    def get_records(self, context: Context | None) -> Iterable[Record]:
        selection = self._selection()
        fetcher = CallFetcher(self, selection)
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
            self.logger.info(self.stats.summary())

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
                count = child.take(batch)
                self.stats.child_records[child.name] = (
                    self.stats.child_records.get(child.name, 0) + count
                )
                served = served or count > 0
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
                f"({self.url_base}) and that the credentials belong to the company and "
                f"workspace these calls were recorded in."
            )

    # -- date-range mode ----------------------------------------------------------------

    def _batches_in_range(self, fetcher: CallFetcher) -> Iterator[CallBatch]:
        start = parse_utc(str(self.config["start_date"]))
        end_date = self.config.get("end_date")
        end = parse_utc(str(end_date)) if end_date else datetime.datetime.now(UTC)
        lookback = datetime.timedelta(days=int(self.config["lookback_days"]))
        bookmark = self._bookmark()
        if bookmark is not None:
            start = max(start, bookmark - lookback)
        self.logger.info(
            "Mode: date range, calls from %s to %s (bookmark %s, lookback %s days)",
            format_utc(start),
            format_utc(end),
            format_utc(bookmark) if bookmark else "none",
            lookback.days,
        )
        yield from fetcher.in_range(start, end)

    def _bookmark(self) -> datetime.datetime | None:
        state = self.stream_state
        value = state.get("replication_key_value")
        if not value or state.get("replication_key") != self.replication_key:
            return None
        return _parse_bookmark(value)

    @override
    def compare_start_date(self, value: str, start_date_value: str) -> str:
        # singer-sdk's version would fail on a corrupt bookmark with a bare ValueError.
        return max(value, start_date_value, key=_parse_bookmark)

    def _save_bookmark(self, moment: datetime.datetime) -> None:
        """Every call before ``moment`` has been emitted: move the bookmark and say so."""
        previous = self._bookmark()
        if previous is not None and previous >= moment:
            return
        state = self.stream_state
        state["replication_key"] = self.replication_key
        state["replication_key_value"] = format_utc(moment)
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
            yield self.checked(record, f"a {self.name} record of call {record['callId']}")

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


def _parse_bookmark(value: object) -> datetime.datetime:
    try:
        return parse_utc(str(value))
    except ValueError:
        raise FatalAPIError(
            f"The state's bookmark {value!r} (bookmarks.calls.replication_key_value) is not an "
            f"ISO-8601 date-time: fix or drop the state (meltano run --full-refresh)."
        ) from None
