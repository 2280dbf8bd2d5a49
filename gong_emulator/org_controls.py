"""GongEmulator's controls for what the company holds beside its calls (§17-§21): add, replace,
change and remove users, workspaces, trackers, scorecards and answered scorecards while serving.

Adding a record whose key (`id`, `trackerId`, `scorecardId`, `answeredScorecardId`) is already
held replaces it. Reads return deep copies in insertion order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .company import seed_scorecards, seed_trackers, seed_workspaces
from .people import seed_avatars, seed_users
from .reviews import seed_answered_scorecards

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from .org_store import OrgStore, Record
    from .protocol import Call


class OrgControls:
    """Mixed into GongEmulator, which sets `_org` and provides `calls`."""

    _org: OrgStore

    @property
    def calls(self) -> dict[str, Call]:
        raise NotImplementedError

    @property
    def company_time_zone(self) -> str:
        """The IANA zone whose days the answered-scorecard filters use (§21)."""
        return self._org.time_zone.key

    # -- users (§17) ---------------------------------------------------------------------------

    def add_users(self, users: Iterable[Mapping[str, Any]], *, avatars: bool = False) -> None:
        """Add or replace users; `avatars=True` marks them as avatars (listed on request only)."""
        self._org.add_users(users, avatars=avatars)

    def update_user(self, user_id: str, **changes: Any) -> None:
        """Change fields of a held user, e.g. `update_user(id, managerId=None, active=False)`."""
        self._org.users.update(user_id, changes)

    def remove_user(self, user_id: str) -> None:
        self._org.remove_user(user_id)

    @property
    def users(self) -> dict[str, Record]:
        """Every user, avatars included, by id."""
        return {str(user["id"]): user for user in self._org.users.all()}

    @property
    def avatar_ids(self) -> set[str]:
        return self._org.avatar_ids()

    # -- settings (§18-§20) --------------------------------------------------------------------

    def add_workspaces(self, workspaces: Iterable[Mapping[str, Any]]) -> None:
        self._org.workspaces.put(workspaces)

    def remove_workspace(self, workspace_id: str) -> None:
        self._org.workspaces.remove(workspace_id)

    @property
    def workspaces(self) -> list[Record]:
        return self._org.workspaces.all()

    def add_trackers(self, trackers: Iterable[Mapping[str, Any]]) -> None:
        self._org.trackers.put(trackers)

    def remove_tracker(self, tracker_id: str) -> None:
        self._org.trackers.remove(tracker_id)

    @property
    def trackers(self) -> list[Record]:
        return self._org.trackers.all()

    def add_scorecards(self, scorecards: Iterable[Mapping[str, Any]]) -> None:
        self._org.scorecards.put(scorecards)

    def remove_scorecard(self, scorecard_id: int | str) -> None:
        self._org.scorecards.remove(scorecard_id)

    @property
    def scorecards(self) -> list[Record]:
        return self._org.scorecards.all()

    # -- answered scorecards (§21) -------------------------------------------------------------

    def add_answered_scorecards(self, reviews: Iterable[Mapping[str, Any]]) -> None:
        self._org.answered.put(reviews)

    def remove_answered_scorecard(self, answered_scorecard_id: int | str) -> None:
        self._org.answered.remove(answered_scorecard_id)

    @property
    def answered_scorecards(self) -> list[Record]:
        return self._org.answered.all()

    # -- everything at once --------------------------------------------------------------------

    def seed_company(
        self, users: int = 40, *, avatars: int = 0, reviews: int = 0, seed: int = 0
    ) -> None:
        """Two workspaces, their trackers, the scorecards, `users` users and `avatars` avatars,
        and `reviews` answered scorecards of the calls held now. Deterministic for a seed."""
        workspaces = seed_workspaces(2, seed=seed)
        scorecards = seed_scorecards(seed=seed)
        people = seed_users(users, seed=seed)
        self.add_workspaces(workspaces)
        self.add_trackers(seed_trackers(tuple(w["id"] for w in workspaces), seed=seed))
        self.add_scorecards(scorecards)
        self.add_users(people)
        self.add_users(seed_avatars(avatars, seed=seed), avatars=True)
        calls = self.calls.values()
        self.add_answered_scorecards(
            seed_answered_scorecards(
                calls, people, reviews, scorecards, time_zone=self.company_time_zone, seed=seed
            )
        )
