"""The endpoints beside the calls in the emulator, over HTTP: users, workspaces, tracker and
scorecard settings (docs/gong-api-behaviour.md §17-§20)."""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests

from gong_emulator import (
    ALL_SCOPES,
    DEFAULT_WORKSPACE_ID,
    NO_USERS_FOUND,
    SCOPE_SCORECARDS,
    SCOPE_STATS_SCORECARDS,
    SCOPE_TRACKERS,
    SCOPE_USERS,
    SCOPE_WORKSPACES,
    USER_ID_BASE,
    WORKSPACE_NOT_FOUND,
    Fault,
    GongEmulator,
    seed_avatars,
    seed_scorecards,
    seed_trackers,
    seed_users,
    seed_workspaces,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

AUTH = ("key", "secret")
REPO_ROOT = Path(__file__).resolve().parent.parent
USER_FIELDS = {
    "id",
    "emailAddress",
    "created",
    "active",
    "emailAliases",
    "trustedEmailAddress",
    "firstName",
    "lastName",
    "title",
    "phoneNumber",
    "extension",
    "personalMeetingUrls",
    "settings",
    "managerId",
    "meetingConsentPageUrl",
    "spokenLanguages",
}


@pytest.fixture
def emu() -> Iterator[GongEmulator]:
    with GongEmulator() as emulator:
        emulator.add_users(seed_users(250))
        emulator.add_users(seed_avatars(2), avatars=True)
        yield emulator


def get(emu: GongEmulator, path: str, **params: str) -> requests.Response:
    return requests.get(f"{emu.url}{path}", params=params, auth=AUTH, timeout=5)


def post(emu: GongEmulator, path: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(f"{emu.url}{path}", json=body, auth=AUTH, timeout=5)


def utc(text: str) -> str:
    moment = datetime.fromisoformat(text).astimezone(UTC)
    return moment.isoformat().replace("+00:00", "Z")


def all_users(emu: GongEmulator, **params: str) -> list[dict[str, Any]]:
    pages, cursor = [], None
    while True:
        response = get(emu, "/v2/users", **params, **({"cursor": cursor} if cursor else {}))
        assert response.status_code == 200, response.text
        pages.append(response.json())
        cursor = pages[-1]["records"].get("cursor")
        if cursor is None:
            break
    assert [p["records"]["currentPageNumber"] for p in pages] == list(range(len(pages)))
    return [user for page in pages for user in page["users"]]


def test_users_page_by_100_with_a_query_cursor(emu: GongEmulator) -> None:
    first = get(emu, "/v2/users").json()
    users = all_users(emu)

    assert first["records"]["totalRecords"] == 250
    assert first["records"]["currentPageSize"] == 100
    assert [user["id"] for user in users] == [str(USER_ID_BASE + i) for i in range(250)]
    assert all(set(user) == USER_FIELDS for user in users)
    assert set(users[0]["settings"]) >= {"webConferencesRecorded", "gongConnectEnabled"}
    moved = get(emu, "/v2/users", includeAvatars="true", cursor=first["records"]["cursor"])
    assert moved.status_code == 400  # the cursor is bound to its request inputs
    assert len([r for r in emu.requests if r.path == "/v2/users"]) == 5


def test_avatars_only_on_request(emu: GongEmulator) -> None:
    avatars = emu.avatar_ids
    listed = {user["id"] for user in all_users(emu)}
    with_avatars = {user["id"] for user in all_users(emu, includeAvatars="true")}
    by_filter = post(emu, "/v2/users/extensive", {"filter": {"includeAvatars": True}})
    without = post(emu, "/v2/users/extensive", {"filter": {"userIds": sorted(avatars)}})

    assert len(avatars) == 2
    assert not listed & avatars
    assert with_avatars == listed | avatars
    assert get(emu, "/v2/users", includeAvatars="false").json()["records"]["totalRecords"] == 250
    assert get(emu, "/v2/users", includeAvatars="maybe").status_code == 400
    assert by_filter.json()["records"]["totalRecords"] == 252
    assert (without.status_code, without.json()["errors"]) == (404, [NO_USERS_FOUND])


def test_users_extensive_filters_ids_and_creation_window(emu: GongEmulator) -> None:
    users = emu.users
    third, fifth = users[str(USER_ID_BASE + 3)], users[str(USER_ID_BASE + 5)]
    assert third["created"].endswith("-08:00")
    # Bounds in UTC, the users' times in -08:00: instants count, not strings.
    window = {
        "createdFromDateTime": utc(third["created"]),
        "createdToDateTime": utc(fifth["created"]),
    }
    ids = [str(USER_ID_BASE + i) for i in (1, 3, 4, 9)]

    by_window = post(emu, "/v2/users/extensive", {"filter": window})
    both = post(emu, "/v2/users/extensive", {"filter": {**window, "userIds": ids}})
    paged = post(emu, "/v2/users/extensive", {"filter": {}})
    second = post(
        emu, "/v2/users/extensive", {"filter": {}, "cursor": paged.json()["records"]["cursor"]}
    )

    assert [u["id"] for u in by_window.json()["users"]] == [third["id"], users[ids[2]]["id"]]
    assert [u["id"] for u in both.json()["users"]] == [ids[1], ids[2]]
    assert second.json()["records"]["currentPageNumber"] == 1
    assert post(emu, "/v2/users/extensive", {"filter": {"userIds": []}}).status_code == 400
    assert post(emu, "/v2/users/extensive", {}).status_code == 400
    no_zone = post(emu, "/v2/users/extensive", {"filter": {"createdFromDateTime": "2019-01-01"}})
    assert no_zone.status_code == 400


def test_manager_tree_and_changes_between_runs(emu: GongEmulator) -> None:
    before = {user["id"]: user for user in all_users(emu)}
    roots = [user for user in before.values() if user["managerId"] is None]
    assert [root["id"] for root in roots] == [str(USER_ID_BASE)]
    for user in before.values():  # every chain ends at the root, without a cycle
        seen, step = set(), user
        while step["managerId"] is not None:
            assert step["id"] not in seen
            seen.add(step["id"])
            step = before[step["managerId"]]
        assert step["id"] == str(USER_ID_BASE)

    moved, gone = str(USER_ID_BASE + 7), str(USER_ID_BASE + 12)
    emu.update_user(moved, managerId=str(USER_ID_BASE + 1), title="VP Sales", active=False)
    emu.remove_user(gone)
    after = {user["id"]: user for user in all_users(emu)}

    assert gone not in after
    assert len(after) == 249
    assert (after[moved]["managerId"], after[moved]["title"], after[moved]["active"]) == (
        str(USER_ID_BASE + 1),
        "VP Sales",
        False,
    )
    with pytest.raises(KeyError):
        emu.update_user("1", title="nobody")


def test_workspaces_trackers_and_scorecards() -> None:
    with GongEmulator() as emu:
        empty_scorecards = get(emu, "/v2/settings/scorecards")
        workspaces = seed_workspaces(2)
        emu.add_workspaces(workspaces)
        emu.add_trackers(seed_trackers((workspaces[0]["id"], workspaces[1]["id"])))
        emu.add_scorecards(seed_scorecards())

        listed = get(emu, "/v2/workspaces").json()
        trackers = get(emu, "/v2/settings/trackers").json()["keywordTrackers"]
        second = get(emu, "/v2/settings/trackers", workspaceId=workspaces[1]["id"]).json()
        unknown = get(emu, "/v2/settings/trackers", workspaceId="1")
        scorecards = get(emu, "/v2/settings/scorecards").json()["scorecards"]

    assert (empty_scorecards.status_code, empty_scorecards.json()["scorecards"]) == (200, [])
    assert set(listed) == {"requestId", "workspaces"}  # no paging
    assert listed["workspaces"] == workspaces
    assert workspaces[0]["id"] == DEFAULT_WORKSPACE_ID
    assert len(trackers) == 8
    assert {t["workspaceId"] for t in second["keywordTrackers"]} == {workspaces[1]["id"]}
    assert (unknown.status_code, unknown.json()["errors"]) == (404, [WORKSPACE_NOT_FOUND])
    assert trackers[0]["creatorUserId"] is None  # built in
    assert {"language", "keywords", "includeRelatedForms"} == set(
        trackers[0]["languageKeywords"][0]
    )
    assert {card["reviewMethod"] for card in scorecards} == {"MANUAL", "AUTOMATIC"}
    assert all(isinstance(card["scorecardId"], int) for card in scorecards)
    questions = scorecards[0]["questions"]
    assert [q["questionType"] for q in questions][:2] == ["RANGE", "SINGLE_SELECT"]
    assert [q["isOverall"] for q in questions].count(True) == 1
    assert questions[1]["answerOptions"][0] == {"id": 1, "text": "Yes"}


ENDPOINTS: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    SCOPE_USERS: ("GET", "/v2/users", None),
    SCOPE_WORKSPACES: ("GET", "/v2/workspaces", None),
    SCOPE_TRACKERS: ("GET", "/v2/settings/trackers", None),
    SCOPE_SCORECARDS: ("GET", "/v2/settings/scorecards", None),
    SCOPE_STATS_SCORECARDS: ("POST", "/v2/stats/activity/scorecards", {"filter": {}}),
}


@pytest.mark.parametrize("missing", sorted(ENDPOINTS))
def test_each_endpoint_needs_its_scope(missing: str) -> None:
    assert set(ENDPOINTS) <= ALL_SCOPES
    with GongEmulator(scopes=ALL_SCOPES - {missing}) as emu:
        emu.add_users(seed_users(3))
        statuses = {
            scope: requests.request(
                method, f"{emu.url}{path}", json=body, auth=AUTH, timeout=5
            ).status_code
            for scope, (method, path, body) in ENDPOINTS.items()
        }
    assert statuses[missing] == 403
    assert {status for scope, status in statuses.items() if scope != missing} <= {200, 404}


def test_faults_and_the_request_log_cover_the_new_endpoints(emu: GongEmulator) -> None:
    emu.inject(Fault("status", path="/v2/users", status=503))
    assert get(emu, "/v2/users").status_code == 503
    assert get(emu, "/v2/users").status_code == 200
    assert get(emu, "/v2/users", cursor="junk").status_code == 400
    assert [(r.path, r.status, r.fault) for r in emu.requests] == [
        ("/v2/users", 503, "status"),
        ("/v2/users", 200, None),
        ("/v2/users", 400, None),
    ]


def test_seeds_are_deterministic_for_a_seed() -> None:
    assert seed_users(60) == seed_users(60)
    assert seed_users(60, seed=1) != seed_users(60)
    assert [u["id"] for u in seed_users(3, seed=1)] == [str(USER_ID_BASE + i) for i in range(3)]
    assert seed_trackers() == seed_trackers()
    assert seed_scorecards(seed=2) == seed_scorecards(seed=2) != seed_scorecards()
    assert seed_avatars(2) == seed_avatars(2)
    assert len({u["emailAddress"] for u in seed_users(200)}) == 200


def test_command_line_seeds_users_and_reviews() -> None:
    command = [sys.executable, "-m", "gong_emulator", "--port", "0", "--calls", "30"]
    command += ["--rate-limit", "0", "--users", "7", "--reviews", "12", "--avatars", "1"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT) as process:
        try:
            assert process.stdout is not None
            url = process.stdout.readline().strip().rsplit(" ", 1)[1]
            users = requests.get(f"{url}/v2/users", auth=AUTH, timeout=5).json()
            reviews = requests.post(
                f"{url}/v2/stats/activity/scorecards",
                json={"filter": {"reviewMethod": "BOTH"}},
                auth=AUTH,
                timeout=5,
            ).json()
            assert users["records"]["totalRecords"] == 7
            assert reviews["records"]["totalRecords"] == 12
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=5) == 0
