"""The streams beside the calls, at the Singer output: users and their managers, the workspaces,
trackers and scorecards, and every review of a call, manual and automatic, once.

Each test runs the installed tap against the emulator (gong_emulator: users paged by a cursor,
avatars only on request, reviews by days in the company's time zone with an exclusive end,
manual only unless asked, the same-day 404) and reads what a user sees.
"""

from __future__ import annotations

import datetime
from collections import Counter
from typing import TYPE_CHECKING, Any

import pytest

from gong_emulator import (
    ALL_SCOPES,
    SCOPE_STATS_SCORECARDS,
    GongEmulator,
    make_answered_scorecard,
    seed_calls,
)
from tests.tap_runner import CREDENTIALS, config, run_tap

if TYPE_CHECKING:
    from tests.tap_runner import TapRun

NOW = datetime.datetime.now(datetime.UTC)
# Calls over 50 days, the last 40 days ago: their reviews (up to 3 weeks later) are all past.
START = (NOW - datetime.timedelta(days=90)).replace(microsecond=0)
CALLS = seed_calls(120, START.isoformat(), datetime.timedelta(hours=10))
TABLES = ("users", "workspaces", "trackers", "scorecards")
REVIEWS = ("answered_scorecards",)
COMPANY = (*TABLES, *REVIEWS)
ZONE = "America/New_York"


@pytest.fixture
def emulator_options() -> dict[str, Any]:
    return {"company_time_zone": ZONE}


@pytest.fixture
def emulator_calls() -> list[dict[str, Any]]:
    return CALLS


@pytest.fixture
def emulator(emulator: GongEmulator) -> GongEmulator:
    emulator.seed_company(users=230, avatars=3, reviews=260)
    return emulator


def settings(emu: GongEmulator, **more: Any) -> dict[str, Any]:
    return config(emu, start_date=START.isoformat(), company_time_zone=ZONE, **more)


def ids(run: TapRun, stream: str, key: str) -> list[str]:
    return [record[key] for record in run.records_of(stream)]


def requests_to(emu: GongEmulator, path: str) -> int:
    return sum(1 for request in emu.requests if request.path == path)


def test_every_user_with_the_fields_gong_sent_and_the_manager_chain_intact(
    emulator: GongEmulator,
) -> None:
    run = run_tap(settings(emulator), streams=("users",))

    assert run.returncode == 0, run.explain()
    users = {record["id"]: record for record in run.records_of("users")}
    people = {k: v for k, v in emulator.users.items() if k not in emulator.avatar_ids}
    assert emulator.avatar_ids
    assert sorted(users) == sorted(people)  # avatars left out
    for user_id, sent in people.items():
        record = users[user_id]
        assert {k: record[k] for k in sent} == {k: sent[k] for k in sent}
    managers = {record["managerId"] for record in users.values()} - {None}
    assert managers <= set(users)  # every manager is a user of the table
    assert requests_to(emulator, "/v2/users") == 3  # 230 users, 100 a page
    activations = [m for m in run.messages if m["type"] == "ACTIVATE_VERSION"]
    assert [m["stream"] for m in activations] == ["users"]
    assert {m.get("version") for m in run.messages if m["type"] == "RECORD"} == {
        activations[0]["version"]
    }


def test_the_definition_tables_come_whole_at_one_request_each(emulator: GongEmulator) -> None:
    run = run_tap(settings(emulator), streams=TABLES)

    assert run.returncode == 0, run.explain()
    assert sorted(ids(run, "workspaces", "id")) == sorted(str(w["id"]) for w in emulator.workspaces)
    assert sorted(ids(run, "trackers", "trackerId")) == sorted(
        str(t["trackerId"]) for t in emulator.trackers
    )
    assert sorted(ids(run, "scorecards", "scorecardId")) == sorted(
        str(s["scorecardId"]) for s in emulator.scorecards
    )
    questions = [q for s in run.records_of("scorecards") for q in s["questions"]]
    assert questions
    assert all(isinstance(q["questionId"], (str, type(None))) for q in questions)
    for path in ("/v2/workspaces", "/v2/settings/trackers", "/v2/settings/scorecards"):
        assert requests_to(emulator, path) == 1
    activated = [m["stream"] for m in run.messages if m["type"] == "ACTIVATE_VERSION"]
    assert sorted(activated) == sorted(TABLES)


