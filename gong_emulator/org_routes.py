"""The endpoints beside the calls (§17-§21): users, workspaces, tracker and scorecard settings,
answered scorecards. Each declares its scope; auth, rate limit and faults are the emulator's."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from .paging import Window, body_filter, filter_hash, id_list, paginate
from .protocol import (
    EARLIEST,
    GONG_ID,
    NO_ANSWERED_SCORECARDS,
    NO_USERS_FOUND,
    PAGE_SIZE,
    SCOPE_SCORECARDS,
    SCOPE_STATS_SCORECARDS,
    SCOPE_TRACKERS,
    SCOPE_USERS,
    SCOPE_WORKSPACES,
    WORKSPACE_NOT_FOUND,
    ApiError,
    RequestRecord,
    parse_time,
)

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from .org_store import OrgStore, Record
    from .routes import Endpoint

_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MICROSECOND = timedelta(microseconds=1)
# reviewMethod filter -> the review methods it returns; MANUAL when absent (§21).
_REVIEW_METHODS = {
    "MANUAL": {"MANUAL"},
    "AUTOMATIC": {"AUTOMATIC"},
    "BOTH": {"MANUAL", "AUTOMATIC"},
}


class OrgRouter:
    def __init__(self, store: OrgStore) -> None:
        self.store = store
        self._endpoints: dict[tuple[str, str], tuple[str, Endpoint]] = {
            ("GET", "/v2/users"): (SCOPE_USERS, self.list_users),
            ("POST", "/v2/users/extensive"): (SCOPE_USERS, self.users_extensive),
            ("GET", "/v2/workspaces"): (SCOPE_WORKSPACES, self.workspaces),
            ("GET", "/v2/settings/trackers"): (SCOPE_TRACKERS, self.trackers),
            ("GET", "/v2/settings/scorecards"): (SCOPE_SCORECARDS, self.scorecards),
            ("POST", "/v2/stats/activity/scorecards"): (
                SCOPE_STATS_SCORECARDS,
                self.answered_scorecards,
            ),
        }

    def route(self, request: RequestRecord) -> tuple[tuple[str, ...], Endpoint] | None:
        """The scope and endpoint for the request, or None when it is not one of these."""
        found = self._endpoints.get((request.method, request.path))
        return None if found is None else ((found[0],), found[1])

    # -- users (§17) ---------------------------------------------------------------------------

    def _users(self, with_avatars: bool) -> list[Record]:
        avatars = set() if with_avatars else self.store.avatar_ids()
        users = [user for user in self.store.users.all() if str(user["id"]) not in avatars]
        # Oldest first by real instant (created carries mixed offsets), then by id.
        users.sort(key=lambda user: (parse_time(user.get("created")) or EARLIEST, str(user["id"])))
        return users

    def list_users(self, request: RequestRecord) -> dict[str, Any]:
        with_avatars = _flag(request.query.get("includeAvatars"))
        bound_to = filter_hash("GET /v2/users", {"includeAvatars": with_avatars})
        users = self._users(with_avatars)
        cursor = request.query.get("cursor")
        records, page = paginate(users, cursor, bound_to, PAGE_SIZE, NO_USERS_FOUND)
        return {"records": records, "users": page}

    def users_extensive(self, request: RequestRecord) -> dict[str, Any]:
        body, filters = body_filter(request)
        user_ids = id_list(filters.get("userIds"))
        window = Window(filters.get("createdFromDateTime"), filters.get("createdToDateTime"))
        users = [
            user
            for user in self._users(_flag(filters.get("includeAvatars")))
            if (user_ids is None or str(user["id"]) in user_ids)
            and window.contains(parse_time(user.get("created")))
        ]
        bound_to = filter_hash("POST /v2/users/extensive", filters)
        cursor = body.get("cursor")
        records, page = paginate(users, cursor, bound_to, PAGE_SIZE, NO_USERS_FOUND)
        return {"records": records, "users": page}

    # -- settings (§18-§20) --------------------------------------------------------------------

    def workspaces(self, request: RequestRecord) -> dict[str, Any]:
        return {"workspaces": self.store.workspaces.all()}

    def trackers(self, request: RequestRecord) -> dict[str, Any]:
        trackers = self.store.trackers.all()
        workspace_id = request.query.get("workspaceId")
        if workspace_id:
            if not GONG_ID.fullmatch(workspace_id):
                raise ApiError(400)
            known = self.store.workspaces.keys() | {str(t.get("workspaceId")) for t in trackers}
            if workspace_id not in known:
                raise ApiError(404, WORKSPACE_NOT_FOUND)
            trackers = [t for t in trackers if str(t.get("workspaceId")) == workspace_id]
        return {"keywordTrackers": trackers}

    def scorecards(self, request: RequestRecord) -> dict[str, Any]:
        return {"scorecards": self.store.scorecards.all()}  # none: 200 with [] (§20)

    # -- answered scorecards (§21) -------------------------------------------------------------

    def answered_scorecards(self, request: RequestRecord) -> dict[str, Any]:
        body, filters = body_filter(request)
        zone = self.store.time_zone
        call_days = DayWindow(filters.get("callFromDate"), filters.get("callToDate"), zone)
        review_days = DayWindow(filters.get("reviewFromDate"), filters.get("reviewToDate"), zone)
        method = filters.get("reviewMethod") or "MANUAL"
        if not isinstance(method, str) or method not in _REVIEW_METHODS:
            raise ApiError(400)
        reviewed = _ids(filters.get("reviewedUserIds"))
        scorecard_ids = _ids(filters.get("scorecardIds"))
        if call_days.empty or review_days.empty:
            raise ApiError(404, NO_ANSWERED_SCORECARDS)  # from == to: no day at all

        def wanted(review: Record) -> bool:
            return (
                review.get("reviewMethod", "MANUAL") in _REVIEW_METHODS[method]
                and (reviewed is None or str(review.get("reviewedUserId")) in reviewed)
                and (scorecard_ids is None or str(review.get("scorecardId")) in scorecard_ids)
                and call_days.contains(_time(review.get("callStartTime")))
                and review_days.contains(_time(review.get("reviewTime")))
            )

        bound_to = filter_hash("POST /v2/stats/activity/scorecards", filters)
        cursor = body.get("cursor")

        def page_of(held: list[Record]) -> tuple[dict[str, Any], list[Record]]:
            matched = sorted(filter(wanted, held), key=_review_order)
            return paginate(matched, cursor, bound_to, PAGE_SIZE, NO_ANSWERED_SCORECARDS)

        # Only the page is copied: an account's tens of thousands of reviews are not, per page.
        records, page = self.store.answered.query(page_of)
        return {"records": records, "answeredScorecards": page}


class DayWindow:
    """`YYYY-MM-DD` bounds in the company's time zone: from inclusive, to exclusive (§21)."""

    def __init__(self, start: object, end: object, zone: ZoneInfo) -> None:
        self.start, self.end, self.zone = _day(start), _day(end), zone

    @property
    def empty(self) -> bool:
        return self.start is not None and self.end is not None and self.start >= self.end

    def contains(self, moment: datetime | None) -> bool:
        if moment is None:
            return self.start is None and self.end is None
        day = _local_day(moment, self.zone)
        return (self.start is None or day >= self.start) and (self.end is None or day < self.end)


