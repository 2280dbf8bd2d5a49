"""Wrong credentials, missing scopes and bad settings: what a user sees, and what it costs.

Each test runs the installed tap as a whole process against a started emulator. The runs are
independent, so the module fixture ``outcomes`` plays those of the selected tests four at a
time in the background (a tap process is mostly Python starting up), and each test checks its
own: exit code, records, the setting named on stderr, and the requests Gong received.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from gong_emulator import SCOPE_BASIC, seed_calls
from tests.tap_runner import Outcome, Scenario, config, play, play_selected

if TYPE_CHECKING:
    from collections.abc import Iterator
    from concurrent.futures import Future

    from gong_emulator import GongEmulator

pytestmark = pytest.mark.slow  # ~30 tap processes, one per scenario

START, END = "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"
CALLS = seed_calls(8, START)
IDS = [call["id"] for call in CALLS]
TOKEN = "tok-current-5f1e9a"
BEARER = {"access_key": None, "access_key_secret": None}  # with an access_token of its own


MODES = ("ids", "date-range")


def settings_of(emu: GongEmulator, scenario: Scenario) -> dict[str, Any]:
    """A Scenario's settings: CALLS by id, or the day they are in; the tap's default pace."""
    if scenario.mode == "date-range":
        selection: dict[str, Any] = {"start_date": START, "end_date": END}
    else:
        selection = {"call_ids": IDS}
    return config(emu, **{"requests_per_second": None, **selection, **scenario.settings})


def play_one(scenario: Scenario) -> Outcome:
    return play(scenario, CALLS, settings_of)


# -- the scenarios -------------------------------------------------------------------------

# Per scenario: the run, and the setting its error must name.
WRONG_CREDENTIALS = {
    "wrong-key": (Scenario("ids", settings={"access_key": "key-AKIA-revoked-0000"}), "access_key"),
    "wrong-secret": (
        Scenario("ids", settings={"access_key_secret": "secret-old-0000"}),
        "access_key_secret",
    ),
    "wrong-secret-one-get-each": (
        Scenario("ids", settings={"access_key_secret": "secret-old-0000", "batch_call_ids": False}),
        "access_key_secret",
    ),
    "wrong-secret-date-range": (
        Scenario("date-range", settings={"access_key_secret": "secret-old-0000"}),
        "access_key_secret",
    ),
    "expired-token": (
        Scenario(
            "ids",
            settings={**BEARER, "access_token": "tok-expired-0000"},
            emulator={"access_token": TOKEN},
        ),
        "access_token",
    ),
}
NO_EXTENSIVE_SCOPE = {
    f"scope-denied-{status}": Scenario(
        "ids",
        settings={"requests_per_second": 50},
        emulator={"scopes": frozenset({SCOPE_BASIC}), "scope_denied_status": status},
    )
    for status in (403, 401)
}
DATE_RANGE = {"call_ids": None, "start_date": START}
# Per scenario: the settings over a good config, and the setting names stderr must hold.
BAD_CONFIGS: dict[str, tuple[dict[str, Any], tuple[str, ...]]] = {
    "no-credentials": ({"access_key": None, "access_key_secret": None}, ("access_key",)),
    "both-ways-to-authenticate": ({"access_token": TOKEN}, ("access_token", "access_key")),
    "key-without-secret": ({"access_key_secret": None}, ("access_key_secret",)),
    "id-with-letters": ({"call_ids": ["70000000000000000a1"]}, ("call_ids",)),
    "id-of-21-digits": ({"call_ids": ["1" * 21]}, ("call_ids",)),
    "no-ids": ({"call_ids": []}, ("call_ids",)),
    "start-after-end": (
        {**DATE_RANGE, "start_date": "2024-02-01T00:00:00Z", "end_date": START},
        ("start_date", "end_date"),
    ),
    "unparseable-start": ({**DATE_RANGE, "start_date": "last tuesday"}, ("start_date",)),
    "zero-requests-per-second": ({"requests_per_second": 0}, ("requests_per_second",)),
    "negative-requests-per-second": ({"requests_per_second": -1}, ("requests_per_second",)),
    "ftp-url": ({"api_url": "ftp://x"}, ("api_url",)),
    "not-a-url": ({"api_url": "not a url"}, ("api_url",)),
    "nothing-to-extract": ({"call_ids": None}, ("call_ids", "start_date")),
    "id-with-a-trailing-newline": ({"call_ids": ["7000000000000000001\n"]}, ("call_ids",)),
    "workspace-with-a-trailing-space": (
        {**DATE_RANGE, "workspace_id": "5500000000000000000 "},
        ("workspace_id",),
    ),
    "api-url-with-a-path": ({"api_url": "https://api.gong.io/v2"}, ("api_url", "/v2")),
    "api-url-with-a-query": ({"api_url": "https://api.gong.io?x=1"}, ("api_url",)),
    "api-url-with-a-fragment": ({"api_url": "https://api.gong.io/#top"}, ("api_url",)),
    "lookback-of-years": ({**DATE_RANGE, "lookback_days": 4000}, ("lookback_days",)),
    "requests-per-second-absurd": ({"requests_per_second": 10**6}, ("requests_per_second",)),
    "timeout-of-days": ({"request_timeout_seconds": 86400 * 3}, ("request_timeout_seconds",)),
}

SCENARIOS = {
    **{name: scenario for name, (scenario, _) in WRONG_CREDENTIALS.items()},
    **NO_EXTENSIVE_SCOPE,
    **{name: Scenario("ids", settings=settings) for name, (settings, _) in BAD_CONFIGS.items()},
}


@pytest.fixture(scope="module")
def outcomes(request: pytest.FixtureRequest) -> Iterator[dict[str, Future[Outcome]]]:
    """The outcome of each SCENARIOS entry a selected test of this module names."""
    yield from play_selected(request, SCENARIOS, play_one)


# -- auth and scope --------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", WRONG_CREDENTIALS)
def test_wrong_credentials_fail_at_once_naming_the_setting(
    outcomes: dict[str, Future[Outcome]], scenario: str
) -> None:
    outcome = outcomes[scenario].result()

    run, requests = outcome.run, outcome.emu.requests
    assert run.returncode != 0
    # At once: no wait, no retry (the tap logs each wait it takes as "Retrying ... in Ns"), and
    # two requests at most. Counted, not timed: a busy CPU slows the run, not the tap's choices.
    assert "Retrying" not in run.stderr, run.explain()
    assert run.ids == []
    assert 1 <= len(requests) <= 2  # the batch endpoint, then the per-id probe at most
    assert {r.status for r in requests} == {401}
    assert "HTTP 401 from" in run.stderr, run.explain()
    assert WRONG_CREDENTIALS[scenario][1] in run.stderr
    assert "Traceback" not in run.stderr  # one line says it all


@pytest.mark.parametrize("scenario", NO_EXTENSIVE_SCOPE)
def test_missing_extensive_scope_falls_back_to_one_get_each_with_one_warning(
    outcomes: dict[str, Future[Outcome]], scenario: str
) -> None:
    outcome = outcomes[scenario].result()

    run, requests = outcome.run, outcome.emu.requests
    denied = NO_EXTENSIVE_SCOPE[scenario].emulator["scope_denied_status"]
    assert run.returncode == 0, run.explain()
    assert sorted(run.ids) == sorted(IDS)
    assert [(r.method, r.path, r.status) for r in requests[:1]] == [
        ("POST", "/v2/calls/extensive", denied)
    ]
    assert sorted((r.path, r.status) for r in requests[1:]) == [
        (f"/v2/calls/{i}", 200) for i in sorted(IDS)
    ]
    warnings = [line for line in run.stderr.splitlines() if "api:calls:read:extensive" in line]
    assert len(warnings) == 1, run.explain()
    assert "WARNING" in warnings[0]


# -- bad config --------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", list(BAD_CONFIGS))
def test_bad_config_fails_before_any_request_naming_the_setting(
    outcomes: dict[str, Future[Outcome]], scenario: str
) -> None:
    outcome = outcomes[scenario].result()

    run = outcome.run
    assert run.returncode != 0, run.explain()
    assert outcome.emu.requests == []
    assert run.stdout == ""
    for setting in BAD_CONFIGS[scenario][1]:
        assert setting in run.stderr, run.explain()
