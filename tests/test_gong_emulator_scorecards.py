"""POST /v2/stats/activity/scorecards in the emulator, over HTTP: days in the company's time
zone, the 404s, review methods, paging and reviews added between runs
(docs/gong-api-behaviour.md §21)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest
import requests

from gong_emulator import (
    DEFAULT_COMPANY_TIME_ZONE,
    NO_ANSWERED_SCORECARDS,
    SEED_ID_BASE,
    VISIBILITY_TYPES,
    GongEmulator,
    make_answered_scorecard,
    make_call,
    seed_answered_scorecards,
    seed_calls,
    seed_scorecards,
    seed_users,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

AUTH = ("key", "secret")
PATH = "/v2/stats/activity/scorecards"
START = "2024-03-01T00:00:00Z"  # call 0: 2024-02-29 19:00 in New York
CARDS = seed_scorecards()
MANUAL_CARD, AUTOMATIC_CARD = CARDS[0], CARDS[2]
# 03:30Z on 11 March is still 10 March in New York (EDT since that morning); 04:00Z is 11 March.
LATE_EVENING = datetime(2024, 3, 11, 3, 30, tzinfo=UTC)
MIDNIGHT = datetime(2024, 3, 11, 4, 0, tzinfo=UTC)


def review(
    emu: GongEmulator, call_index: int, when: datetime, answered_id: int, **options: Any
) -> dict[str, Any]:
    call = emu.calls[str(SEED_ID_BASE + call_index)]
    return make_answered_scorecard(
        call,
        options.pop("scorecard", MANUAL_CARD),
        answered_scorecard_id=answered_id,
        review_time=when,
        reviewer_user_id=options.pop("reviewer", str(seed_users(1)[0]["id"])),
        time_zone=emu.company_time_zone,
        **options,
    )


@pytest.fixture
def emu() -> Iterator[GongEmulator]:
    with GongEmulator() as emulator:
        emulator.add_calls(seed_calls(60, START, timedelta(hours=7)))
        emulator.add_users(seed_users(40))
        emulator.add_scorecards(CARDS)
        emulator.add_answered_scorecards(
            [review(emulator, 0, LATE_EVENING, 1), review(emulator, 1, MIDNIGHT, 2)]
        )
        yield emulator


def answered(emu: GongEmulator, cursor: str | None = None, **filters: Any) -> requests.Response:
    body: dict[str, Any] = {"filter": filters, **({"cursor": cursor} if cursor else {})}
    return requests.post(f"{emu.url}{PATH}", json=body, auth=AUTH, timeout=5)


def ids_of(response: requests.Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [item["answeredScorecardId"] for item in response.json()["answeredScorecards"]]


def test_review_days_are_the_company_s_days_with_an_exclusive_end(emu: GongEmulator) -> None:
    assert emu.company_time_zone == DEFAULT_COMPANY_TIME_ZONE == "America/New_York"
    tenth = answered(emu, reviewFromDate="2024-03-10", reviewToDate="2024-03-11")
    eleventh = answered(emu, reviewFromDate="2024-03-11", reviewToDate="2024-03-12")
    open_start = answered(emu, reviewToDate="2024-03-11")
    open_end = answered(emu, reviewFromDate="2024-03-11")

    assert ids_of(tenth) == ids_of(open_start) == [1]
    assert ids_of(eleventh) == ids_of(open_end) == [2]
    served = tenth.json()["answeredScorecards"][0]
    assert served["reviewTime"] == "2024-03-10T23:30:00-04:00"  # written in the company's zone


def test_call_days_are_the_company_s_days_too(emu: GongEmulator) -> None:
    # Call 0 starts 2024-03-01T00:00Z, 29 February in New York; call 1 at 07:00Z, 1 March.
    leap_day = answered(emu, callFromDate="2024-02-29", callToDate="2024-03-01")
    march = answered(emu, callFromDate="2024-03-01", callToDate="2024-03-02")
    both_axes = answered(emu, callFromDate="2024-03-01", reviewToDate="2024-03-11")

    assert ids_of(leap_day) == [1]
    assert ids_of(march) == [2]
    assert both_axes.status_code == 404  # the axes intersect


def test_days_follow_the_configured_zone() -> None:
    with GongEmulator(company_time_zone="Asia/Tokyo") as emu:
        emu.add_calls(seed_calls(2, START))
        emu.add_answered_scorecards([review(emu, 0, LATE_EVENING, 1), review(emu, 1, MIDNIGHT, 2)])
        eleventh = answered(emu, reviewFromDate="2024-03-11", reviewToDate="2024-03-12")
        first = answered(emu, callFromDate="2024-03-01", callToDate="2024-03-02")

    assert ids_of(eleventh) == [1, 2]  # 12:30 and 13:00 on 11 March in Tokyo
    assert eleventh.json()["answeredScorecards"][0]["reviewTime"] == "2024-03-11T12:30:00+09:00"
    assert ids_of(first) == [1, 2]


def test_same_day_and_empty_windows_answer_the_404_with_its_period(emu: GongEmulator) -> None:
    same_day = answered(emu, reviewFromDate="2024-03-10", reviewToDate="2024-03-10")
    backwards = answered(emu, callFromDate="2024-03-02", callToDate="2024-03-01")
    nothing = answered(emu, reviewFromDate="2030-01-01")

    for response in (same_day, backwards, nothing):
        assert response.status_code == 404
        assert response.json()["errors"] == [NO_ANSWERED_SCORECARDS]
    assert NO_ANSWERED_SCORECARDS == (
        "No answered scorecards found corresponding to the provided filters."
    )
    for bad in ("2024-03-10T00:00:00Z", "2024/03/10", "2024-02-30", 20240310):
        assert answered(emu, reviewFromDate=bad).status_code == 400
    assert requests.post(f"{emu.url}{PATH}", json={}, auth=AUTH, timeout=5).status_code == 400


def test_manual_reviews_only_unless_asked(emu: GongEmulator) -> None:
    emu.add_answered_scorecards(
        [review(emu, 5, MIDNIGHT, 3, scorecard=AUTOMATIC_CARD, reviewer=None)]
    )
    default = answered(emu)
    manual = answered(emu, reviewMethod="MANUAL")
    automatic = answered(emu, reviewMethod="AUTOMATIC")
    both = answered(emu, reviewMethod="BOTH")

    assert ids_of(default) == ids_of(manual) == [1, 2]
    assert ids_of(automatic) == [3]
    assert ids_of(both) == [1, 2, 3]
    items = both.json()["answeredScorecards"]
    assert [item["reviewMethod"] for item in items] == ["MANUAL", "MANUAL", "AUTOMATIC"]
    assert items[2]["reviewerUserId"] is None  # nobody reviews an automatic scorecard
    assert all(item["visibilityType"] in VISIBILITY_TYPES for item in items)
    assert answered(emu, reviewMethod="manual").status_code == 400
    assert answered(emu, reviewMethod=["BOTH"]).status_code == 400


def test_user_and_scorecard_filters(emu: GongEmulator) -> None:
    host = emu.calls[str(SEED_ID_BASE)]["primaryUserId"]
    by_user = answered(emu, reviewedUserIds=[host])
    by_card = answered(emu, scorecardIds=[str(MANUAL_CARD["scorecardId"])])
    by_int_card = answered(emu, scorecardIds=[MANUAL_CARD["scorecardId"]])

    assert 1 in ids_of(by_user)
    assert all(item["reviewedUserId"] == int(host) for item in by_user.json()["answeredScorecards"])
    assert ids_of(by_card) == ids_of(by_int_card) == [1, 2]
    assert answered(emu, scorecardIds=[str(CARDS[1]["scorecardId"])]).status_code == 404
    assert answered(emu, reviewedUserIds=[]).status_code == 400
    assert answered(emu, reviewedUserIds=["abc"]).status_code == 400


def test_pages_of_100_with_the_cursor_in_the_body() -> None:
    with GongEmulator() as emu:
        emu.add_calls(seed_calls(80, START))
        users = seed_users(40)
        emu.add_users(users)
        emu.add_answered_scorecards(
            seed_answered_scorecards(emu.calls.values(), users, 150, CARDS, seed=3)
        )
        first = answered(emu, reviewMethod="BOTH")
        cursor = first.json()["records"]["cursor"]
        second = answered(emu, cursor, reviewMethod="BOTH")
        in_query = requests.post(
            f"{emu.url}{PATH}",
            json={"filter": {"reviewMethod": "BOTH"}},
            params={"cursor": cursor},
            auth=AUTH,
            timeout=5,
        )
        moved = answered(emu, cursor, reviewMethod="MANUAL")

    assert first.json()["records"] == {
        "totalRecords": 150,
        "currentPageSize": 100,
        "currentPageNumber": 0,
        "cursor": cursor,
    }
    assert second.json()["records"]["currentPageSize"] == 50
    assert "cursor" not in second.json()["records"]
    assert in_query.json()["answeredScorecards"] == first.json()["answeredScorecards"]
    assert moved.status_code == 400
    items = first.json()["answeredScorecards"] + second.json()["answeredScorecards"]
    times = [datetime.fromisoformat(item["reviewTime"]) for item in items]
    assert times == sorted(times)
    assert len({item["answeredScorecardId"] for item in items}) == 150


def test_seeded_reviews_name_real_calls_and_users_and_are_deterministic() -> None:
    calls, users = seed_calls(50, START), seed_users(40)
    reviews = seed_answered_scorecards(calls, users, 100, CARDS)
    call_ids = {int(call["id"]) for call in calls}
    user_ids = {int(user["id"]) for user in users}
    starts = {int(call["id"]): call["started"] for call in calls}

    assert reviews == seed_answered_scorecards(list(reversed(calls)), users, 100, CARDS)
    assert reviews != seed_answered_scorecards(calls, users, 100, CARDS, seed=1)
    assert {r["callId"] for r in reviews} <= call_ids
    assert all(r["callStartTime"] == starts[r["callId"]] for r in reviews)
    assert {r["reviewedUserId"] for r in reviews} <= user_ids
    manual = [r for r in reviews if r["reviewMethod"] == "MANUAL"]
    assert {r["reviewerUserId"] for r in manual} <= user_ids
    assert 0 < len(manual) < len(reviews)
    for item in reviews:  # published after the call
        assert datetime.fromisoformat(item["reviewTime"]) > datetime.fromisoformat(
            item["callStartTime"]
        )


def test_a_review_published_today_of_an_old_call_shows_up_in_the_next_run() -> None:
    zone = ZoneInfo(DEFAULT_COMPANY_TIME_ZONE)
    today = datetime.now(zone).date()
    weeks_ago = datetime.now(UTC) - timedelta(weeks=5)
    with GongEmulator() as emu:
        emu.add_call(make_call("7782342274025937895", weeks_ago.isoformat(timespec="seconds")))
        emu.add_users(seed_users(40))
        window = {"reviewFromDate": today.isoformat()}
        before = answered(emu, **window)

        fresh = review_of(emu, "7782342274025937895", datetime.now(UTC))
        emu.add_answered_scorecards([fresh])
        after = answered(emu, **window)
        emu.remove_answered_scorecard(fresh["answeredScorecardId"])
        removed = answered(emu, **window)
        counts = [r.path for r in emu.requests].count(PATH)

    assert before.status_code == 404
    assert ids_of(after) == [fresh["answeredScorecardId"]]
    item = after.json()["answeredScorecards"][0]
    assert item["callId"] == 7782342274025937895  # a 19-digit JSON integer, exact
    assert b'"callId":7782342274025937895,' in after.content
    assert datetime.fromisoformat(item["callStartTime"]).date() < today - timedelta(weeks=4)
    assert removed.status_code == 404
    assert counts == 3


def review_of(emu: GongEmulator, call_id: str, when: datetime) -> dict[str, Any]:
    return make_answered_scorecard(
        emu.calls[call_id],
        MANUAL_CARD,
        answered_scorecard_id=99,
        review_time=when,
        reviewer_user_id=str(seed_users(2)[1]["id"]),
    )