def test_a_user_removed_in_gong_leaves_with_the_next_version(emulator: GongEmulator) -> None:
    first = run_tap(settings(emulator), streams=("users",))
    people = [k for k in emulator.users if k not in emulator.avatar_ids]
    gone, promoted = people[-1], people[1]
    emulator.remove_user(gone)
    emulator.update_user(promoted, title="VP Sales", managerId=None)

    second = run_tap(settings(emulator), streams=("users",))

    assert second.returncode == 0, second.explain()
    assert gone not in ids(second, "users", "id")
    (activate,) = [m for m in second.messages if m["type"] == "ACTIVATE_VERSION"]
    (first_activate,) = [m for m in first.messages if m["type"] == "ACTIVATE_VERSION"]
    assert activate["version"] > first_activate["version"]  # rows of older versions: deleted
    (changed,) = [r for r in second.records_of("users") if r["id"] == promoted]
    assert (changed["title"], changed["managerId"]) == ("VP Sales", None)


def test_every_review_manual_and_automatic_once_and_the_bookmark_a_day(
    emulator: GongEmulator,
) -> None:
    run = run_tap(settings(emulator), streams=REVIEWS)

    assert run.returncode == 0, run.explain()
    got = ids(run, "answered_scorecards", "answeredScorecardId")
    assert len(got) == len(set(got))
    assert sorted(got) == sorted(
        str(r["answeredScorecardId"]) for r in emulator.answered_scorecards
    )
    methods = Counter(r["reviewMethod"] for r in run.records_of("answered_scorecards"))
    assert methods["AUTOMATIC"] > 0
    assert methods["MANUAL"] > 0
    state = run.last_state
    assert state is not None
    today = NOW.astimezone(datetime.timezone(datetime.timedelta(hours=-5))).date()
    assert state["bookmarks"]["answered_scorecards"]["review_day"] in {
        today.isoformat(),
        (today + datetime.timedelta(days=1)).isoformat(),  # New York in summer time
        (today - datetime.timedelta(days=1)).isoformat(),
    }


def test_a_review_published_between_runs_of_an_old_call_arrives_at_one_request(
    emulator: GongEmulator,
) -> None:
    first = run_tap(settings(emulator), streams=REVIEWS)
    old_call = CALLS[3]  # weeks old, far behind any call bookmark
    scorecard = emulator.scorecards[0]
    late = make_answered_scorecard(
        old_call,
        scorecard,
        answered_scorecard_id=999_000_000_000_001,
        review_time=NOW.replace(microsecond=0),
        reviewer_user_id=next(iter(emulator.users)),
        time_zone=ZONE,
    )
    emulator.add_answered_scorecards([late])
    emulator.reset_log()
    assert first.returncode == 0, first.explain()

    second = run_tap(settings(emulator), streams=REVIEWS, state=first.last_state)

    assert second.returncode == 0, second.explain()
    assert "999000000000001" in ids(second, "answered_scorecards", "answeredScorecardId")
    assert 1 <= len(emulator.requests) <= 2


def test_call_ids_give_exactly_those_calls_reviews(emulator: GongEmulator) -> None:
    wanted = [CALLS[5]["id"], CALLS[60]["id"], CALLS[61]["id"]]
    run = run_tap(settings(emulator, call_ids=wanted), streams=REVIEWS)

    assert run.returncode == 0, run.explain()
    expected = sorted(
        str(review["answeredScorecardId"])
        for review in emulator.answered_scorecards
        if str(review["callId"]) in wanted
    )
    assert expected
    assert sorted(ids(run, "answered_scorecards", "answeredScorecardId")) == expected
    assert "review_day" not in str(run.last_state)


