"""Participants, details and transcripts: what each selection of streams emits and costs."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from gong_emulator import (
    SCOPE_BASIC,
    SCOPE_EXTENSIVE,
    SCOPE_TRANSCRIPT,
    GongEmulator,
    make_call,
    seed_calls,
)
from tap_gong_calls.gong.api import CONTENT_FLAGS, INTERACTION_FLAGS
from tests.tap_runner import ALL_STREAMS, CREDENTIALS, TapRun, config, run_tap

CALLS = seed_calls(230, "2024-01-01T00:00:00Z")
IDS = [c["id"] for c in CALLS]
UNKNOWN = ["1234567890123456789", "42"]
NOT_READY = IDS[7]
BLOCKS = ("content", "interaction", "collaboration", "context")
# Every top-level field is in every record, null when Gong left it out (the record contract).
PARTY_FIELDS = dict.fromkeys(
    [
        "id",
        "emailAddress",
        "name",
        "title",
        "userId",
        "speakerId",
        "context",
        "affiliation",
        "phoneNumber",
        "methods",
    ]
)


@pytest.fixture
def emulator_calls() -> list[dict[str, Any]]:
    return CALLS


@pytest.fixture
def emulator_late_transcripts() -> list[str]:
    return [NOT_READY]


def endpoints(emu: GongEmulator) -> list[str]:
    return [f"{r.method} {r.path}" for r in emu.requests]


def expected_records(emu: GongEmulator, call_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """What each stream must emit for ``call_ids``: exactly what the server holds, plus callId
    (and a null _sdc_deleted_at: these rows are not tombstones)."""
    held = {call_id: emu.extensive_of(call_id) for call_id in call_ids}
    live = {"_sdc_deleted_at": None}
    return {
        "calls": [{**emu.calls[c], **live} for c in call_ids],
        "call_participants": [
            {**PARTY_FIELDS, "callId": c, **party, **live}
            for c in call_ids
            for party in held[c].get("parties", [])
        ],
        "call_details": [
            {"callId": c, **{k: held[c].get(k) for k in BLOCKS}, **live} for c in call_ids
        ],
        "call_transcripts": [
            {"callId": c, "transcript": emu.transcript_of(c), **live}
            for c in call_ids
            if emu.transcript_of(c) is not None
        ],
    }


def assert_records_match_their_schemas(run: TapRun) -> None:
    schemas = run.schemas()
    for message in run.messages:
        if message["type"] == "RECORD":
            validator = Draft202012Validator(schemas[message["stream"]]["schema"])
            validator.validate(message["record"])


@pytest.mark.slow
def test_232_ids_with_every_stream_cost_3_extensive_and_4_transcript_requests(
    emulator: GongEmulator,
) -> None:
    run = run_tap(config(emulator, call_ids=IDS + UNKNOWN), streams=ALL_STREAMS)

    assert run.returncode == 0, run.explain()
    # The first transcript request carries 20 ids (how large transcripts are is not known
    # yet), the others 100: 20 + 100 + 100 + 12.
    assert sorted(endpoints(emulator)) == sorted(
        ["POST /v2/calls/extensive"] * 3 + ["POST /v2/calls/transcript"] * 4
    )
    expected = expected_records(emulator, IDS)
    for stream in ALL_STREAMS:
        assert run.records_of(stream) == expected[stream], stream
    assert len(run.records_of("call_transcripts")) == len(IDS) - 1
    assert {s: run.schemas()[s]["key_properties"] for s in ALL_STREAMS} == {
        "calls": ["id"],
        "call_participants": ["callId", "id"],
        "call_details": ["callId"],
        "call_transcripts": ["callId"],
    }
    assert_records_match_their_schemas(run)
    assert "transcripts not ready: 1" in run.stderr
    assert "Summary: requested 232, emitted 230, missing 2" in run.stderr


def test_the_content_selector_asks_for_every_block_but_media_and_points_of_interest(
    emulator: GongEmulator,
) -> None:
    run = run_tap(config(emulator, call_ids=IDS[:5]), streams=ALL_STREAMS)

    assert run.returncode == 0, run.explain()
    (extensive,) = [r for r in emulator.requests if r.path == "/v2/calls/extensive"]
    assert extensive.body == {
        "filter": {"callIds": IDS[:5]},
        "contentSelector": {
            "context": "Extended",
            "exposedFields": {
                "parties": True,
                "content": dict.fromkeys(CONTENT_FLAGS, True),
                "interaction": dict.fromkeys(INTERACTION_FLAGS, True),
                "collaboration": {"publicComments": True},
            },
        },
    }
    assert "pointsOfInterest" not in CONTENT_FLAGS
    (transcript,) = [r for r in emulator.requests if r.path == "/v2/calls/transcript"]
    assert transcript.body == {"filter": {"callIds": IDS[:5]}}


def test_calls_alone_ask_for_no_content_and_no_transcripts(emulator: GongEmulator) -> None:
    run = run_tap(config(emulator, call_ids=IDS), streams=("calls",))

    assert run.returncode == 0, run.explain()
    assert endpoints(emulator) == ["POST /v2/calls/extensive"] * 3
    assert all("contentSelector" not in (r.body or {}) for r in emulator.requests)
    assert {m["stream"] for m in run.messages if m["type"] in ("SCHEMA", "RECORD")} == {"calls"}


@pytest.mark.parametrize("mode", ["ids", "date-range"])
def test_transcripts_alone_cost_only_transcript_requests(emulator: GongEmulator, mode: str) -> None:
    settings: dict[str, Any] = (
        {"call_ids": IDS}
        if mode == "ids"
        else {"start_date": "2023-12-31T00:00:00Z", "end_date": "2024-01-10T00:00:00Z"}
    )
    # Private calls loaded in full: by default their privacy is read first (calls' lookups).
    settings["private_calls"] = "include"
    run = run_tap(config(emulator, **settings), streams=("call_transcripts",))

    assert run.returncode == 0, run.explain()
    transcript_requests = [r for r in emulator.requests if r.path == "/v2/calls/transcript"]
    others = [r for r in emulator.requests if r.path != "/v2/calls/transcript"]
    assert transcript_requests
    if mode == "ids":  # the one id without a transcript is looked up: not ready, not unknown
        assert [(r.path, r.body) for r in others] == [
            ("/v2/calls/extensive", {"filter": {"callIds": [NOT_READY]}})
        ]
        assert "missing 0" in run.stderr
        assert "transcripts not ready: 1" in run.stderr
    else:
        assert others == []
    assert {m["stream"] for m in run.messages if m["type"] in ("SCHEMA", "RECORD")} == {
        "call_transcripts"
    }
    wanted = [c for c in IDS if c != NOT_READY]
    assert [r["callId"] for r in run.records_of("call_transcripts")] == wanted
    if mode == "date-range":  # the children follow the calls bookmark
        assert run.last_state is not None
        assert run.last_state["bookmarks"]["calls"]["replication_key_value"] == (
            "2024-01-10T00:00:00Z"
        )


def test_a_child_without_calls_uses_extensive_with_only_its_block(
    emulator: GongEmulator,
) -> None:
    run = run_tap(config(emulator, call_ids=IDS[:3]), streams=("call_participants",))

    assert run.returncode == 0, run.explain()
    (request,) = emulator.requests
    assert (request.body or {})["contentSelector"] == {"exposedFields": {"parties": True}}
    assert run.records_of("calls") == []
    assert (
        run.records_of("call_participants")
        == expected_records(emulator, IDS[:3])["call_participants"]
    )


@pytest.mark.slow
def test_date_range_of_1000_calls_emits_every_record_once_at_2_requests_per_100(
    emulator: GongEmulator,
) -> None:
    calls = seed_calls(1000, "2025-03-01T00:00:00Z", datetime.timedelta(minutes=10))
    emulator.add_calls(calls)
    run = run_tap(
        config(emulator, start_date="2025-02-27T00:00:00Z", end_date="2025-03-10T00:00:00Z"),
        streams=ALL_STREAMS,
    )

    assert run.returncode == 0, run.explain()
    ids = [c["id"] for c in calls]
    expected = expected_records(emulator, ids)
    for stream in ALL_STREAMS:  # each record once: same count, same contents
        emitted = [json.dumps(r, sort_keys=True) for r in run.records_of(stream)]
        assert len(emitted) == len(expected[stream]), stream
        assert set(emitted) == {json.dumps(r, sort_keys=True) for r in expected[stream]}, stream
    assert len(emulator.requests) <= 2 * 10 + 8, endpoints(emulator)
    # Transcripts are asked for a full 100 ids at a time, whatever the windows held, after a
    # first request of 10 that tells how large they are.
    asked = [
        len(r.body["filter"]["callIds"])
        for r in emulator.requests
        if r.body and (r.path == "/v2/calls/transcript")
    ]
    assert sorted(asked) == [20, 80] + [100] * 9
    assert_records_match_their_schemas(run)


def test_the_summary_counts_each_stream_under_its_own_name_when_a_map_renames_it(
    emulator: GongEmulator,
) -> None:
    maps = {
        "calls": {"__alias__": "gong_calls"},
        "call_transcripts": {"__alias__": "gong_transcripts"},
        "calls_copy": {"__source__": "calls"},  # a second projection, not counted again
    }
    ids = IDS[:10]  # NOT_READY among them: 9 transcripts

    run = run_tap(config(emulator, call_ids=ids, stream_maps=maps), streams=ALL_STREAMS)

    assert run.returncode == 0, run.explain()
    assert len(run.records_of("gong_calls")) == len(run.records_of("calls_copy")) == 10
    assert len(run.records_of("gong_transcripts")) == 9
    assert run.records_of("calls") == run.records_of("call_transcripts") == []
    parties = len(run.records_of("call_participants"))
    assert parties > 10
    assert (
        f"Summary: requested 10, emitted 10, missing 0, private: 0 metadata only, "
        f"call_participants {parties}, call_details 10, call_transcripts 9, "
    ) in run.stderr


@pytest.mark.parametrize("status", [401, 403])
def test_missing_transcript_scope_fails_naming_scope_and_stream(status: int) -> None:
    with GongEmulator(
        **CREDENTIALS, scopes=frozenset({SCOPE_BASIC, SCOPE_EXTENSIVE}), scope_denied_status=status
    ) as emu:
        emu.add_calls(CALLS[:10])
        run = run_tap(config(emu, call_ids=IDS[:10]), streams=ALL_STREAMS)

    assert run.returncode != 0
    errors = "\n".join(line for line in run.stderr.splitlines() if "ERROR" in line)
    assert "api:calls:read:transcript" in errors, run.explain()
    assert "call_transcripts" in errors
    # How to deselect it with Meltano, whether or not meltano.yml has a select list yet.
    assert "select the streams to keep (meltano select tap-gong-calls calls '*')" in errors
    assert "add meltano select tap-gong-calls --exclude call_transcripts '*' to a" in errors
    assert "access_key_secret" not in run.stderr.replace("access_key_secret (or", "")
    assert CREDENTIALS["access_key_secret"] not in run.stderr


def test_missing_extensive_scope_fails_naming_the_streams_that_need_it() -> None:
    with GongEmulator(**CREDENTIALS, scopes=frozenset({SCOPE_BASIC, SCOPE_TRANSCRIPT})) as emu:
        emu.add_calls(CALLS[:10])
        run = run_tap(
            config(emu, start_date="2023-12-31T00:00:00Z", end_date="2024-01-10T00:00:00Z"),
            streams=("calls", "call_participants"),
        )

    assert run.returncode != 0
    assert "api:calls:read:extensive" in run.stderr, run.explain()
    assert "call_participants" in run.stderr
    assert run.records == []


def test_wrong_credentials_are_not_mistaken_for_a_missing_scope(emulator: GongEmulator) -> None:
    run = run_tap(
        {**config(emulator, call_ids=IDS[:3]), "access_key_secret": "wrong"},
        streams=("call_transcripts",),
    )

    assert run.returncode != 0
    assert "Check access_key" in run.stderr, run.explain()
    assert "lacks the" not in run.stderr


def test_private_calls_leave_only_tombstones_in_every_stream(emulator: GongEmulator) -> None:
    private = make_call("8000000000000000001", "2024-01-02T10:00:00Z", isPrivate=True)
    emulator.add_call(private)
    run = run_tap(
        config(emulator, call_ids=[IDS[0], private["id"]], exclude_private_calls=True),
        streams=ALL_STREAMS,
    )

    assert run.returncode == 0, run.explain()
    for stream in ALL_STREAMS:
        records = run.records_of(stream)
        content = {r.get("callId", r.get("id")) for r in records if not r["_sdc_deleted_at"]}
        assert content == {IDS[0]}, stream
        gone = [r for r in records if r["_sdc_deleted_at"]]
        assert {r.get("callId", r.get("id")) for r in gone} == {private["id"]}, stream
