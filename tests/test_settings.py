"""Settings as JSON and Meltano give them, typos, TLS that cannot work, and a lean ``--test``.

Each test runs the installed tap as a process against the emulator (or a port that cannot
speak TLS) and checks what a user sees: the exit code, the records, and stderr.
"""

from __future__ import annotations

from typing import Any

import pytest

from gong_emulator import GongEmulator, seed_calls
from tap_gong_calls.config_checks import api_url_errors, config_errors
from tests.tap_runner import CREDENTIALS, config, run_tap

CALLS = seed_calls(5)
IDS = [call["id"] for call in CALLS]


@pytest.fixture
def emulator_calls() -> list[dict[str, Any]]:
    return CALLS


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "| ERROR" in line]


# -- numbers as JSON and Meltano write them -------------------------------------------------


@pytest.mark.parametrize(
    "numbers",
    [
        {"request_timeout_seconds": 30.5, "backoff_base_seconds": 0.5},
        {"request_timeout_seconds": 2.0, "requests_per_second": 2.5},
        {"max_retry_after_seconds": 10.25, "requests_per_second": 400.0, "lookback_days": 2},
    ],
    ids=["fractions", "whole-floats", "more-fractions"],
)
def test_fractional_numbers_run(emulator: GongEmulator, numbers: dict[str, Any]) -> None:
    # singer-sdk reads every JSON fraction of the config file as a Decimal.
    run = run_tap(config(emulator, call_ids=IDS, **numbers))

    assert run.returncode == 0, run.explain()
    assert sorted(run.ids) == sorted(IDS)


def test_an_unknown_setting_gets_one_warning_naming_it(emulator: GongEmulator) -> None:
    run = run_tap(config(emulator, call_ids=IDS, lookback_day=3, requests_per_secnd=1))

    assert run.returncode == 0, run.explain()
    warnings = [line for line in run.stderr.splitlines() if "unknown setting" in line]
    assert len(warnings) == 1, run.explain()
    assert "lookback_day, requests_per_secnd" in warnings[0]


# -- checks the JSON Schema cannot state -----------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://api.gong.io/v2",
        "https://api.gong.io/v2/calls",
        "https://x.io?a=1",
        "https://x.io#f",
    ],
)
def test_an_api_url_with_more_than_a_host_is_refused(url: str) -> None:
    errors = api_url_errors(url)

    assert len(errors) == 1
    assert errors[0].startswith(f"api_url {url!r} must be only a scheme and host")


@pytest.mark.parametrize(
    "url", ["https://api.gong.io", "https://us-1.api.gong.io/", "http://[::1]:8"]
)
def test_a_scheme_and_host_are_enough(url: str) -> None:
    assert api_url_errors(url) == []


@pytest.mark.parametrize("bad", ["1\n", " 1", "1 ", "١٢٣", "12a"])
def test_ids_must_match_in_full(bad: str) -> None:
    errors = config_errors({**CREDENTIALS, "api_url": "https://api.gong.io", "call_ids": [bad]})
    assert [e for e in errors if "call_ids" in e and repr(bad) in e], errors
    errors = config_errors(
        {**CREDENTIALS, "api_url": "https://api.gong.io", "start_date": "2024", "workspace_id": bad}
    )
    assert [e for e in errors if "workspace_id" in e], errors


# -- TLS that cannot work ----------------------------------------------------------------------


def test_https_to_a_plain_http_port_fails_at_once_naming_api_url(emulator: GongEmulator) -> None:
    url = emulator.url.replace("http://", "https://")
    run = run_tap(config(emulator, call_ids=IDS, api_url=url))

    assert run.returncode == 1
    assert run.records == []
    assert "Retrying" not in run.stderr  # a TLS mismatch does not heal by waiting
    assert "WRONG_VERSION_NUMBER" in run.stderr, run.explain()
    assert "Check api_url" in run.stderr
    assert "Traceback" not in run.stderr


# -- --test ------------------------------------------------------------------------------------


def test_the_connection_test_needs_only_credentials_and_api_url(emulator: GongEmulator) -> None:
    run = run_tap({**CREDENTIALS, "api_url": emulator.url}, args=("--test",))

    assert run.returncode == 0, run.explain()
    assert "Connection test passed" in run.stderr
    assert [(r.method, r.path) for r in emulator.requests] == [("GET", "/v2/calls")]


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"access_key_secret": None}, "access_key_secret is not set"),
        ({"api_url": "https://api.gong.io/v2"}, "must be only a scheme and host"),
        ({"access_key_secret": "secret-old-0000"}, "HTTP 401 from GET /v2/calls"),
    ],
    ids=["no-secret", "api-url-with-path", "wrong-secret"],
)
def test_a_failed_connection_test_says_what_in_a_line_or_two(
    emulator: GongEmulator, settings: dict[str, Any], named: str
) -> None:
    given = {**CREDENTIALS, "api_url": emulator.url, **settings}
    run = run_tap({k: v for k, v in given.items() if v is not None}, args=("--test",))

    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    errors = error_lines(run.stderr)
    assert 1 <= len(errors) <= 2, run.explain()
    assert named in errors[0]
    assert "Connection test failed" in errors[0]
