"""End to end: all nine streams through `meltano run tap-gong-calls target-postgres`, and the
queries of docs/warehouse.md on what landed.

One date-range run against a `GongEmulator` holding 30 calls (one private), a company of 40
users (and 2 avatars, which Gong leaves out), its workspaces, trackers and scorecards, and 60
reviews of those calls. The rows are read back with psycopg: every table holds what Gong sent,
the private call keeps only its metadata row, the keys the guide lists join, and the guide's
calls-per-manager queries, read from the page itself, count what the emulator's org chart says.
The Meltano project (tap and target installed once per session) is conftest's `meltano_project`.
"""

from __future__ import annotations

import collections
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from gong_emulator import make_call, seed_calls
from tests.meltano_helpers import (
    REPO,
    emulator_options,  # noqa: F401 (a fixture, used by name)
    new_database,
    tap_env,
    target_env,
)

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from gong_emulator import GongEmulator
    from tests.meltano_helpers import MeltanoProject

pytestmark = pytest.mark.e2e

NINE = (
    *("calls", "call_participants", "call_details", "call_transcripts"),
    *("users", "workspaces", "trackers", "scorecards", "answered_scorecards"),
)
# What a private call's row keeps with private_calls: metadata (the default).
PRIVATE_METADATA = {"id", "scheduled", "started", "primaryUserId", "workspaceId", "isPrivate"}
CHILDREN = ("call_participants", "call_details", "call_transcripts")
# docs/warehouse.md's key table, but for the trackers inside call_details' JSON (the emulator's
# call trackers are not its tracker definitions: docs/gong-api-behaviour.md §19).
KEYS = (
    ("call_participants", "callId", "calls", "id"),
    ("call_details", "callId", "calls", "id"),
    ("call_transcripts", "callId", "calls", "id"),
    ("answered_scorecards", "callId", "calls", "id"),
    ("calls", "primaryUserId", "users", "id"),
    ("call_participants", "userId", "users", "id"),
    ("answered_scorecards", "reviewedUserId", "users", "id"),
    ("answered_scorecards", "reviewerUserId", "users", "id"),
    ("users", "managerId", "users", "id"),
    ("calls", "workspaceId", "workspaces", "id"),
    ("trackers", "workspaceId", "workspaces", "id"),
    ("scorecards", "workspaceId", "workspaces", "id"),
    ("answered_scorecards", "scorecardId", "scorecards", "scorecardId"),
)


def doc_sql(doc: str, heading: str) -> list[str]:
    """Every ```sql block under ``## <heading>`` of the Markdown file ``doc`` (a path from the
    repository root), as written."""
    text = (REPO / doc).read_text()
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return [block.split("```", 1)[0] for block in section.split("```sql\n")[1:]]


