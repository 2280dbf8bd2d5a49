"""What the company holds beside its calls (§17-§21): users (and which are avatars),
workspaces, keyword trackers, scorecards and answered scorecards, each a keyed collection.

Thread-safe: handler threads read while a test adds, changes or removes records. Records go in
and come out as deep copies, so neither side can change the other's.
"""

from __future__ import annotations

import copy
import threading
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

Record = dict[str, Any]
T = TypeVar("T")


class Collection:
    """Records keyed by the string form of one field, in insertion order."""

    def __init__(self, key: str) -> None:
        self.key = key
        self._lock = threading.Lock()
        self._records: dict[str, Record] = {}

    def put(self, records: Iterable[Mapping[str, Any]]) -> list[str]:
        """Add records, replacing any with the same key; returns their keys."""
        fresh = [copy.deepcopy(dict(record)) for record in records]
        keys = []
        for record in fresh:
            if record.get(self.key) is None:
                raise ValueError(f"a record needs its {self.key!r}")
            keys.append(str(record[self.key]))
        with self._lock:
            self._records.update(zip(keys, fresh, strict=True))
        return keys

    def update(self, key: object, changes: Mapping[str, Any]) -> None:
        with self._lock:
            if str(key) not in self._records:
                raise KeyError(key)
            self._records[str(key)].update(copy.deepcopy(dict(changes)))

    def remove(self, key: object) -> None:
        with self._lock:
            self._records.pop(str(key), None)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()

    def all(self) -> list[Record]:
        with self._lock:
            return copy.deepcopy(list(self._records.values()))

    def query(self, answer: Callable[[list[Record]], T]) -> T:
        """A deep copy of what `answer` makes of the held records (in insertion order, not
        copies: it must only read them). A page of many records costs a copy of the page."""
        with self._lock:
            return copy.deepcopy(answer(list(self._records.values())))

    def keys(self) -> set[str]:
        with self._lock:
            return set(self._records)


class OrgStore:
    def __init__(self, company_time_zone: str) -> None:
        self.time_zone = ZoneInfo(company_time_zone)  # the days of the stats filters (§21)
        self.users = Collection("id")
        self.workspaces = Collection("id")
        self.trackers = Collection("trackerId")
        self.scorecards = Collection("scorecardId")
        self.answered = Collection("answeredScorecardId")
        self._lock = threading.Lock()
        self._avatars: set[str] = set()

    def add_users(self, users: Iterable[Mapping[str, Any]], *, avatars: bool) -> None:
        keys = self.users.put(users)
        with self._lock:
            (self._avatars.update if avatars else self._avatars.difference_update)(keys)

    def avatar_ids(self) -> set[str]:
        with self._lock:
            return set(self._avatars)

    def remove_user(self, user_id: object) -> None:
        self.users.remove(user_id)
        with self._lock:
            self._avatars.discard(str(user_id))
