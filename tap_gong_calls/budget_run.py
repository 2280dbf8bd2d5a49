"""The daily request budget of one run: read from the state, planned, reported, recorded.

What the budget means in each mode:

- **Date range**: the run stops between windows when the next one cannot be finished within
  the budget (budget_plan.py), with a STATE the next run resumes from.
- **call_ids**: there is no bookmark, so a run cut short would fetch every id again next
  time. The run's cost is known before it starts (a request per 100 ids and stream group), so
  a run that does not fit in what is left sends no request at all. The usage still lives in
  the state, under the same key, so later runs of either mode count it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from tap_gong_calls.budget import USAGE_KEY, RequestBudget, read_usage
from tap_gong_calls.budget_plan import WindowGate
from tap_gong_calls.date_range import TARGET_CALLS, TARGET_CALLS_WITH_CONTENT
from tap_gong_calls.endpoints import BATCH_SIZE
from tap_gong_calls.timestamps import format_utc
from tap_gong_calls.transcripts import FIRST_IDS

if TYPE_CHECKING:
    import logging
    from collections.abc import Mapping

    from tap_gong_calls.client import GongClient
    from tap_gong_calls.selection import Selection


class RunBudget:
    """The calls stream's view of the budget: what is left, the plan, the line when it stops."""

    def __init__(
        self,
        config: Mapping[str, Any],
        stream_state: Mapping[str, Any],
        client: GongClient,
        logger: logging.Logger,
    ) -> None:
        self.limit = int(config["daily_request_budget"])
        self.rate = float(config["requests_per_second"])
        self.requests = RequestBudget(self.limit, read_usage(stream_state))
        self.logger = logger
        self.stats = client.stats
        self.stats.budget, self.stats.budget_used_before = self.limit, self.requests.used_before
        client.budget = self.requests
        self.gate: WindowGate | None = None
        self.remaining_requests: int | None = None  # the work left, in requests, when known
        self.remaining_calls: int | None = None

    def state_entries(self) -> dict[str, Any]:
        """The usage entry of every STATE: earlier runs' requests and this run's, by hour."""
        return {USAGE_KEY: self.requests.state_entries()}

    def window_gate(self, selection: Selection) -> WindowGate:
        """The gate of a date-range run's windows; it logs the plan once the probe answers."""
        self.gate = WindowGate(self.requests, selection, self.logger)
        self.gate.on_probe = lambda total: self._plan(total, selection)
        return self.gate

    def ids_fit(self, call_ids: list[str], selection: Selection, *, batched: bool) -> bool:
        """Whether a call_ids run fits in what is left (if not, it sends nothing)."""
        count = len(dict.fromkeys(call_ids))
        needed = 0
        if selection.needs_metadata:
            needed += math.ceil(count / BATCH_SIZE) if batched or selection.needs_blocks else count
        if selection.transcripts:
            needed += _transcript_requests(count)
        self.remaining_requests, self.remaining_calls = needed, count
        return needed <= self.requests.allowance

    def calls_done(self, done: int) -> None:
        """``done`` calls of the range (or ids) were emitted or skipped by this run."""
        if self.gate is not None and self.gate.probe_total is not None:
            self.remaining_calls = max(0, self.gate.probe_total - done)
        elif self.remaining_calls is not None and self.gate is None:
            self.remaining_calls = max(0, self.remaining_calls - done)

    def report_if_stopped(self, resume_from: str | None) -> None:
        """The one budget line, if the budget stopped this run (or kept it from starting)."""
        if not self.requests.closed and self.requests.allowance > 0:
            return
        used, sent = self.requests.used_in_window(), self.requests.sent
        remaining = "calls left: unknown"
        needed = self.remaining_requests
        if self.remaining_calls is not None:
            remaining = f"about {self.remaining_calls:,} calls left"
            if self.gate is not None:
                needed = self._estimate(self.remaining_calls, self.gate.cost_per_page())
        wanted = min(needed if needed is not None else self.limit, self.limit)
        back = format_utc(self.requests.returns_at(max(wanted, 1)))
        resume = f"; the next run resumes from {resume_from}" if resume_from else ""
        self.logger.warning(
            "Daily request budget reached: %s of %s requests used in the last 24 hours (%s by "
            "this run), %s; budget for %s returns at %s%s.",
            f"{used:,}",
            f"{self.limit:,}",
            f"{sent:,}",
            remaining,
            "them" if wanted == needed else f"{wanted:,} requests",
            back,
            resume,
        )

    def _plan(self, total: int, selection: Selection) -> None:
        assert self.gate is not None
        cost = self.gate.cost_per_page()
        needed = self._estimate(total, cost, content=selection.needs_blocks)
        self.remaining_calls, self.remaining_requests = total, needed
        allowance = int(self.requests.allowance)
        if needed <= allowance:
            verdict = "this run covers them"
        else:
            days = math.ceil((needed - allowance) / self.limit)
            verdict = (
                f"this run stops at the budget, then about {days} more day(s) of budget finish "
                f"them (each run resumes from the last STATE)"
            )
        self.logger.info(
            "Plan: about %s calls in the range, about %s requests (%s per 100 calls), %s at "
            "%g requests/s; daily request budget %s, %s left now: %s.",
            f"{total:,}",
            f"{needed:,}",
            cost,
            _duration(needed / self.rate),
            self.rate,
            f"{self.limit:,}",
            f"{allowance - self.requests.sent:,}",
            verdict,
        )

    def _estimate(self, calls: int, cost: int, *, content: bool = False) -> int:
        """Requests ``calls`` of a range cost: a page per 100 (and their transcripts), about
        half a page more per window, and the probe and empty windows at the ends."""
        target = TARGET_CALLS_WITH_CONTENT if content else TARGET_CALLS
        windows = math.ceil(calls / target)
        return math.ceil(calls / BATCH_SIZE) * cost + math.ceil(windows / 2) + 2


def _transcript_requests(calls: int) -> int:
    """Transcript requests of ``calls`` ids: a first one of a few ids, then 100 a request."""
    if calls == 0:
        return 0
    return 1 + math.ceil(max(0, calls - FIRST_IDS) / BATCH_SIZE)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
