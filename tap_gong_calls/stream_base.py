"""What every stream of the tap is: a schema file of its own, its record contract, records
left as Gong sent them, and a table version it chooses (sdk_overrides.VersionedStream)."""

from __future__ import annotations

import sys
import threading
from functools import cached_property
from importlib import resources
from typing import TYPE_CHECKING, ClassVar

from singer_sdk import SchemaDirectory, StreamSchema
from singer_sdk.helpers.conform import TypeConformanceLevel

from tap_gong_calls.contract import RecordContract
from tap_gong_calls.sdk_overrides import VersionedStream

if TYPE_CHECKING:
    import logging
    from collections.abc import Callable

    from singer_sdk.helpers.types import Record

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


class RunClosing:
    """The run's Summary line, logged once: after the last selected stream synced (singer-sdk
    syncs them by name, so the calls stream is not always last), or as soon as one fails."""

    def __init__(
        self,
        selected: Callable[[], set[str]],
        summary: Callable[[], str],
        logger: logging.Logger,
    ) -> None:
        self.selected = selected
        self.summary = summary
        self.logger = logger
        self._left: set[str] | None = None
        self._logged = False
        self._lock = threading.Lock()

    def done(self, stream: str) -> None:
        """``stream`` synced (or failed: call it from a ``finally``)."""
        failing = sys.exc_info()[0] is not None
        with self._lock:
            if self._left is None:
                self._left = self.selected()
            self._left.discard(stream)
            if self._logged or (self._left and not failing):
                return
            self._logged = True
        self.logger.info(self.summary())
