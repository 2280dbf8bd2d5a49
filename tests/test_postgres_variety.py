"""End to end: data drifting from Gong's documentation lands in PostgreSQL exactly as sent.

One `meltano run tap-gong-calls target-postgres` of a few calls from `GongEmulator(variety=True)`
(undocumented enum values, nested nulls, CRM field values of every JSON type) through all four
streams; the rows are read back with psycopg and compared with what the emulator sent. The
Meltano project (tap and target installed once per session) is conftest's `meltano_project`.
"""

from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING, Any

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from gong_emulator import (
    CRM_VALUES,
    NEW_ENUM_VALUES,
    NUL_CRM_FIELD,
    GongEmulator,
    carries_odd_text,
    seed_calls,
)
from tests.meltano_helpers import new_database, tap_env, target_env

if TYPE_CHECKING:
    from pathlib import Path

    from tests.meltano_helpers import MeltanoProject

pytestmark = pytest.mark.e2e

STREAMS = ("calls", "call_participants", "call_details", "call_transcripts")


def same_json(a: Any, b: Any) -> bool:
    """Equal as JSON text: True is not 1, 1.5 is not 1 or "1.5"."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def rows(conn: psycopg.Connection[Any], table: str) -> list[dict[str, Any]]:
    cursor = conn.execute(f"SELECT * FROM gong.{table}")  # a fixed table name, not input
    names = [column.name for column in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def crm_values(context: list[Any] | None) -> dict[str, Any]:
    """The CRM fields named in CRM_VALUES, by name, from a loaded `context` column."""
    return {
        field["name"]: field["value"]
        for system in context or []
        for obj in system["objects"]
        for field in obj.get("fields") or []
        if field["name"] in CRM_VALUES
    }


def test_drifting_data_lands_as_sent_in_all_four_tables(
    meltano_project: MeltanoProject,
    postgres_url: str,
    tmp_path: Path,
) -> None:
    with (
        GongEmulator(
            access_key=f"key-{secrets.token_hex(8)}",
            access_key_secret=f"secret-{secrets.token_hex(16)}",
            variety=True,
        ) as emu,
        new_database(postgres_url) as db,
    ):
        emu.add_calls(seed_calls(3, "2024-05-01T00:00:00Z"))  # 3 ids: every new enum value
        ids = list(emu.calls)
        env = {
            **tap_env(emu, streams=None, call_ids=json.dumps(ids)),  # meltano.yml: every stream
            **target_env(db),
            "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'meltano.db'}",
        }

        meltano_project.check("run", "tap-gong-calls", "target-postgres", env=env)

        held = {call_id: emu.extensive_of(call_id) for call_id in ids}
        transcripts = {call_id: emu.transcript_of(call_id) for call_id in ids}
        with psycopg.connect(make_conninfo(**db)) as conn:
            loaded = {table: rows(conn, table) for table in STREAMS}

    calls = {row["id"]: row for row in loaded["calls"]}
    assert sorted(calls) == sorted(ids)
    for field, values in NEW_ENUM_VALUES.items():
        assert sorted(row[field] for row in calls.values()) == sorted(values), field

    details = {row["callId"]: row for row in loaded["call_details"]}
    assert sorted(details) == sorted(ids)
    for call_id, row in details.items():
        for block in ("content", "interaction", "collaboration", "context"):
            assert same_json(row[block], held[call_id].get(block)), (call_id, block)
        # Every JSON type of a CRM value, read back from jsonb, is the value sent.
        got = crm_values(row["context"])
        assert sorted(got) == sorted(CRM_VALUES)
        wrong = {
            name: value for name, value in got.items() if not same_json(value, CRM_VALUES[name])
        }
        assert wrong == {}, call_id

    parties = {(row["callId"], row["id"]): row for row in loaded["call_participants"]}
    sent_parties = {(c, p["id"]): p for c, h in held.items() for p in h["parties"]}
    assert sorted(parties) == sorted(sent_parties)
    for key, party in sent_parties.items():
        row = parties[key]
        assert {k: row[k] for k in party if k != "context"} == {
            k: v for k, v in party.items() if k != "context"
        }, key
        assert same_json(row["context"], party["context"]), key
    for call_id, sent in held.items():
        host, other = sent["parties"][0], sent["parties"][1]
        assert parties[(call_id, host["id"])]["userId"] is None  # a SQL NULL, not "None"
        assert parties[(call_id, other["id"])]["speakerId"] is None
        got = crm_values(parties[(call_id, other["id"])]["context"])
        assert sorted(got) == sorted(CRM_VALUES)
        assert all(same_json(got[name], value) for name, value in CRM_VALUES.items()), call_id

    loaded_transcripts = {row["callId"]: row["transcript"] for row in loaded["call_transcripts"]}
    assert sorted(loaded_transcripts) == sorted(ids)
    for call_id, transcript in loaded_transcripts.items():
        assert same_json(transcript, transcripts[call_id]), call_id
        assert transcript[0]["speakerId"] is None
        assert transcript[0]["topic"] is None


def test_nul_characters_lone_surrogates_and_numeric_ids_load_into_postgresql(
    meltano_project: MeltanoProject,
    postgres_url: str,
    tmp_path: Path,
) -> None:
    """One NUL would stop target-postgres for good (`PostgreSQL text fields cannot contain NUL
    (0x00) bytes`; `\\u0000 cannot be converted to text` in jsonb): the tap removes them, in a
    title, a transcript sentence and a CRM value, and ids sent as numbers load as strings."""
    with (
        GongEmulator(
            access_key=f"key-{secrets.token_hex(8)}",
            access_key_secret=f"secret-{secrets.token_hex(16)}",
            nul_characters=True,
            numeric_ids=True,
        ) as emu,
        new_database(postgres_url) as db,
    ):
        emu.add_calls(seed_calls(4, "2024-05-01T00:00:00Z"))  # two of each quirk
        ids = list(emu.calls)
        env = {
            **tap_env(emu, streams=None, start_date="2024-05-01T00:00:00Z"),
            **target_env(db),
            "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'meltano.db'}",
        }

        run = meltano_project.check("run", "tap-gong-calls", "target-postgres", env=env)

        titles = {call_id: emu.calls[call_id]["title"] for call_id in ids}
        with psycopg.connect(make_conninfo(**db)) as conn:
            loaded = {table: rows(conn, table) for table in STREAMS}

    assert "NUL characters removed: 6" in run.stderr  # title, sentence, CRM value: 2 calls
    calls = {row["id"]: row for row in loaded["calls"]}
    assert sorted(calls) == sorted(ids)  # numeric ids included, as strings
    for call_id, row in calls.items():
        assert row["title"] == titles[call_id].replace("\x00", "")
        assert "\x00" not in json.dumps(row, default=str)
    odd = [c for c in ids if carries_odd_text(c)]
    assert odd
    assert all(calls[c]["customData"].endswith("\ufffd") for c in odd)
    transcripts = {row["callId"]: row["transcript"] for row in loaded["call_transcripts"]}
    assert sorted(transcripts) == sorted(ids)
    assert all("\\u0000" not in json.dumps(t) for t in transcripts.values())
    details = {row["callId"]: row for row in loaded["call_details"]}
    for call_id in odd:
        values = [
            field["value"]
            for system in details[call_id]["context"]
            for obj in system["objects"]
            for field in obj.get("fields") or []
            if field["name"] == NUL_CRM_FIELD
        ]
        assert values == ["Imported from the old CRM"]
    parties = loaded["call_participants"]
    assert {row["callId"] for row in parties} == set(ids)
    assert all(isinstance(row["id"], str) for row in parties)
