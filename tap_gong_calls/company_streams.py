"""The streams beside the calls: who the reps and managers are, the workspaces, the keyword
trackers, the scorecards, and every review of a call.

The four definition tables come whole on every run (users: every user, every run, since Gong
has no "changed since" filter and a new manager, title or deactivation must arrive) and send
ACTIVATE_VERSION once read to the end, so a row removed in Gong is marked deleted in the
warehouse. Reviews are read by the day they were published (extract/reviews.py).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, ClassVar

from tap_gong_calls.extract.reviews import ReviewsRead
from tap_gong_calls.gong.api import SCORECARDS, TRACKERS, USERS, WORKSPACES
from tap_gong_calls.gong.calls import CallsApi
from tap_gong_calls.gong.company import CompanyApi
from tap_gong_calls.gong.errors import BudgetReachedError
from tap_gong_calls.sdk_overrides import WindowBookmarkedStream
from tap_gong_calls.settings import by_ids, call_ids_of
from tap_gong_calls.stream_base import DELETED_AT, ValidatedStream
from tap_gong_calls.timestamps import format_utc, utc_now

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context, Record

    from tap_gong_calls.extract.run import SharedBudget
    from tap_gong_calls.gong.api import Endpoint
    from tap_gong_calls.gong.client import GongClient
    from tap_gong_calls.stream_base import RunClosing


class CompanyStream(ValidatedStream):
    """A stream read through the run's client, counted against the run's one budget."""

    def __init__(
        self, tap: Tap, client: GongClient, budget: SharedBudget, closing: RunClosing
    ) -> None:
        super().__init__(tap)
        self.client = client
        self.budget = budget
        self.closing = closing

    def stopped_at_budget(self) -> None:
        self.logger.warning(
            "%s: the daily request budget was reached before this stream was read to its end; "
            "%s The next run reads it again.",
            self.name,
            "no row is marked deleted." if not self.replication_key else "its bookmark stays.",
        )


class TableStream(CompanyStream):
    """A table Gong sends whole, read every run; its version activated once read to the end."""

    endpoint: ClassVar[Endpoint]

    def params(self) -> dict[str, str] | None:
        """The endpoint's query parameters."""
        return None

    @override
    def get_records(self, context: Context | None) -> Iterable[Record]:
        self.budget.get()  # every request of the run counts against the one budget
        self.use_version(self.run_version)
        key = (self.primary_keys or ("id",))[0]
        try:
            for page in CompanyApi(self.client).pages(
                self.endpoint, self.name, params=self.params()
            ):
                for item in page:
                    yield self.checked(item, f"a {self.name} record ({key} {item.get(key)!r})")
        except BudgetReachedError:
            self.stopped_at_budget()
            return
        finally:
            self.budget.record_usage()  # streams sync in any order: the calls may be done
            self.closing.done(self.name)
        self.activate_version()  # every row of another version is gone from Gong
        self.logger.info("%s: read whole; ACTIVATE_VERSION sent", self.name)


class UsersStream(TableStream):
    """Gong's users, avatars excluded; ``managerId`` is the manager's ``id``."""

    name = "users"
    primary_keys = ("id",)
    endpoint = USERS  # without includeAvatars: Gong leaves the synthetic avatar users out


class WorkspacesStream(TableStream):
    """The company's workspaces: what every ``workspaceId`` names."""

    name = "workspaces"
    primary_keys = ("id",)
    endpoint = WORKSPACES


class TrackersStream(TableStream):
    """Keyword tracker definitions (smart trackers have none in the API)."""

    name = "trackers"
    primary_keys = ("trackerId",)
    endpoint = TRACKERS

    @override
    def params(self) -> dict[str, str] | None:
        workspace_id = self.config.get("workspace_id")
        return {"workspaceId": str(workspace_id)} if workspace_id else None


class ScorecardsStream(TableStream):
    """Scorecard definitions, their questions nested."""

    name = "scorecards"
    primary_keys = ("scorecardId",)
    endpoint = SCORECARDS


class AnsweredScorecardsStream(CompanyStream, WindowBookmarkedStream):
    """One record per review of a call, manual and automatic, by the day it was published."""

    name = "answered_scorecards"
    primary_keys = ("answeredScorecardId",)
    replication_key = "reviewTime"

    def __init__(
        self, tap: Tap, client: GongClient, budget: SharedBudget, closing: RunClosing
    ) -> None:
        super().__init__(tap, client, budget, closing)
        if by_ids(self.config):  # the reviews of those calls, every run
            self.replication_key = None  # type: ignore[assignment]

    @override
    def get_records(self, context: Context | None) -> Iterable[Record]:
        self.budget.get()
        read = ReviewsRead(
            CompanyApi(self.client),
            CallsApi(self.client, workspace_id=self.config.get("workspace_id")),
            config=self.config,
            stream_state=self.stream_state,
            call_ids=call_ids_of(self.config),
            logger=self.logger,
        )
        try:
            yield from self._reviews(read.pages())
        except BudgetReachedError:
            self.stopped_at_budget()
            return
        finally:
            self.budget.record_usage()
            self.closing.done(self.name)
        if (entries := read.state_after()) is not None:
            self.write_bookmark(entries)

    def _reviews(self, pages: Iterator[tuple[list[Record], list[Record]]]) -> Iterator[Record]:
        deleted_at = format_utc(utc_now())
        for page, of_private_calls in pages:
            for review in page:
                source = f"a review (answeredScorecardId {review.get('answeredScorecardId')!r})"
                yield self.checked(review, source)
            for review in of_private_calls:  # blank a copy loaded before the call turned private
                key = review.get("answeredScorecardId")
                yield self.checked(
                    {"answeredScorecardId": key, DELETED_AT: deleted_at},
                    f"the tombstone of review {key!r} of a private call",
                )
