"""The ``calls`` stream: configured call ids, or a date range with a UTC bookmark."""

from __future__ import annotations

import datetime
import itertools
import math
import sys
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jsonschema import Draft202012Validator, FormatChecker
from singer_sdk import SchemaDirectory, StreamSchema
from singer_sdk.exceptions import FatalAPIError

from tap_gong_calls.client import GongStream
from tap_gong_calls.concurrency import map_in_order
from tap_gong_calls.errors import BadResponseError, GongAuthError, NotFoundError
from tap_gong_calls.windows import UTC, WindowPlanner, format_utc, parse_utc

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from importlib.resources.abc import Traversable

    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context, Record

    from tap_gong_calls.client import JSONBody

Call = dict[str, Any]


def _schemas_dir() -> Traversable:
    # A wheel carries the schemas inside the package; an editable install reads the repo's.
    packaged = resources.files("tap_gong_calls") / "schemas"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "schemas"


class CallsStream(GongStream):
    """Gong calls (``CallBasicData``), by configured id or by date range."""

    name = "calls"
    primary_keys = ("id",)
    replication_key = "started"
    schema = StreamSchema(SchemaDirectory(_schemas_dir()))
    BATCH_SIZE = 100  # ids per POST /v2/calls/extensive, as validated against live Gong

    def __init__(self, tap: Tap) -> None:
        super().__init__(tap)
        if self.config.get("call_ids") is not None:
            # A fixed set of ids is read in full on every run: there is no bookmark to keep.
            self.replication_key = None  # type: ignore[assignment]

    @override
    def get_records(self, context: Context | None) -> Iterable[Record]:
        try:
            call_ids = self.config.get("call_ids")
            if call_ids is not None:
                yield from self._calls_by_id(list(call_ids))
            else:
                yield from self._calls_in_range()
        finally:
            self.logger.info(self.stats.summary())

    @override
    def _increment_stream_state(
        self, latest_record: Record, *, context: Context | None = None
    ) -> None:
        # The bookmark is the end of the last completed window, set by _save_bookmark. A
        # per-record bookmark would compare Gong's mixed-offset timestamps as text.
        return

    # -- ids mode -----------------------------------------------------------------------

    def _calls_by_id(self, call_ids: list[str]) -> Iterator[Call]:
        unique = list(dict.fromkeys(call_ids))
        if len(unique) < len(call_ids):
            self.logger.info("Ignoring %d duplicate call_ids", len(call_ids) - len(unique))
        self.stats.requested = len(unique)
        batched = self.config["batch_call_ids"]
        self.logger.info(
            "Mode: call_ids, %d calls, %s",
            len(unique),
            "batched by 100 through POST /v2/calls/extensive"
            if batched
            else "one GET /v2/calls/{id} each",
        )
        found = self._batched(unique) if batched else self._one_by_one(unique)
        for call_id, call in found:
            if call is None:
                self.stats.missing += 1
                self.logger.warning("Call %s was not found in Gong: skipped", call_id)
            elif (checked := self._checked(call, f"call {call_id}")) is not None:
                yield checked
            self.stats.maybe_log_progress(self.logger)
        if self.stats.missing == len(unique):
            raise FatalAPIError(
                f"None of the {len(unique)} call_ids was found in Gong. Check api_url "
                f"({self.url_base}) and that the credentials belong to the company and "
                f"workspace these calls were recorded in."
            )

    def _batched(self, call_ids: list[str]) -> Iterator[tuple[str, Call | None]]:
        batches = [
            call_ids[start : start + self.BATCH_SIZE]
            for start in range(0, len(call_ids), self.BATCH_SIZE)
        ]
        # The first batch goes alone: it tells whether the key may use the endpoint at all.
        try:
            first = self._extensive(batches[0])
        except GongAuthError as exc:
            refused_status = exc.status
        else:
            rest = map_in_order(self._extensive, batches[1:], max_in_flight=self._max_in_flight)
            for batch, found in zip(batches, itertools.chain([first], rest), strict=True):
                for call_id in batch:
                    yield call_id, found.get(call_id)
            return
        # Outside the except block, so a later failure does not read as caused by the refusal.
        yield from self._fall_back_to_one_by_one(call_ids, refused_status)

    def _fall_back_to_one_by_one(
        self, call_ids: list[str], refused_status: int
    ) -> Iterator[tuple[str, Call | None]]:
        # Probe with the per-id endpoint: if it is refused too, the credentials are wrong, and
        # its error says so.
        first = self._get_call(call_ids[0])
        self.logger.warning(
            "POST /v2/calls/extensive was refused (HTTP %d) while GET /v2/calls/{id} works: the "
            "key lacks the api:calls:read:extensive scope. Falling back to one request per call "
            "id; grant that scope to fetch 100 per request, or set batch_call_ids to false to "
            "skip this probe.",
            refused_status,
        )
        yield call_ids[0], first
        yield from self._one_by_one(call_ids[1:])

    def _extensive(self, batch: list[str]) -> dict[str, Call]:
        found: dict[str, Call] = {}
        body = {"filter": {"callIds": batch}}
        for page in self.paginate("POST", "/v2/calls/extensive", body=body):
            for item in _calls_of(page, "POST /v2/calls/extensive"):
                meta = item.get("metaData")
                if not isinstance(meta, dict) or not meta.get("id"):
                    raise BadResponseError(
                        "Gong answered POST /v2/calls/extensive with a call that has no "
                        "metaData.id; the response does not have the documented shape"
                    )
                found[str(meta["id"])] = meta
        return found

    def _one_by_one(self, call_ids: list[str]) -> Iterator[tuple[str, Call | None]]:
        if not call_ids:
            return
        # The first request goes alone, so bad credentials cost one request, not a volley.
        yield call_ids[0], self._get_call(call_ids[0])
        rest = call_ids[1:]
        found = map_in_order(self._get_call, rest, max_in_flight=self._max_in_flight)
        yield from zip(rest, found, strict=True)

    @cached_property
    def _max_in_flight(self) -> int:
        # Enough requests in flight to keep the limiter busy through ~4 s of server latency.
        wanted = math.ceil(4 * float(self.config["requests_per_second"]))
        return min(self.MAX_IN_FLIGHT, max(2, wanted))

    def _get_call(self, call_id: str) -> Call | None:
        """One call by id, or None when Gong says it does not exist (yet)."""
        endpoint = f"GET /v2/calls/{call_id}"
        try:
            body = self.request_json("GET", f"/v2/calls/{call_id}")
        except NotFoundError as exc:
            if any("was not found" in m or "not ready" in m for m in exc.gong_messages):
                return None
            raise FatalAPIError(
                f"{exc}: not Gong's answer for a missing call. Check api_url ({self.url_base})."
            ) from exc
        call = body.get("call")
        if not isinstance(call, dict):
            raise BadResponseError(f"Gong answered {endpoint} without a 'call' object")
        return call

    # -- date-range mode ----------------------------------------------------------------

    def _calls_in_range(self) -> Iterator[Call]:
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
        planner = WindowPlanner(start, end)
        for window_start, window_end in planner:
            calls = 0
            for call in self._calls_listed(window_start, window_end):
                calls += 1
                if (checked := self._checked(call, "GET /v2/calls")) is not None:
                    yield checked
                self.stats.maybe_log_progress(self.logger)
            planner.completed(calls)
            self._save_bookmark(window_end)

    def _calls_listed(
        self, window_start: datetime.datetime, window_end: datetime.datetime
    ) -> Iterator[Call]:
        params = {"fromDateTime": format_utc(window_start), "toDateTime": format_utc(window_end)}
        if workspace_id := self.config.get("workspace_id"):
            params["workspaceId"] = str(workspace_id)
        seen: set[str] = set()  # a call can move between pages while Gong pages; once is enough
        for page in self.paginate("GET", "/v2/calls", params=params):
            for call in _calls_of(page, "GET /v2/calls"):
                call_id = str(call.get("id"))
                if call_id not in seen:
                    seen.add(call_id)
                    yield call

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

    # -- both modes ---------------------------------------------------------------------

    @cached_property
    def _validator(self) -> Draft202012Validator:
        return Draft202012Validator(self.schema, format_checker=FormatChecker())

    def _checked(self, call: Call, source: str) -> Call | None:
        """The call if it matches the schema and is wanted; a clear error if it is malformed."""
        error = next(iter(self._validator.iter_errors(call)), None)
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "the call"
            raise BadResponseError(
                f"Gong sent a call ({source}, id {call.get('id')!r}) that does not match the "
                f"CallBasicData schema: {error.message} at {where}"
            )
        if self.config["exclude_private_calls"] and call.get("isPrivate") is True:
            self.stats.private_skipped += 1
            return None
        self.stats.emitted += 1
        return call


def _calls_of(page: JSONBody, endpoint: str) -> list[dict[str, Any]]:
    calls = page.get("calls")
    if not isinstance(calls, list) or not all(isinstance(c, dict) for c in calls):
        raise BadResponseError(f"Gong answered {endpoint} without a 'calls' list")
    return calls


def _parse_bookmark(value: object) -> datetime.datetime:
    try:
        return parse_utc(str(value))
    except ValueError:
        raise FatalAPIError(
            f"The state's bookmark {value!r} (bookmarks.calls.replication_key_value) is not an "
            f"ISO-8601 date-time: fix or drop the state (meltano run --full-refresh)."
        ) from None
