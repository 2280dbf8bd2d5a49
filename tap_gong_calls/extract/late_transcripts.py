"""Late transcripts: calls whose transcript was not ready, asked for again on later runs.

Gong makes a transcript available up to a day after the call, sometimes later; the lookback
window alone would lose one still missing when its call leaves the window. So a date-range run
keeps the ids in the state, ``bookmarks.calls.pending_transcripts``, as groups of ids by the
run that first found them missing, oldest first::

    "pending_transcripts": [{"since": "2024-06-11T10:00:00Z", "ids": ["7782342274025937895"]}]

A list, not an object keyed by id: Meltano deep-merges the objects of a failed run's state
into the last good one, which would bring back ids already removed; a list is replaced whole.

An id stays until its transcript's record was written, Gong no longer knows the call, the call
turned private, or ``transcript_wait_days`` passed since ``since``. Every change goes out with
the next STATE, so a run killed at any moment loses no pending id.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from tap_gong_calls.extract.batch import CallBatch
from tap_gong_calls.extract.transcript_sizing import TranscriptSizer, sized_chunks
from tap_gong_calls.gong.api import EXTENSIVE, call_id
from tap_gong_calls.gong.calls import ExtensiveRefusedError
from tap_gong_calls.state import PENDING_KEY, StateError
from tap_gong_calls.timestamps import format_utc, parse_utc

if TYPE_CHECKING:
    import logging
    from collections.abc import Iterable, Iterator, Mapping

    from tap_gong_calls.extract.batch import Item, Selection
    from tap_gong_calls.gong.calls import CallsApi

STATE_KEY = PENDING_KEY
# The most ids kept. Each costs a hundredth of a request on every run: 2,000 ids are at most
# 20 transcript requests a run, under 5 % of Gong's 10,000 a day on an hourly schedule, and
# about 45 KB in each STATE message. A company whose untranscribed calls of a week outnumber
# that has more calls that never get a transcript (no audio) than late ones.
MAX_PENDING = 2000


class PendingTranscripts:
    """The pending ids of one run, each with the moment a run first found it missing."""

    def __init__(
        self,
        stream_state: Mapping[str, Any],
        *,
        now: datetime.datetime,
        wait_days: int,
        logger: logging.Logger,
    ) -> None:
        self.now = now
        self.wait = datetime.timedelta(days=wait_days)
        self.logger = logger
        self.arrived = 0
        self.asked: set[str] = set()  # ids whose transcript this run asked for already
        self._since: dict[str, datetime.datetime] = {}  # oldest first
        for since, ids in _read(stream_state.get(STATE_KEY)):
            for pending_id in ids:
                self._since.setdefault(pending_id, since)
        expired = [c for c, since in self._since.items() if since + self.wait <= now]
        for pending_id in expired:
            del self._since[pending_id]
        if expired:
            logger.info(
                "No longer asking for the transcripts of %d call(s): not ready within "
                "transcript_wait_days (%d) of the run that first found them missing",
                len(expired),
                wait_days,
            )

    def __len__(self) -> int:
        return len(self._since)

    def to_ask(self) -> list[str]:
        """The pending ids this run has not asked for yet, oldest first."""
        return [c for c in self._since if c not in self.asked]

    def settle(self, batch: CallBatch) -> bool:
        """Account for a batch whose records were written: arrived transcripts, private and
        vanished calls leave; calls still without a transcript join (recent ones only).

        Returns whether the pending set changed.
        """
        if not batch.transcripts_asked:
            return False
        before = list(self._since)
        for transcript in batch.transcripts:
            if self._since.pop(str(transcript["callId"]), None) is not None:
                self.arrived += 1
        for gone in (*batch.missing, *(call_id(i, EXTENSIVE) for i in batch.private)):
            self._since.pop(gone, None)
        started = {call_id(item, EXTENSIVE): _started(item) for item in batch.calls}
        self.asked.update(started)
        self.asked.update(batch.no_transcript)
        for missing_id in batch.no_transcript:
            # A call older than the wait had its chance: a full re-import of years must not
            # fill the set with calls that never get a transcript.
            moment = started.get(missing_id)
            if missing_id not in self._since and (moment is None or moment + self.wait > self.now):
                self._since[missing_id] = self.now
        self._bound()
        return list(self._since) != before

    def state_value(self) -> list[dict[str, Any]]:
        """The state entry: ids grouped by the run that first found them missing."""
        groups: dict[datetime.datetime, list[str]] = {}
        for pending_id, since in self._since.items():
            groups.setdefault(since, []).append(pending_id)
        return [{"since": format_utc(s), "ids": ids} for s, ids in sorted(groups.items())]

    def _bound(self) -> None:
        excess = len(self._since) - MAX_PENDING
        if excess <= 0:
            return
        oldest = sorted(self._since, key=self._since.__getitem__)[:excess]
        for pending_id in oldest:
            del self._since[pending_id]
        self.logger.warning(
            "More than %d calls wait for their transcript: no longer asking for the %d oldest "
            "(%s…). Run a full re-import later to pick up theirs.",
            MAX_PENDING,
            excess,
            ", ".join(oldest[:3]),
        )


def late_batches(
    api: CallsApi, selection: Selection, pending: PendingTranscripts, logger: logging.Logger
) -> Iterator[CallBatch]:
    """The transcripts of the pending ids this run did not ask for in its windows.

    One transcript request per 100 ids (the first of a few, as a run's first always is).
    With private calls set apart, the ids are first looked up, 100 per request, so that the
    transcript of a call made private meanwhile is never asked for.
    """
    call_ids = pending.to_ask()
    if not call_ids or not selection.transcripts:
        return
    logger.info("Asking again for %d transcript(s) not ready before", len(call_ids))
    sizer = TranscriptSizer(1)
    for chunk in sized_chunks(call_ids, sizer.ids_per_request):
        batch, wanted = CallBatch(), chunk
        if selection.splits_private:
            batch = _looked_up(api, selection, chunk)
            settled = {*batch.missing, *(call_id(i, EXTENSIVE) for i in batch.private)}
            wanted = [c for c in chunk if c not in settled]
        done = selection.with_transcripts_of(batch, wanted, *api.transcripts(wanted))
        sizer.measure(done)
        yield done


def _looked_up(api: CallsApi, selection: Selection, chunk: list[str]) -> CallBatch:
    """The private calls among ``chunk`` (to tombstone) and the ids Gong no longer knows."""
    try:
        items = api.items(EXTENSIVE, {"callIds": chunk})
    except ExtensiveRefusedError:  # calls alone, without the extensive scope
        calls = (api.get_call(c) for c in chunk)
        items = [{"metaData": call} for call in calls if call is not None]
    known = {call_id(item, EXTENSIVE) for item in items}
    looked_up = selection.batch(items, missing=[c for c in chunk if c not in known])
    return CallBatch(private=looked_up.private, missing=looked_up.missing)


def _started(item: Item) -> datetime.datetime | None:
    try:
        return parse_utc(str(item["metaData"]["started"]))
    except (KeyError, TypeError, ValueError):
        return None


def _read(value: object) -> Iterable[tuple[datetime.datetime, list[str]]]:
    """The groups of a state's pending ids; StateError for a shape the tap did not write."""
    if value is None:
        return []
    problem = f'its "bookmarks.calls.{STATE_KEY}" is not a list of {{"since", "ids"}} groups'
    if not isinstance(value, list):
        raise StateError(problem)
    groups = []
    for group in value:
        ids = group.get("ids") if isinstance(group, dict) else None
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise StateError(problem)
        try:
            groups.append((parse_utc(str(group.get("since"))), ids))
        except ValueError:
            raise StateError(f"{problem}: since {group.get('since')!r} is no date-time") from None
    return groups
