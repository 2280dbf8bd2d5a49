"""singer-sdk's standard tap tests, in both modes, against the local Gong emulator."""

from __future__ import annotations

from singer_sdk.testing import SuiteConfig, get_tap_test_class

from gong_emulator import GongEmulator, make_call, seed_calls
from tap_gong_calls.tap import TapGongCalls
from tests.tap_runner import CREDENTIALS

# get_tap_test_class builds the tap at import time, so the server must already be up; it
# serves every test of the session and dies with the process (daemon thread).
EMULATOR = GongEmulator(**CREDENTIALS).start()
CALLS = seed_calls(120, "2024-03-01T00:00:00Z")
EMULATOR.add_calls(CALLS)
EMULATOR.add_call(make_call("8000000000000000001", "2024-03-05T10:00:00+05:30", isPrivate=True))
EMULATOR.seed_company(users=40, reviews=300)  # users, definitions, reviews of these calls

BASE_CONFIG = {**CREDENTIALS, "api_url": EMULATOR.url}

TestTapGongCallsByIds = get_tap_test_class(
    tap_class=TapGongCalls,
    config={**BASE_CONFIG, "call_ids": [c["id"] for c in CALLS[:30]] + ["8000000000000000001"]},
    parse_env_config=False,
    suite_config=SuiteConfig(max_records_limit=50),
)

TestTapGongCallsDateRange = get_tap_test_class(
    tap_class=TapGongCalls,
    config={
        **BASE_CONFIG,
        "start_date": "2024-02-01T00:00:00Z",
        "end_date": "2024-04-01T00:00:00Z",
    },
    parse_env_config=False,
    suite_config=SuiteConfig(max_records_limit=150),
)