def test_a_scope_refusal_names_the_stream_before_it_writes() -> None:
    scopes = frozenset(ALL_SCOPES - {SCOPE_STATS_SCORECARDS})
    with GongEmulator(**CREDENTIALS, scopes=scopes) as emu:
        emu.add_calls(CALLS)
        emu.seed_company(users=10, reviews=20)
        run = run_tap(settings(emu), streams=REVIEWS)

    assert run.returncode == 1
    (line,) = [line for line in run.stderr.splitlines() if "lacks the" in line]
    assert "answered_scorecards" in line
    assert "POST /v2/stats/activity/scorecards" in line
    assert SCOPE_STATS_SCORECARDS in line
    assert run.records_of("answered_scorecards") == []
    assert "Traceback" not in run.stderr


def test_the_budget_counts_every_stream_and_a_stopped_run_resumes(emulator: GongEmulator) -> None:
    first = run_tap(settings(emulator, daily_request_budget=4), streams=("users", *REVIEWS))

    assert first.returncode == 0, first.explain()
    assert len(emulator.requests) <= 4
    assert "daily request budget was reached" in first.stderr
    assert "review_day" not in str(first.last_state)  # no bookmark: read again

    second = run_tap(settings(emulator), streams=REVIEWS, state=first.last_state)
    assert second.returncode == 0, second.explain()
    assert len(ids(second, "answered_scorecards", "answeredScorecardId")) == len(
        emulator.answered_scorecards
    )


def test_the_plan_line_counts_what_the_streams_beside_the_calls_sent(
    emulator: GongEmulator,
) -> None:
    # singer-sdk syncs the streams by name: answered_scorecards, then calls, then users.
    run = run_tap(
        settings(emulator, daily_request_budget=500), streams=("calls", *REVIEWS, "users")
    )

    assert run.returncode == 0, run.explain()
    (plan,) = [line for line in run.stderr.splitlines() if "Plan: about" in line]
    reviews = requests_to(emulator, "/v2/stats/activity/scorecards")
    assert reviews == 3  # 260 reviews, 100 a page
    # Their calls' privacy, looked up 100 calls a request (private_calls: metadata).
    before = reviews + requests_to(emulator, "/v2/calls/extensive")
    # The probe is the calls' first request; the reviews' went before it.
    assert f"{500 - before - 1} left now ({before} sent by the streams beside the calls)" in plan
    # The users, read after the calls wrote their state, are in the run's last STATE too.
    assert run.last_state is not None
    recorded = sum(n for _, n in run.last_state["bookmarks"]["calls"]["requests"])
    assert recorded == len(emulator.requests)


@pytest.mark.parametrize("streams", [("users",), ("calls", "users"), (*REVIEWS, "calls")])
def test_the_summary_closes_every_run_and_counts_every_request(
    emulator: GongEmulator, streams: tuple[str, ...]
) -> None:
    run = run_tap(settings(emulator), streams=streams)

    assert run.returncode == 0, run.explain()
    lines = run.stderr.splitlines()
    (summary,) = [line for line in lines if "Summary:" in line]
    assert f"requests {len(emulator.requests)}," in summary
    # After the last stream's sync (singer-sdk syncs them by name).
    last = max(i for i, line in enumerate(lines) if "Beginning" in line and "sync of" in line)
    assert lines.index(summary) > last


@pytest.mark.parametrize(
    ("review_day", "problem"),
    [
        ("2099-01-01", "lies in the future"),
        (20240101, "is not a day"),
        ("yesterday", "is not a day"),
    ],
)
def test_a_reviews_bookmark_the_tap_did_not_write_fails_before_any_request(
    emulator: GongEmulator, review_day: object, problem: str
) -> None:
    state = {"bookmarks": {"answered_scorecards": {"review_day": review_day}}}
    run = run_tap(settings(emulator), streams=REVIEWS, state=state)

    assert run.returncode == 1
    assert emulator.requests == []
    (line,) = [line for line in run.stderr.splitlines() if "review_day" in line]
    assert problem in line
    assert "meltano state set" in line
    assert "Traceback" not in run.stderr
