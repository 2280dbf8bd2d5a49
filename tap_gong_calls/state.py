"""The state of the tap: every key of ``bookmarks.calls``, who owns it, and its check.

Only the ``calls`` stream keeps state; its children share its bookmark.

- ``replication_key``, ``replication_key_value``: the bookmark, every call that started
  before it was emitted. Owner: this module (``read_bookmark``, ``RangeBookmark``).
- ``workspace_id``: the filter the bookmark was made under. Owner: this module.
- ``requests``: the requests sent, by hour, for the daily budget. Owner: gong/budget.py.
- ``pending_transcripts``: calls whose transcript was not ready yet. Owner:
  extract/late_transcripts.py (``PendingTranscripts``).
- ``reimport_version``: the table version of a full re-import not complete yet. Owner:
  extract/reimport.py (``version_in_progress``).

``answered_scorecards`` keeps a state of its own (``bookmarks.answered_scorecards``):
``review_day``, the company-time-zone day of the last complete read, which the next run reads
again (extract/reviews.py). The other streams beside the calls are read whole every run.

A state the tap cannot read fails the run before any request (extract/run.py
``check_calls_state``, from the tap's ``load_state``), instead of being taken for "no state",
which would re-read everything without a word. The bookmark is a promise: it is refused when
it cannot be true (in the future), and ignored when it was made under another filter.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from singer_sdk.exceptions import FatalAPIError

from tap_gong_calls.timestamps import format_utc, parse_utc

if TYPE_CHECKING:
    import logging
    from collections.abc import Mapping

STREAM = "calls"
REPLICATION_KEY = "started"
# Recorded beside the bookmark: the filter the bookmark was made under.
FILTER_KEY = "workspace_id"
USAGE_KEY = "requests"
PENDING_KEY = "pending_transcripts"
REIMPORT_KEY = "reimport_version"
FIX_STATE = (
    "Fix it with `meltano state set` (or `meltano state clear` to start from start_date), "
    "or pass a state file of the form "
    '{"bookmarks": {"calls": {"replication_key": "started", '
    '"replication_key_value": "2024-06-11T00:00:00Z"}}}.'
)


class StateError(ValueError):
    """A state the tap cannot use; the message says what is wrong with it and how to fix it."""


@dataclass(frozen=True)
class Bookmark:
    """Every call that started before ``moment`` has been emitted, under ``workspace_id``."""

    moment: datetime.datetime
    workspace_id: str | None
    # States written before the tap recorded its filter do not say which one they were made
    # under: they are trusted, as they always were.
    filter_known: bool = True


def check_state(state: Mapping[str, Any]) -> None:
    """Raise StateError unless ``state`` is a Singer state this tap can read."""
    if not isinstance(state, dict):
        raise StateError(f"it is JSON {type(state).__name__}, not an object. {FIX_STATE}")
    if "singer_state" in state and "bookmarks" not in state:
        raise StateError(
            "it is the wrapper that `meltano state get` prints: the Singer state is its "
            '"singer_state" value. Pass that value, or let Meltano pass the state '
            "(meltano run)."
        )
    bookmarks = state.get("bookmarks", {})
    if not isinstance(bookmarks, dict):
        raise StateError(f'its "bookmarks" is not an object. {FIX_STATE}')
    calls = bookmarks.get(STREAM, {})
    if not isinstance(calls, dict):
        raise StateError(f'its "bookmarks.calls" is not an object. {FIX_STATE}')


def state_file_problem(text: str, source: str) -> str | None:
    """What makes the text of a ``--state`` file unusable, in one line naming ``source``."""
    try:
        check_state(json.loads(text))
    except StateError as exc:
        return f"{source} cannot be used: {exc}"
    except ValueError as exc:
        what = "is empty" if not text.strip() else f"is not JSON ({exc})"
        return (
            f"{source} {what}. Pass the state a previous run wrote (its last STATE "
            f"message's value), or no --state to start from start_date."
        )
    return None


def read_bookmark(stream_state: Mapping[str, Any], *, now: datetime.datetime) -> Bookmark | None:
    """The bookmark of the ``calls`` stream's state, or None when it holds none.

    Raises StateError for one the tap did not write: another replication key, a value that is
    no date-time, or a moment in the future (which would skip every call until then).
    """
    value = stream_state.get("replication_key_value")
    key = stream_state.get("replication_key")
    if value is None:  # no window completed yet (singer-sdk may have written the key alone)
        return None
    where = "bookmarks.calls.replication_key_value"
    if key != REPLICATION_KEY:
        raise StateError(
            f"its calls bookmark is on replication key {key!r}; this tap bookmarks "
            f"{REPLICATION_KEY!r}. {FIX_STATE}"
        )
    try:
        moment = parse_utc(str(value))
    except ValueError:
        raise StateError(
            f"its bookmark {value!r} ({where}) is not an ISO-8601 date-time. {FIX_STATE}"
        ) from None
    if moment > now:
        raise StateError(
            f"its bookmark {format_utc(moment)} ({where}) lies in the future (now is "
            f"{format_utc(now)}): a run from it would skip every call until then. {FIX_STATE}"
        )
    workspace_id = stream_state.get(FILTER_KEY)
    return Bookmark(
        moment,
        None if workspace_id is None else str(workspace_id),
        filter_known=FILTER_KEY in stream_state,
    )


def bookmark_state(moment: datetime.datetime, workspace_id: str | None) -> dict[str, Any]:
    """The ``calls`` stream's state entries for a bookmark at ``moment``."""
    return {
        "replication_key": REPLICATION_KEY,
        "replication_key_value": format_utc(moment),
        FILTER_KEY: workspace_id,
    }


