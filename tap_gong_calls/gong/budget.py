"""The daily request budget: how many requests the tap may still send, counted across runs.

Gong allows a company 10,000 requests a day, shared by every integration, and sends no header
saying how many are left: a client can only count its own. So every request is recorded, by
hour, in two places: the quota ledger of the company's Gong host (ledger.py: a file in the
user's cache folder, or a PostgreSQL table, ``request_ledger``), which every run of every
pipeline, state id and environment reads and writes as it sends; and the state
(``bookmarks.calls.requests``: ``[["2024-06-11T14:00:00Z", 37], ...]``), which travels with the
pipeline to runners whose disk does not survive. A run counts, hour by hour, the larger of the
two, and subtracts what the last 24 hours used from ``daily_request_budget``.

Hours are whole buckets: a bucket counts until every request in it is more than 24 hours old,
that is for 25 hours from its start. That can only under-spend, never over-spend, and keeps
the state to at most 26 short entries.

Inside a run, ``RequestBudget`` is the hard limit every request passes (the client calls
``spend`` before sending), with reservations: work that must not be cut short once started (a
window's pages and its transcripts) reserves what it may cost before it starts, so that a run
that reaches the budget has emitted every record of the requests it made (the range's
windows: extract/admission.py; a call_ids run fits whole or sends nothing: ``fits``).

The plan line and the line that says why a run stopped at the budget are written here too,
so that every word a user reads about the budget comes from one module.
"""

from __future__ import annotations

import datetime
import math
import threading
from typing import TYPE_CHECKING, Any

from tap_gong_calls.gong.errors import BudgetReachedError
from tap_gong_calls.state import USAGE_KEY, StateError
from tap_gong_calls.timestamps import format_utc, parse_utc, utc_now

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tap_gong_calls.gong.ledger import RequestLedger

HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(hours=24)
FIX_USAGE = (
    'Each entry must be ["<hour, ISO-8601 UTC>", <requests, a whole number >= 0>]. Fix or '
    "remove bookmarks.calls.requests (`meltano state set`); removing it forgets the requests "
    "recorded, so only do that once a day has passed."
)

Usage = dict[datetime.datetime, int]  # hour start -> requests sent in that hour


def hour_of(moment: datetime.datetime) -> datetime.datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def read_usage(stream_state: Mapping[str, Any]) -> Usage:
    """The usage recorded in the ``calls`` stream's state; raises StateError if malformed.

    A malformed entry fails the run rather than being skipped: skipped, its requests would
    count as never sent, and the run could spend the company's quota twice.
    """
    entries = stream_state.get(USAGE_KEY)
    if entries is None:  # a state written before the budget: nothing recorded
        return {}
    where = f"bookmarks.calls.{USAGE_KEY}"
    if not isinstance(entries, list):
        raise StateError(f"its {where} is not a list. {FIX_USAGE}")
    usage: Usage = {}
    for entry in entries:
        try:
            when, count = entry
            hour = hour_of(parse_utc(str(when)))
        except (TypeError, ValueError):
            hour, count = None, None
        if hour is None or not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise StateError(f"its {where} has the entry {entry!r}. {FIX_USAGE}")
        usage[hour] = usage.get(hour, 0) + count
    return usage


def recent(usage: Usage, now: datetime.datetime) -> Usage:
    """The buckets that still count at ``now``: any of their requests within 24 hours."""
    return {hour: count for hour, count in usage.items() if hour + HOUR + DAY > now}


def usage_entries(usage: Usage, now: datetime.datetime) -> list[list[Any]]:
    """The state's form of ``usage``, oldest first, without the buckets that no longer count."""
    return [[format_utc(hour), count] for hour, count in sorted(recent(usage, now).items())]


def when_available(
    usage: Usage, budget: int, needed: int, now: datetime.datetime
) -> datetime.datetime:
    """The first moment from ``now`` at which ``needed`` requests fit in the budget again."""
    used = sum(recent(usage, now).values())
    needed = min(needed, budget)
    moment = now
    for hour, count in sorted(recent(usage, now).items()):
        if budget - used >= needed:
            break
        used -= count
        moment = max(moment, hour + HOUR + DAY)
    return moment


