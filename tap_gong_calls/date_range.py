"""The date-range mode: windows of about a page each, several in flight, emitted in order."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tap_gong_calls.concurrency import map_in_order
from tap_gong_calls.endpoints import EXTENSIVE, LISTING, TRANSCRIPT, CallBatch, call_id
from tap_gong_calls.windows import WindowPlanner, format_utc

if TYPE_CHECKING:
    import datetime
    from collections.abc import Iterator

    from tap_gong_calls.endpoints import CallEndpoints

# Calls per window: about a page, with room for the estimate to be off by a fifth.
TARGET_CALLS = 80


@dataclass
class Window:
    """The batches of one date window, and what its first page said of it."""

    start: datetime.datetime
    end: datetime.datetime
    total: int = 0  # totalRecords of the first page: every call of the window
    complete: bool = True
    batches: list[CallBatch] = field(default_factory=list)


def batches_in_range(
    gong: CallEndpoints, start: datetime.datetime, end: datetime.datetime, *, in_flight: int
) -> Iterator[CallBatch]:
    """Batches of the calls started in ``[start, end)``, window after window.

    A cursor chain is sequential, so windows sized to one page each are fetched side by side
    instead (``in_flight`` at a time); they still come out in order, each followed by a batch
    carrying its end, so the bookmark only moves over windows whose every call was emitted.
    """
    # One page over the whole range is either all of it (a quiet incremental run costs one
    # request) or tells, by its totalRecords, how long a window of one page is.
    probe = fetch_window(gong, start, end, first_page_only=True)
    if probe.complete:
        yield from _emitted(probe)
        return
    size = (end - start) * (TARGET_CALLS / probe.total)
    planner = WindowPlanner(start, end, size=size, target_calls=TARGET_CALLS)

    def fetch(window: tuple[datetime.datetime, datetime.datetime]) -> Window:
        found = fetch_window(gong, *window)
        planner.completed(found.total, span=found.end - found.start)
        return found

    for window in map_in_order(fetch, planner, max_in_flight=in_flight):
        yield from _emitted(window)


def fetch_window(
    gong: CallEndpoints,
    start: datetime.datetime,
    end: datetime.datetime,
    *,
    first_page_only: bool = False,
) -> Window:
    """The calls started in ``[start, end)``, in batches of a page each.

    ``first_page_only``: stop after the first page if more follow (``complete`` False), to
    learn from its ``totalRecords`` how dense the range is.
    """
    filters = {"fromDateTime": format_utc(start), "toDateTime": format_utc(end)}
    if workspace_id := gong.client.config.get("workspace_id"):
        filters["workspaceId"] = str(workspace_id)
    selection = gong.selection
    if not selection.needs_metadata:  # transcripts alone list themselves
        endpoint = TRANSCRIPT
    else:
        endpoint = EXTENSIVE if selection.needs_blocks else LISTING
    found = Window(start, end)
    seen: set[str] = set()  # a call can move between pages while Gong pages; once is enough
    for number, (items, total, more) in enumerate(gong.pages(endpoint, filters)):
        if number == 0:
            found.total = total
            if first_page_only and more:
                found.complete = False
                return found
        if endpoint == TRANSCRIPT:
            found.batches.append(CallBatch(transcripts=items, transcripts_asked=True))
            continue
        fresh = [item for item in items if call_id(item, endpoint) not in seen]
        seen.update(call_id(item, endpoint) for item in fresh)
        batch = CallBatch(calls=gong.without_private(fresh))
        found.batches.append(gong.with_transcripts(batch, endpoint))
    return found


def _emitted(window: Window) -> Iterator[CallBatch]:
    yield from window.batches
    yield CallBatch(window_end=window.end)