def _day(value: object) -> date | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _DAY.fullmatch(value):
        raise ApiError(400)  # a date-time, or a day in another format
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ApiError(400) from None


def _flag(value: object) -> bool:
    """A boolean parameter: JSON true/false, or "true"/"false" in a query string."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ApiError(400)


def _ids(value: object) -> set[str] | None:
    """reviewedUserIds / scorecardIds: numeric strings (or integers); absent means all."""
    if value is None:
        return None
    if not isinstance(value, list) or not value or not all(_numeric(item) for item in value):
        raise ApiError(400)
    return {str(item) for item in value}


def _numeric(item: object) -> bool:
    return (
        isinstance(item, (str, int))
        and not isinstance(item, bool)
        and bool(GONG_ID.fullmatch(str(item)))
    )


def _review_order(review: Record) -> tuple[int, str]:
    text = review.get("reviewTime")
    return (_instant(text) if isinstance(text, str) else 0, str(review["answeredScorecardId"]))


# Every request filters and sorts all the reviews held (tens of thousands in the benchmarks):
# their times are parsed, and placed in the company's days, once.
@lru_cache(maxsize=1 << 17)
def _parsed(text: str) -> datetime | None:
    return parse_time(text)


def _time(value: object) -> datetime | None:
    return _parsed(value) if isinstance(value, str) else None


@lru_cache(maxsize=1 << 17)
def _instant(text: str) -> int:
    """Microseconds since EARLIEST (0 for no time): sorts as the instants do, and fast."""
    moment = _parsed(text)
    return 0 if moment is None else (moment - EARLIEST) // _MICROSECOND


@lru_cache(maxsize=1 << 17)
def _local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()
