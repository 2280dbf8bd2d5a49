"""Answered scorecards: every review of a call, manual and automatic, read by the day it was
published, in the company's time zone.

Gong filters reviews by days (``YYYY-MM-DD`` in the company's time zone, From inclusive, To
exclusive; docs/gong-api-behaviour.md §21), and a review can be published long after its call.
So the bookmark is a day, ``bookmarks.answered_scorecards.review_day``: the company's day when
the last complete read ran. The next run reads that day again, so a review published late that
day is never skipped (and, with no ``company_time_zone`` set, the day before it too, which a zone
hours off UTC may hold); the rows read twice are the same rows, upserted on
``answeredScorecardId``. A first run reads from ``start_date``.

With ``call_ids`` there is no bookmark: Gong has no filter by call id, so the calls' days are
looked up (one request per 100 ids) and the reviews of those days kept when their ``callId``
is one of the ids.

A review of a private call is never written (private_calls ``metadata`` or ``exclude``): the
calls of the reviews are looked up (one request per 100 calls not seen before in the run; pages
wait until their new calls fill one) and the reviews of private ones set apart, for their
tombstones.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from tap_gong_calls.extract.batch import chunks
from tap_gong_calls.gong.api import ANSWERED_SCORECARDS, BATCH_SIZE, EXTENSIVE, call_id
from tap_gong_calls.settings import private_calls_of
from tap_gong_calls.state import StateError
from tap_gong_calls.timestamps import parse_utc, utc_now

if TYPE_CHECKING:
    import logging
    from collections.abc import Iterator, Mapping

    from tap_gong_calls.gong.calls import CallsApi
    from tap_gong_calls.gong.company import CompanyApi
    from tap_gong_calls.gong.paging import Item

STREAM = "answered_scorecards"
DAY_KEY = "review_day"
ONE_DAY = datetime.timedelta(days=1)
# Calls this many days apart or more are asked for in separate requests (call_ids).
CLUSTER_GAP_DAYS = 7


class ReviewsRead:
    """The reviews one run reads, and the bookmark it leaves once it read them all."""

    def __init__(
        self,
        company: CompanyApi,
        calls: CallsApi,
        *,
        config: Mapping[str, Any],
        stream_state: Mapping[str, Any],
        call_ids: list[str] | None,
        logger: logging.Logger,
    ) -> None:
        self.company = company
        self.calls = calls
        self.config = config
        self.call_ids = call_ids
        self.logger = logger
        self.zone = ZoneInfo(str(config.get("company_time_zone") or "UTC"))
        self.today = utc_now().astimezone(self.zone).date()
        self.bookmark = read_review_day(stream_state)
        self.splits_private = private_calls_of(config) != "include"
        self.private: dict[str, bool] = {}  # call id -> whether the call is private

    def pages(self) -> Iterator[tuple[list[Item], list[Item]]]:
        """The reviews a page at a time: those to write, and those of private calls."""
        if not self.splits_private:
            for page in self._wanted_pages():
                yield page, []
            return
        # Pages are held until their unknown calls fill a look-up of 100 (a page of reviews
        # names a few dozen new calls): one request per 100 calls, not one per page.
        held: list[list[Item]] = []
        for page in self._wanted_pages():
            held.append(page)
            while len(unknown := self._unknown(held)) >= BATCH_SIZE:
                self._look_up(unknown[:BATCH_SIZE])
                yield from self._released(held)
        self._look_up(self._unknown(held))
        yield from self._released(held)

    def _unknown(self, held: list[list[Item]]) -> list[str]:
        """The calls of the held reviews whose privacy is not known yet, oldest page first."""
        ids = (str(review.get("callId")) for page in held for review in page)
        return [c for c in dict.fromkeys(ids) if c not in self.private]

    def _released(self, held: list[list[Item]]) -> Iterator[tuple[list[Item], list[Item]]]:
        """The leading held pages whose every call is known, split (removed from ``held``)."""
        while held and all(str(r.get("callId")) in self.private for r in held[0]):
            page = held.pop(0)
            private = [r for r in page if self.private[str(r.get("callId"))]]
            yield [r for r in page if not self.private[str(r.get("callId"))]], private

    def _wanted_pages(self) -> Iterator[list[Item]]:
        if self.call_ids is None:
            yield from self._pages(self._review_filter())
            return
        wanted = set(self.call_ids)
        for filters in self._call_filters():
            for page in self._pages(filters):
                yield [review for review in page if str(review.get("callId")) in wanted]

    def _look_up(self, call_ids: list[str]) -> list[Item]:
        """The calls of ``call_ids`` Gong knows, 100 a request; whether each is private, learnt
        on the way (a call Gong no longer knows is not)."""
        found: list[Item] = []
        for chunk in chunks(call_ids):
            self.private.update(dict.fromkeys(chunk, False))
            for item in self.calls.items(EXTENSIVE, {"callIds": chunk}):
                self.private[call_id(item, EXTENSIVE)] = item["metaData"].get("isPrivate") is True
                found.append(item)
        return found

    def state_after(self) -> dict[str, Any] | None:
        """The bookmark once every page was read (None with call_ids: nothing to keep)."""
        if self.call_ids is not None:
            return None
        return {DAY_KEY: self.today.isoformat(), "time_zone": self.zone.key}

    def _pages(self, filters: dict[str, Any]) -> Iterator[list[Item]]:
        # Gong returns manual reviews only unless asked for both (§21).
        body = {"filter": {**filters, "reviewMethod": "BOTH"}}
        yield from self.company.pages(ANSWERED_SCORECARDS, STREAM, body=body)

    def _review_filter(self) -> dict[str, str]:
        if self.bookmark is not None:
            # The bookmark's day is read again (reviews published later that day); without the
            # company's time zone, the day before it too, which a zone hours off may hold.
            start = (
                self.bookmark if self.config.get("company_time_zone") else self.bookmark - ONE_DAY
            )
        else:
            start = parse_utc(str(self.config["start_date"])).astimezone(self.zone).date()
        end = self.today + ONE_DAY
        if end_date := self.config.get("end_date"):
            end = min(end, parse_utc(str(end_date)).astimezone(self.zone).date() + ONE_DAY)
        start = min(start, end - ONE_DAY)  # Gong answers 404 for an empty range of days
        self.logger.info(
            "answered_scorecards: reviews published from %s to %s (days in %s, bookmark %s)",
            start.isoformat(),
            (end - ONE_DAY).isoformat(),
            self.zone.key,
            self.bookmark.isoformat() if self.bookmark else "none",
        )
        return {"reviewFromDate": start.isoformat(), "reviewToDate": end.isoformat()}

    def _call_filters(self) -> Iterator[dict[str, str]]:
        """Filters by the calls' days, one per cluster of days (a day around each, for the
        time zone), for the reviews of the configured calls."""
        call_days: set[datetime.date] = set()
        for item in self._look_up(list(dict.fromkeys(self.call_ids or []))):
            try:
                moment = parse_utc(str(item["metaData"].get("started")))
            except ValueError:
                continue
            call_days.add(moment.astimezone(self.zone).date())
        days = sorted(call_days)
        clusters: list[list[datetime.date]] = []
        for day in days:
            if clusters and (day - clusters[-1][-1]).days < CLUSTER_GAP_DAYS:
                clusters[-1].append(day)
            else:
                clusters.append([day])
        for cluster in clusters:
            yield {
                "callFromDate": (cluster[0] - ONE_DAY).isoformat(),
                "callToDate": (cluster[-1] + 2 * ONE_DAY).isoformat(),
            }


def read_review_day(stream_state: Mapping[str, Any]) -> datetime.date | None:
    """The bookmark of ``answered_scorecards``, or None; StateError for one the tap did not
    write."""
    value = stream_state.get(DAY_KEY)
    if value is None:
        return None
    fix = "Fix or remove it (`meltano state set`); removed, the next run reads from start_date."
    try:
        day = datetime.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        day = None
    if day is None:
        raise StateError(
            f"its bookmarks.{STREAM}.{DAY_KEY} {value!r} is not a day (YYYY-MM-DD). {fix}"
        )
    # Today in any time zone is at most UTC's tomorrow.
    if day > utc_now().date() + ONE_DAY:
        raise StateError(
            f"its bookmarks.{STREAM}.{DAY_KEY} {day.isoformat()} lies in the future: a run from "
            f"it would skip every review until then. {fix}"
        )
    return day
