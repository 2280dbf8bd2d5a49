"""Settings from environment variables, `tap-gong-calls --config ENV`: every number setting.

singer-sdk left a number setting's variable as text (``'2' is not of type 'number'``) and read
an integer setting's with a bare ``int()`` (a traceback on ``2.5``). Each number setting now
takes whole numbers and fractions, each integer setting whole numbers, and anything else fails
before any request with one line naming the setting, its variable and its value.
"""

from __future__ import annotations

import os
import subprocess
from typing import TYPE_CHECKING, Any

import pytest
from singer_sdk.exceptions import ConfigValidationError

from gong_emulator import GongEmulator, seed_calls
from tap_gong_calls.env_numbers import numeric_settings, read_number
from tap_gong_calls.settings import CONFIG_SCHEMA
from tap_gong_calls.tap import TapGongCalls
from tests.tap_runner import CREDENTIALS, TapRun, parse_messages, tap_executable

if TYPE_CHECKING:
    from pathlib import Path

START, END = "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"
CALLS = seed_calls(5, START)
IDS = [call["id"] for call in CALLS]
NUMBERS = (
    "requests_per_second",
    "max_retry_after_seconds",
    "request_timeout_seconds",
    "backoff_base_seconds",
)
INTEGERS = ("lookback_days", "transcript_wait_days", "daily_request_budget")
PREFIX = "TAP_GONG_CALLS_"


@pytest.fixture
def emulator_calls() -> list[dict[str, Any]]:
    return CALLS


def variable(setting: str) -> str:
    return PREFIX + setting.upper()