def rows(conn: psycopg.Connection[Any], table: str) -> list[dict[str, Any]]:
    cursor = conn.execute(f"SELECT * FROM gong.{table}")  # a fixed table name, not input
    names = [column.name for column in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def live(table_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows not marked deleted: what the guide's queries count."""
    return [row for row in table_rows if row["_sdc_deleted_at"] is None]


def filled(row: Mapping[str, Any]) -> set[str]:
    """The columns of a row that hold a value, target-postgres' _sdc_ columns left out."""
    return {column for column, value in row.items() if value is not None and column[:5] != "_sdc_"}


def managers_above(users: Mapping[str, Mapping[str, Any]], user_id: str) -> list[str]:
    """The user's manager, the manager's manager, ... (the seeded org chart is a tree)."""
    chain = []
    while (manager := users[user_id].get("managerId")) is not None:
        chain.append(manager)
        user_id = manager
    return chain


def name(user: Mapping[str, Any]) -> str:
    return " ".join(part for part in (user.get("firstName"), user.get("lastName")) if part)


def test_nine_tables_land_join_and_the_documented_calls_per_manager_queries_count(
    meltano_project: MeltanoProject,
    emulator: GongEmulator,
    postgres_url: str,
    tmp_path: Path,
) -> None:
    # Calls 40 days ago: every review (published up to 3 weeks after its call) is in the past.
    first = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=40)
    calls = seed_calls(30, first)
    emulator.add_calls(calls)
    emulator.seed_company(users=40, avatars=2, reviews=60)
    reviews = emulator.answered_scorecards
    # The private call: the one with the most reviews, so that several must stay out.
    reviewed = collections.Counter(str(review["callId"]) for review in reviews)
    private_id = reviewed.most_common(1)[0][0]
    private = next(call for call in calls if call["id"] == private_id)
    emulator.add_call(make_call(private_id, private["started"], isPrivate=True))
    private_reviews = {
        str(review["answeredScorecardId"])  # ids are JSON numbers in Gong, text in the warehouse
        for review in reviews
        if str(review["callId"]) == private_id
    }
    assert len(private_reviews) >= 2
    people = {u: user for u, user in emulator.users.items() if u not in emulator.avatar_ids}
    assert len(people) == 40

    with new_database(postgres_url) as db:
        env = {
            **tap_env(
                emulator,
                streams=NINE,
                start_date=(first - timedelta(days=1)).isoformat(),
                company_time_zone=emulator.company_time_zone,
            ),
            **target_env(db),
            "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'meltano.db'}",  # state of its own
        }

        meltano_project.check("run", "tap-gong-calls", "target-postgres", env=env)

        with psycopg.connect(make_conninfo(**db)) as conn:
            loaded = {table: rows(conn, table) for table in NINE}
            per_manager, per_team = (
                conn.execute(query).fetchall()
                for query in doc_sql("docs/warehouse.md", "Calls per manager")
            )
            dangling = {
                (table, column): conn.execute(
                    f'SELECT count(*) FROM gong.{table} AS child WHERE child."{column}" IS NOT '
                    f'NULL AND NOT EXISTS (SELECT 1 FROM gong.{parent} AS p WHERE p."{key}" = '
                    f'child."{column}" AND p."_sdc_deleted_at" IS NULL) '
                    f'AND child."_sdc_deleted_at" IS NULL'
                ).fetchone()
                for table, column, parent, key in KEYS
            }

    held = {call["id"]: emulator.extensive_of(call["id"]) for call in calls}
    public = [call_id for call_id in held if call_id != private_id]

    # Row counts: what Gong sent, the private call's content and reviews left out.
    assert {table: len(live(table_rows)) for table, table_rows in loaded.items()} == {
        "calls": 30,
        "call_participants": sum(len(held[c].get("parties") or []) for c in public),
        "call_details": 29,
        "call_transcripts": 29,
        "users": 40,  # the avatars are not listed
        "workspaces": len(emulator.workspaces),
        "trackers": len(emulator.trackers),
        "scorecards": len(emulator.scorecards),
        "answered_scorecards": len(reviews) - len(private_reviews),
    }
    assert {row["id"] for row in loaded["users"]} == set(people)

    # The private call: its metadata row, and nothing of its content or reviews but tombstones.
    calls_row = {row["id"]: row for row in loaded["calls"]}[private_id]
    assert filled(calls_row) == PRIVATE_METADATA
    assert calls_row["isPrivate"] is True
    assert calls_row["primaryUserId"] == private["primaryUserId"]
    assert calls_row["_sdc_deleted_at"] is None
    for table, key in (*((t, {"callId"}) for t in CHILDREN[1:]), (CHILDREN[0], {"callId", "id"})):
        of_private = [row for row in loaded[table] if row["callId"] == private_id]
        assert of_private, table  # tombstones: blank, and marked deleted
        assert all(filled(row) <= key for row in of_private), table
        assert all(row["_sdc_deleted_at"] is not None for row in of_private), table
    review_rows = {row["answeredScorecardId"]: row for row in loaded["answered_scorecards"]}
    for review_id in private_reviews:  # tombstones keyed on the review alone, callId null
        assert filled(review_rows[review_id]) == {"answeredScorecardId"}
        assert review_rows[review_id]["_sdc_deleted_at"] is not None
    assert private_id not in {row["callId"] for row in live(loaded["answered_scorecards"])}

    # Every key of the guide's table joins, the manager chain included.
    assert {pair: count for pair, count in dangling.items() if count != (0,)} == {}
    managers = [row["managerId"] for row in loaded["users"]]
    assert sum(manager is None for manager in managers) == 1  # one tree, one root
    assert set(managers) - {None} <= set(people)

    # The guide's queries count each manager's calls as the org chart says: the private call
    # too, whose row keeps its host.
    direct: collections.Counter[str] = collections.Counter()
    team: collections.Counter[str] = collections.Counter()
    for call in calls:
        chain = managers_above(people, str(call["primaryUserId"]))
        direct.update(chain[:1])
        team.update(chain)
    assert len(direct) >= 3
    assert team != direct  # a tree deeper than one level
    for got, expected in ((per_manager, direct), (per_team, team)):
        assert {row[0]: (row[1], row[2]) for row in got} == {
            manager: (name(people[manager]), count) for manager, count in expected.items()
        }
        counts = [row[2] for row in got]
        assert counts == sorted(counts, reverse=True)

    assert meltano_project.hub is not None
    assert not meltano_project.hub.requests, meltano_project.hub.requests