class RequestBudget:
    """The requests this run may send: what the daily budget leaves, less what is reserved.

    ``free`` is neither sent nor reserved; ``held`` is reserved and not yet sent. A request
    takes from ``held`` first (it is one of the reserved ones, whoever sends it), then from
    ``free``. Work must reserve all it may cost before it starts, so taking from the shared
    ``held`` cannot leave other reserved work short, except by retries, which no one plans.
    Thread-safe. ``limit`` None: no budget (every method says yes).
    """

    def __init__(
        self,
        limit: int | None,
        used_before: Usage | None = None,
        ledger: RequestLedger | None = None,
    ) -> None:
        """``limit``: daily_request_budget (None: no limit); ``used_before``: earlier runs' in
        the state; ``ledger``: the company's quota ledger, shared with runs elsewhere."""
        self.limit = limit
        self.ledger = ledger
        now = utc_now()
        in_state = recent(dict(used_before or {}), now)
        in_ledger = recent(ledger.usage(now), now) if ledger is not None else {}
        hours = set(in_state) | set(in_ledger)
        self.usage: Usage = {h: max(in_state.get(h, 0), in_ledger.get(h, 0)) for h in hours}
        # What the state knows and the ledger does not (runs on a runner whose ledger is gone):
        # the ledger counts it on top of its own total whenever it decides.
        self._beyond_ledger = sum(max(0, n - in_ledger.get(h, 0)) for h, n in in_state.items())
        self.used_before = sum(self.usage.values())
        self.free = math.inf if limit is None else max(0, limit - self.used_before)
        self.allowance = self.free  # what this run started with
        self.held = 0
        self.sent = 0
        self.closed = False  # set once work was refused: nothing after it may start
        self._lock = threading.Lock()

    @property
    def unreserved(self) -> float:
        with self._lock:
            return 0 if self.closed else self.free

    def reserve(self, requests: int, *, close_if_refused: bool = True) -> bool:
        """Hold ``requests`` for work about to start; False (and closed) if they do not fit."""
        with self._lock:
            if self.closed or requests > self.free:
                self.closed = self.closed or close_if_refused
                return False
            self.free -= requests
            self.held += requests
            return True

    def release(self, requests: int) -> None:
        """Give back what finished work reserved and did not send."""
        with self._lock:
            back = min(max(0, requests), self.held)
            self.held -= back
            self.free += back

    def close(self) -> None:
        """Start no more work (reservations fail from now on)."""
        with self._lock:
            self.closed = True

    def spend(self) -> None:
        """Count one request about to be sent, or raise BudgetReachedError if none is left:
        in this run, or in the ledger, which runs at once elsewhere may have filled."""
        with self._lock:
            if self.held <= 0 and self.free <= 0:
                self.closed = True
                raise BudgetReachedError
            now = utc_now()
            hour = hour_of(now)
            if self.ledger is not None and not self.ledger.try_spend(
                hour, limit=self.limit, offset=self._beyond_ledger, now=now
            ):
                self.closed = True
                raise BudgetReachedError
            if self.held > 0:
                self.held -= 1
            else:
                self.free -= 1
            self.sent += 1
            self.usage[hour] = self.usage.get(hour, 0) + 1

    def state_entries(self) -> list[list[Any]]:
        """The usage to write into the state: earlier runs' and this run's, by hour."""
        with self._lock:
            return usage_entries(self.usage, utc_now())

    def used_in_window(self) -> int:
        """Requests sent in the last 24 hours, this run's and other runs' in the ledger."""
        return sum(recent(self._current_usage(), utc_now()).values())

    def returns_at(self, needed: int) -> datetime.datetime:
        """When ``needed`` requests fit in the daily budget again."""
        return when_available(self._current_usage(), self.limit or 0, needed, utc_now())

    def _current_usage(self) -> Usage:
        """This run's view of the usage, with what runs elsewhere wrote to the ledger since."""
        with self._lock:
            usage = dict(self.usage)
        if self.ledger is not None:
            for hour, count in self.ledger.usage(utc_now()).items():
                usage[hour] = max(usage.get(hour, 0), count)
        return usage

    def fits(self, needed: int) -> bool:
        """Whether work of ``needed`` requests fits whole; if not, nothing more starts."""
        if needed <= self.allowance:
            return True
        self.close()
        return False

    def stopped(self) -> bool:
        """Whether the budget stopped this run, or kept it from starting."""
        return self.closed or self.allowance <= 0

    def plan_line(self, calls: int, needed: int, per_page: int, rate: float) -> str:
        """The plan of a range run of ``calls`` calls, ``needed`` requests."""
        allowance = int(self.allowance)
        # The streams beside the calls sync first: what they sent is already spent.
        others = self.sent - 1  # the probe is the calls' own first request
        earlier = f" ({others:,} sent by the streams beside the calls)" if others > 0 else ""
        if needed <= allowance - others:
            verdict = "this run covers them"
        else:
            days = math.ceil((needed - allowance + others) / max(1, self.limit or 1))
            verdict = (
                f"this run stops at the budget, then about {days} more day(s) of budget finish "
                f"them (each run resumes from the last STATE)"
            )
        return (
            f"Plan: about {calls:,} calls in the range, about {needed:,} requests ({per_page} "
            f"per 100 calls), {_duration(needed / rate)} at {rate:g} requests/s; daily request "
            f"budget {self.limit or 0:,}, {allowance - self.sent:,} left now{earlier}: {verdict}."
        )

    def stop_line(self, calls_left: int | None, needed: int | None, resume_from: str | None) -> str:
        """Why the run stopped: what the last 24 hours used, what is left, when it returns."""
        limit = self.limit or 0
        used, sent = self.used_in_window(), self.sent
        remaining = (
            "calls left: unknown" if calls_left is None else f"about {calls_left:,} calls left"
        )
        wanted = min(needed if needed is not None else limit, limit)
        back = format_utc(self.returns_at(max(wanted, 1)))
        resume = f"; the next run resumes from {resume_from}" if resume_from else ""
        what = "them" if wanted == needed else f"{wanted:,} requests"
        return (
            f"Daily request budget reached: {used:,} of {limit:,} requests used in the last 24 "
            f"hours ({sent:,} by this run), {remaining}; budget for {what} returns at {back}"
            f"{resume}."
        )

    def state_entry(self) -> dict[str, Any]:
        """The budget's entry in the state: earlier runs' usage and this run's, by hour."""
        return {USAGE_KEY: self.state_entries()}


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