def run_with_env(settings: dict[str, str], folder: Path, *args: str) -> TapRun:
    """The installed tap run with `--config ENV` and nothing else: every setting a variable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(PREFIX)}
    env.update({variable(name): value for name, value in settings.items()})
    process = subprocess.run(
        [tap_executable(), "--config", "ENV", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=folder,
        check=False,
    )
    return TapRun(
        process.returncode, parse_messages(process.stdout), process.stdout, process.stderr
    )


def base_env(emu: GongEmulator, **settings: str) -> dict[str, str]:
    return {**CREDENTIALS, "api_url": emu.url, "requests_per_second": "400", **settings}


def tap_config(monkeypatch: pytest.MonkeyPatch, **settings: str) -> dict[str, Any]:
    """The config the tap builds from these variables (and the credentials), in-process."""
    for name in [*NUMBERS, *INTEGERS, "call_ids", "start_date"]:
        monkeypatch.delenv(variable(name), raising=False)
    for name, value in {**CREDENTIALS, "call_ids": '["1"]', **settings}.items():
        monkeypatch.setenv(variable(name), value)
    return dict(TapGongCalls(parse_env_config=True).config)


# -- the schema's numeric settings ------------------------------------------------------------


def test_the_numeric_settings_are_these() -> None:
    kinds = numeric_settings(CONFIG_SCHEMA)
    # singer-sdk adds its own settings to the schema once a tap is made: flattening_max_depth, …
    kinds = {name: kind for name, kind in kinds.items() if not name.startswith("flattening_")}

    assert kinds == {**dict.fromkeys(NUMBERS, "number"), **dict.fromkeys(INTEGERS, "integer")}


@pytest.mark.parametrize(
    ("text", "whole", "value"),
    [
        ("2", False, 2),
        ("2.5", False, 2.5),
        ("0.25", False, 0.25),
        (".5", False, 0.5),
        (" 3 ", False, 3),
        ("1e3", False, 1000.0),
        ("2", True, 2),
        ("+7", True, 7),
    ],
)
def test_numbers_are_read(text: str, whole: bool, value: float) -> None:
    read = read_number(text, whole=whole)

    assert read == value
    assert type(read) is type(value)


@pytest.mark.parametrize(
    ("text", "whole"),
    [
        *[("fast", False), ("", False), ("nan", False), ("inf", False), ("1_000", False)],
        *[("2.5", True), ("2.0", True), ("fast", True), ("1e3", True), ("", True)],
    ],
)
def test_what_is_no_number_is_refused(text: str, whole: bool) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 (read_number raises nothing else)
        read_number(text, whole=whole)


# -- in-process: the values the tap's config holds ----------------------------------------------


@pytest.mark.parametrize("setting", NUMBERS)
@pytest.mark.parametrize(("text", "value"), [("2", 2), ("2.5", 2.5), ("0.25", 0.25)])
def test_every_number_setting_takes_whole_numbers_and_fractions(
    monkeypatch: pytest.MonkeyPatch, setting: str, text: str, value: float
) -> None:
    assert tap_config(monkeypatch, **{setting: text})[setting] == value


@pytest.mark.parametrize("setting", INTEGERS)
def test_every_integer_setting_takes_whole_numbers(
    monkeypatch: pytest.MonkeyPatch, setting: str
) -> None:
    assert tap_config(monkeypatch, **{setting: "7"})[setting] == 7


@pytest.mark.parametrize(
    ("setting", "text", "expected"),
    [
        ("requests_per_second", "fast", "is not a number"),
        ("backoff_base_seconds", "1,5", "is not a number"),
        ("lookback_days", "2.5", "is not a whole number"),
        ("daily_request_budget", "lots", "is not a whole number"),
    ],
)
def test_text_that_is_no_number_names_setting_variable_and_value(
    monkeypatch: pytest.MonkeyPatch, setting: str, text: str, expected: str
) -> None:
    with pytest.raises(ConfigValidationError) as raised:
        tap_config(monkeypatch, **{setting: text})

    (error,) = raised.value.errors
    assert error.startswith(f"{setting}: {variable(setting)}={text!r} {expected}")


def test_the_other_kinds_still_parse_as_singer_sdk_parses_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = tap_config(
        monkeypatch,
        call_ids='["7", "8"]',
        batch_call_ids="false",
        stream_maps='{"calls": {"title": "__NULL__"}}',
        flattening_max_depth="3",
    )

    assert config["call_ids"] == ["7", "8"]
    assert config["batch_call_ids"] is False
    assert config["stream_maps"] == {"calls": {"title": "__NULL__"}}
    assert config["flattening_max_depth"] == 3


# -- the installed tap, `--config ENV` ---------------------------------------------------------


@pytest.mark.parametrize(
    "numbers",
    [
        {"requests_per_second": "400", "max_retry_after_seconds": "10"}
        | {"request_timeout_seconds": "30", "backoff_base_seconds": "2"},
        {"requests_per_second": "400.5", "max_retry_after_seconds": "10.25"}
        | {"request_timeout_seconds": "2.5", "backoff_base_seconds": "0.25"},
    ],
    ids=["whole-numbers", "fractions"],
)
def test_config_env_runs_with_every_number_setting(
    emulator: GongEmulator, tmp_path: Path, numbers: dict[str, str]
) -> None:
    integers = {"lookback_days": "2", "transcript_wait_days": "3", "daily_request_budget": "900"}
    range_ = {"start_date": START, "end_date": END}
    run = run_with_env(base_env(emulator, **range_, **numbers, **integers), tmp_path)

    assert run.returncode == 0, run.explain()
    assert sorted(r["id"] for r in run.records_of("calls")) == sorted(IDS)
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize(
    ("setting", "text"),
    [
        ("requests_per_second", "fast"),
        ("request_timeout_seconds", "2,5"),
        ("lookback_days", "2.5"),
        ("transcript_wait_days", "a week"),
    ],
)
def test_config_env_refuses_what_is_no_number_before_any_request(
    emulator: GongEmulator, tmp_path: Path, setting: str, text: str
) -> None:
    run = run_with_env(base_env(emulator, call_ids=f'["{IDS[0]}"]', **{setting: text}), tmp_path)

    assert run.returncode == 1
    assert run.stdout == ""
    assert emulator.requests == []
    assert "Traceback" not in run.stderr
    errors = [line for line in run.stderr.splitlines() if "| ERROR" in line]
    assert f"{setting}: {variable(setting)}={text!r} is not a" in errors[0], run.explain()