class RangeBookmark:
    """The bookmark of one date-range run: where the run starts, and how far it may move.

    The run begins listing at ``listing_began``: no call it lists can have started after that
    moment (whatever end_date says), so the bookmark never passes it, nor Gong's own clock.
    """

    def __init__(
        self,
        stream_state: Mapping[str, Any],
        *,
        workspace_id: str | None,
        logger: logging.Logger,
        now: datetime.datetime,
    ) -> None:
        self.listing_began = now
        self.workspace_id = workspace_id
        self.logger = logger
        read = read_bookmark(stream_state, now=now)
        self.found = self._usable(read)
        self.ignored = read is not None and self.found is None  # made under another filter
        self._moment = None if self.found is None else self.found.moment

    def range(
        self,
        start_date: datetime.datetime,
        end_date: datetime.datetime | None,
        lookback: datetime.timedelta,
    ) -> tuple[datetime.datetime, datetime.datetime]:
        """``[start, end)`` of this run: from the bookmark less ``lookback`` (or start_date)."""
        start, end = start_date, end_date or self.listing_began
        if self.found is not None:
            start = max(start, self.found.moment - lookback)
        self.logger.info(
            "Mode: date range, calls from %s to %s (bookmark %s, lookback %s days)",
            format_utc(start),
            format_utc(end),
            format_utc(self.found.moment) if self.found else "none",
            lookback.days,
        )
        if end_date is not None and start > end:  # equal: a finished range, nothing to read
            raise FatalAPIError(
                f"end_date {format_utc(end)} is not after where this run starts "
                f"({format_utc(start)}: the bookmark minus lookback_days): move end_date "
                f"later, or remove it to extract up to now."
            )
        return start, end

    def advance(
        self, window_end: datetime.datetime, server_time: datetime.datetime | None
    ) -> dict[str, Any] | None:
        """The new state entries once every call before ``window_end`` was emitted, if any."""
        moment = min(window_end, self.listing_began)
        if server_time is not None:  # Gong's clock, should the machine's run ahead of it
            moment = min(moment, server_time - datetime.timedelta(seconds=1))
        if self._moment is not None and self._moment >= moment:
            return None
        self._moment = moment
        return bookmark_state(moment, self.workspace_id)

    def _usable(self, bookmark: Bookmark | None) -> Bookmark | None:
        """``bookmark``, unless it was made under another filter."""
        if bookmark is None or not bookmark.filter_known:
            return bookmark
        if bookmark.workspace_id == self.workspace_id:
            return bookmark
        self.logger.info(
            "Not using the bookmark %s: it was made with workspace_id %s and this run has "
            "%s, so it says nothing about this run's calls. Starting from start_date.",
            format_utc(bookmark.moment),
            bookmark.workspace_id or "unset",
            self.workspace_id or "unset",
        )
        return None
