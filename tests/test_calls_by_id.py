"""Configured call ids: what a user sees on stdout and stderr, and what it costs in requests."""

from __future__ import annotations

import json
import subprocess
from typing import TYPE_CHECKING

import pytest

from gong_emulator import Fault, GongEmulator, make_call, seed_calls
from tests.tap_runner import CREDENTIALS, config, run_tap, tap_executable

if TYPE_CHECKING:
    from typing import Any

CALLS = seed_calls(250, "2024-01-01T00:00:00Z")
IDS = [c["id"] for c in CALLS]
MISSING = ["1234567890123456789", "42"]


@pytest.fixture
def emulator_calls() -> list[dict[str, Any]]:
    return CALLS


def test_batched_ids_cost_three_requests_for_250_and_come_in_configured_order(
    emulator: GongEmulator,
) -> None:
    wanted = list(reversed(IDS)) + MISSING
    run = run_tap(config(emulator, call_ids=wanted))

    assert run.returncode == 0, run.explain()
    assert next(m["type"] for m in run.messages) == "SCHEMA"
    assert run.ids == list(reversed(IDS))
    # Exactly as Gong sent them (_sdc_deleted_at null: no tombstone).
    assert run.records == [{**emulator.calls[i], "_sdc_deleted_at": None} for i in reversed(IDS)]
    assert run.last_state is not None
    assert [(r.method, r.path) for r in emulator.requests] == [("POST", "/v2/calls/extensive")] * 3
    for call_id in MISSING:
        assert f"Call {call_id} was not found in Gong: skipped" in run.stderr
    assert "Summary: requested 252, emitted 250, missing 2" in run.stderr
    assert "requests 3, 429s 0" in run.stderr


def test_unbatched_ids_cost_one_get_each(emulator: GongEmulator) -> None:
    run = run_tap(config(emulator, call_ids=IDS + MISSING[:1], batch_call_ids=False))

    assert run.returncode == 0, run.explain()
    assert run.ids == IDS
    assert sorted(r.path for r in emulator.requests) == sorted(
        f"/v2/calls/{i}" for i in IDS + MISSING[:1]
    )
    assert f"Call {MISSING[0]} was not found in Gong: skipped" in run.stderr
    assert (
        "Summary: requested 251, emitted 250, missing 1, private: 0 metadata only, requests 251"
        in (run.stderr)
    )


@pytest.mark.parametrize("batch", [True, False])
def test_duplicate_ids_are_fetched_once(emulator: GongEmulator, batch: bool) -> None:
    wanted = [IDS[0], IDS[1], IDS[0], IDS[1], IDS[2]]
    run = run_tap(config(emulator, call_ids=wanted, batch_call_ids=batch))

    assert run.returncode == 0, run.explain()
    assert run.ids == IDS[:3]
    assert len(emulator.requests) == (1 if batch else 3)
    assert "Ignoring 2 duplicate call_ids" in run.stderr


@pytest.mark.parametrize("batch", [True, False])
def test_every_id_missing_fails_the_run(emulator: GongEmulator, batch: bool) -> None:
    run = run_tap(config(emulator, call_ids=MISSING, batch_call_ids=batch))

    assert run.returncode != 0
    assert run.records == []
    assert "None of the 2 call_ids was found in Gong. Check api_url" in run.stderr


def test_private_calls_can_be_excluded(emulator: GongEmulator) -> None:
    private = make_call("9000000000000000001", "2024-02-01T10:00:00Z", isPrivate=True)
    emulator.add_call(private)
    wanted = [IDS[0], private["id"], IDS[1]]

    kept = run_tap(config(emulator, call_ids=wanted, private_calls="include"))
    dropped = run_tap(config(emulator, call_ids=wanted, exclude_private_calls=True))

    assert kept.ids == wanted
    assert dropped.returncode == 0, dropped.explain()
    content = [r["id"] for r in dropped.records if r["_sdc_deleted_at"] is None]
    tombstones = [r for r in dropped.records if r["_sdc_deleted_at"] is not None]
    assert content == [IDS[0], IDS[1]]
    assert [(t["id"], t["title"], t["started"]) for t in tombstones] == [
        (private["id"], None, None)
    ]
    assert "emitted 2, missing 0, private: 1 tombstoned" in dropped.stderr
    assert "exclude_private_calls is deprecated: set private_calls to exclude" in dropped.stderr


def test_a_bearer_token_works_instead_of_a_key(emulator: GongEmulator) -> None:
    emulator.access_token = "oauth-token-123"
    run = run_tap({"access_token": "oauth-token-123", "api_url": emulator.url, "call_ids": IDS[:3]})

    assert run.returncode == 0, run.explain()
    assert run.ids == IDS[:3]
    assert emulator.requests[0].authorization == "Bearer oauth-token-123"


