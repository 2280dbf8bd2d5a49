"""The full re-import: how a warehouse learns which calls Gong deleted.

Gong deletes calls (privacy erasure, asynchronously) and they vanish from every listing; no
endpoint says what was deleted. A date-range run that starts without a bookmark reads every
call from start_date, so once it has read all of them it knows the whole table: each of its
RECORDs carries one table version, and at the end, after the last record of each selected
stream, ``ACTIVATE_VERSION`` tells the target that rows of any other version are gone
(target-postgres sets their ``_sdc_deleted_at``, or deletes them with ``hard_delete``).

Only a complete re-import says so: a run that fails, is killed or reaches the daily request
budget midway sends none. Its STATE keeps the version (``bookmarks.calls.reimport_version``),
so the runs that resume it from there go on stamping that version and the one that reads the
rest activates it: a large account's re-import may take several runs, and still tells the
target what Gong deleted. A run that did not read everything itself or by such continuation
never sends one: an incremental run, a ``call_ids`` run, a run with an ``end_date`` before it
began.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from tap_gong_calls.state import FIX_STATE, REIMPORT_KEY, StateError
from tap_gong_calls.timestamps import format_utc, parse_utc

if TYPE_CHECKING:
    import datetime
    import logging
    from collections.abc import Mapping, Sequence
    from typing import Any

STATE_KEY = REIMPORT_KEY  # in bookmarks.calls while a re-import is not complete


class VersionedStream(Protocol):
    """A stream whose records carry a table version of the tap's choosing (the streams'
    VersionedStream in sdk_overrides.py)."""

    @property
    def name(self) -> str: ...

    @property
    def selected(self) -> bool: ...

    def use_version(self, version: int) -> None: ...

    def activate_version(self) -> None: ...


def version_in_progress(stream_state: Mapping[str, Any]) -> int | None:
    """The version of a re-import an earlier run began and did not complete, if any."""
    value = stream_state.get(STATE_KEY)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    raise StateError(
        f"its bookmarks.calls.{STATE_KEY} {value!r} is not a table version (a positive whole "
        f"number). {FIX_STATE}"
    )


class FullReimport:
    """The version of one full re-import, stamped on its streams' records, activated at the end."""

    def __init__(
        self,
        streams: Sequence[VersionedStream],
        version: int,
        logger: logging.Logger,
        *,
        continued: bool = False,
    ) -> None:
        self.streams = [stream for stream in streams if stream.selected]
        self.version = version
        self.logger = logger
        for stream in self.streams:
            stream.use_version(version)
        self.logger.info(
            "%s: records carry table version %d; ACTIVATE_VERSION follows once every window "
            "is complete, and the target then marks as deleted every row of %s the re-import "
            "did not re-read.",
            "Continuing the full re-import an earlier run began"
            if continued
            else "Full re-import (no bookmark)",
            version,
            ", ".join(stream.name for stream in self.streams),
        )

    def state_entries(self) -> dict[str, Any]:
        """What each STATE carries until the re-import is complete: its version."""
        return {STATE_KEY: self.version}

    @classmethod
    def of_run(
        cls,
        *,
        has_bookmark: bool,
        in_progress: int | None,
        config: Mapping[str, Any],
        listing_began: datetime.datetime,
        streams: Sequence[VersionedStream],
        version: int,
        logger: logging.Logger,
    ) -> FullReimport | None:
        """The re-import this run is or continues, or None when it is none."""
        if has_bookmark:
            if in_progress is None:
                return None
            return cls(streams, in_progress, logger, continued=True)
        end_date = config.get("end_date")
        if end_date and parse_utc(str(end_date)) < listing_began:
            logger.info(
                "No bookmark, but end_date %s bounds this run: it is no full re-import, and "
                "deletes nothing in the target.",
                format_utc(parse_utc(str(end_date))),
            )
            return None
        return cls(streams, version, logger)

    def complete(self) -> None:
        """Every call was read and every record written: activate the version."""
        for stream in self.streams:
            stream.activate_version()
        self.logger.info(
            "Full re-import complete: sent ACTIVATE_VERSION %d for %s",
            self.version,
            ", ".join(stream.name for stream in self.streams),
        )