@pytest.mark.slow
def test_with_defaults_a_3_per_second_server_never_answers_429() -> None:
    with GongEmulator(**CREDENTIALS, rate_limit_per_second=3) as emu:
        emu.add_calls(CALLS[:12])
        settings = config(emu, call_ids=IDS[:12], batch_call_ids=False, requests_per_second=None)
        run = run_tap(settings)

        assert run.returncode == 0, run.explain()
        assert run.ids == IDS[:12]
        assert [r.status for r in emu.requests] == [200] * 12
        assert "429s 0" in run.stderr


def test_after_a_429_no_request_leaves_before_retry_after(emulator: GongEmulator) -> None:
    emulator.inject(Fault("rate_limit", path="/v2/calls/", retry_after="0.6"))
    run = run_tap(config(emulator, call_ids=IDS[:20], batch_call_ids=False))

    assert run.returncode == 0, run.explain()
    assert run.ids == IDS[:20]
    log = emulator.requests
    limited = [r for r in log if r.status == 429]
    assert len(limited) == 1
    later = [r.started_at for r in log if r.started_at > limited[0].started_at]
    assert len(later) == 20  # the retried call and the rest
    assert min(later) >= limited[0].started_at + 0.6
    assert "429s 1" in run.stderr


def test_a_missing_extensive_scope_falls_back_to_one_get_per_id_with_one_warning() -> None:
    with GongEmulator(**CREDENTIALS, scopes=frozenset({"api:calls:read:basic"})) as emu:
        emu.add_calls(CALLS[:5])
        run = run_tap(config(emu, call_ids=IDS[:5] + MISSING[:1]))

        assert run.returncode == 0, run.explain()
        assert run.ids == IDS[:5]
        assert run.stderr.count("api:calls:read:extensive") == 1
        paths = [r.path for r in emu.requests]
        assert paths[0] == "/v2/calls/extensive"
        assert sorted(paths[1:]) == sorted(f"/v2/calls/{i}" for i in IDS[:5] + MISSING[:1])


@pytest.mark.parametrize("batch", [True, False])
def test_bad_credentials_fail_fast_after_at_most_two_requests(
    emulator: GongEmulator, batch: bool
) -> None:
    run = run_tap(
        {
            **CREDENTIALS,
            "access_key_secret": "wrong",
            "api_url": emulator.url,
            "call_ids": IDS,
            "batch_call_ids": batch,
        },
        env={"LOGLEVEL": "DEBUG"},
    )

    assert run.returncode != 0
    # Fast: no wait and no retry (each wait is logged as "Retrying ... in Ns"), counted rather
    # than timed, so a busy CPU cannot fail it.
    assert "Retrying" not in run.stderr, run.explain()
    assert len(emulator.requests) <= 2
    assert run.records == []
    assert "HTTP 401" in run.stderr
    assert "Check access_key and access_key_secret (or access_token)" in run.stderr
    assert CREDENTIALS["access_key"] not in run.stderr + run.stdout
    assert "wrong" not in run.stderr + run.stdout


def test_bad_config_fails_before_any_request(emulator: GongEmulator) -> None:
    run = run_tap(config(emulator, call_ids=["12a"], requests_per_second=-1))

    assert run.returncode != 0
    assert emulator.requests == []
    assert "config['call_ids'][0]" in run.stderr
    assert "config['requests_per_second']" in run.stderr


def test_discover_prints_every_stream_with_its_keys_and_schemas(tmp_path) -> None:
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps({**CREDENTIALS, "call_ids": IDS[:1]}))

    discovered = subprocess.run(
        [tap_executable(), "--config", str(config_path), "--discover"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )

    assert discovered.returncode == 0, discovered.stderr
    streams = {s["tap_stream_id"]: s for s in json.loads(discovered.stdout)["streams"]}
    assert {name: s["key_properties"] for name, s in streams.items()} == {
        "calls": ["id"],
        "call_participants": ["callId", "id"],
        "call_details": ["callId"],
        "call_transcripts": ["callId"],
        "users": ["id"],
        "workspaces": ["id"],
        "trackers": ["trackerId"],
        "scorecards": ["scorecardId"],
        "answered_scorecards": ["answeredScorecardId"],
    }
    assert len(streams["calls"]["schema"]["properties"]) == 20 + 1  # with _sdc_deleted_at
    assert streams["calls"]["schema"]["properties"]["started"]["format"] == "date-time"
    assert {"content", "interaction", "collaboration", "context"} < set(
        streams["call_details"]["schema"]["properties"]
    )
    assert set(streams["call_transcripts"]["schema"]["properties"]) == {
        "callId",
        "transcript",
        "_sdc_deleted_at",
    }
    parent = {
        name: next(m["metadata"] for m in s["metadata"] if m["breadcrumb"] == [])
        for name, s in streams.items()
    }
    assert all(p.get("selected-by-default", True) for p in parent.values())
