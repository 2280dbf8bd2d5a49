"""End to end: `meltano run tap-gong-calls target-postgres` into a real PostgreSQL.

The project (pyproject.toml, README.md, meltano.yml, tap_gong_calls/ with its schemas) is
copied to a temporary directory, where the real `meltano` installs the tap (editable) and
meltanolabs-target-postgres into its own virtualenvs, once per session (conftest's
`meltano_project`, shared with the other e2e modules). Each test serves Gong
from a `GongEmulator` in this process, loads into a database of its own, and reads the result
with psycopg. Meltano's Hub is pointed at a local server that records any request, and the
session fails if Meltano sent it one.

Select these tests with ``-m e2e``; deselect them with ``-m "not e2e"``.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import time
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from gong_emulator import GongEmulator, make_call, seed_calls
from tests.meltano_helpers import (
    STATE_ID,
    MeltanoProject,
    doc_commands,
    emulator_options,  # noqa: F401 (a fixture, used by name)
    instant,
    tap_env,
    target_env,
)
from tests.postgres import find_server_bin
from tests.tap_runner import ALL_STREAMS

if TYPE_CHECKING:
    from collections.abc import Mapping

pytestmark = pytest.mark.e2e


# -- per-test database, emulator and environment ---------------------------------------------


# -- reading the result ----------------------------------------------------------------------


def _as_utc(value: datetime | None, column_type: str) -> datetime | None:
    """A loaded date-time as an aware UTC instant.

    target-postgres 0.8.1 makes date-time columns `timestamp without time zone`; meltano.yml
    sets PGTZ=UTC for it, so those hold UTC wall-clock times.
    """
    if value is None:
        return None
    if column_type == "timestamp without time zone":
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _columns(conn: Any, schema: str, table: str) -> dict[str, str]:
    rows = conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = %s AND table_name = %s",
        (schema, table),
    ).fetchall()
    return dict(rows)


def _primary_key(conn: Any, qualified_table: str) -> list[str]:
    rows = conn.execute(
        "SELECT a.attname FROM pg_index i "
        "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
        "WHERE i.indrelid = %s::regclass AND i.indisprimary ORDER BY a.attnum",
        (qualified_table,),
    ).fetchall()
    return [row[0] for row in rows]


def _rows(conn: Any) -> dict[str, dict[str, Any]]:
    cursor = conn.execute("SELECT * FROM gong.calls")
    names = [column.name for column in cursor.description]
    loaded = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return {row["id"]: row for row in loaded}


def _count(conn: Any) -> tuple[int, int]:
    total, distinct = conn.execute("SELECT count(*), count(DISTINCT id) FROM gong.calls").fetchone()
    return int(total), int(distinct)


def _assert_loaded_as_sent(
    row: Mapping[str, Any], call: Mapping[str, Any], types: Mapping[str, str]
):
    """Every field of the emulator's call arrived with its value intact."""
    for key, sent in call.items():
        loaded = row[key]
        if key in ("started", "scheduled"):
            assert _as_utc(loaded, types[key]) == instant(sent), (call["id"], key, loaded, sent)
        else:
            assert loaded == sent, (call["id"], key, loaded, sent)


# -- tests -----------------------------------------------------------------------------------


def test_call_ids_load_typed_rows_and_upsert_on_id(
    meltano_project: MeltanoProject,
    emulator: GongEmulator,
    target_db: dict[str, str],
    tmp_path: Path,
) -> None:
    tricky = make_call(
        "7100000000000000001",
        "2024-03-01T10:00:00-08:00",
        title='Quote " and\nnewline ✓ — Café, 日本語, emoji 📞, back\\slash',
        customData='{"note": "line 1\\nline 2", "quote": "\\"hi\\"", "tab": "\t"}\n2nd line',
        isPrivate=True,
        duration=3599,
    )
    india = make_call("7100000000000000002", "2024-03-01T10:00:00+05:30", isPrivate=False)
    zulu_ms = make_call("7100000000000000003", "2024-03-01T18:00:00.123Z", duration=0)
    not_configured = make_call("7100000000000000004", "2024-03-02T09:00:00Z")
    emulator.add_calls([tricky, india, zulu_ms, not_configured])
    wanted = [tricky, india, zulu_ms]
    call_ids = [c["id"] for c in wanted] + ["7100000000000000099", tricky["id"]]  # missing, dup
    env = {
        # The private call loaded in full: its every field's type is under test here.
        **tap_env(emulator, call_ids=json.dumps(call_ids), private_calls="include"),
        **target_env(target_db),
        "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'meltano.db'}",  # state of its own
    }

    meltano_project.check("run", "tap-gong-calls", "target-postgres", env=env)

    with psycopg.connect(make_conninfo(**target_db)) as conn:
        types = _columns(conn, "gong", "calls")
        assert _primary_key(conn, "gong.calls") == ["id"]
        assert types["started"] in ("timestamp with time zone", "timestamp without time zone")
        assert types["scheduled"] == types["started"]
        assert types["isPrivate"] == "boolean"
        assert types["duration"] == "bigint"
        assert types["id"] in ("text", "character varying")
        rows = _rows(conn)
        assert sorted(rows) == sorted(c["id"] for c in wanted)
        assert _count(conn) == (3, 3)
        for call in wanted:
            _assert_loaded_as_sent(rows[call["id"]], call, types)
        # Spelled out, for the reader: the instants are UTC whatever the offset Gong used.
        assert _as_utc(rows[tricky["id"]]["started"], types["started"]) == datetime(
            2024, 3, 1, 18, 0, tzinfo=UTC
        )
        assert _as_utc(rows[india["id"]]["started"], types["started"]) == datetime(
            2024, 3, 1, 4, 30, tzinfo=UTC
        )
        assert _as_utc(rows[zulu_ms["id"]]["started"], types["started"]) == datetime(
            2024, 3, 1, 18, 0, 0, 123000, tzinfo=UTC
        )
        assert rows[tricky["id"]]["isPrivate"] is True
        assert rows[india["id"]]["isPrivate"] is False

    # A second run of the same ids updates rows in place (merge on the primary key).
    emulator.add_call({**india, "title": 'Renamed ✓ "again"'})
    meltano_project.check("run", "tap-gong-calls", "target-postgres", env=env)
    with psycopg.connect(make_conninfo(**target_db)) as conn:
        assert _count(conn) == (3, 3)
        assert _rows(conn)[india["id"]]["title"] == 'Renamed ✓ "again"'

    assert meltano_project.hub is not None
    assert not meltano_project.hub.requests, meltano_project.hub.requests


def test_date_range_resumes_from_bookmark_minus_lookback(
    meltano_project: MeltanoProject,
    emulator: GongEmulator,
    target_db: dict[str, str],
    tmp_path: Path,
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    first = now - timedelta(days=4)
    emulator.add_calls(seed_calls(150, first, timedelta(minutes=30)))  # ends ~21h before now
    env = {
        **tap_env(emulator, start_date=(first - timedelta(days=1)).isoformat()),
        **target_env(target_db),
        # State of its own: the other test's runs have the same state id.
        "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'meltano.db'}",
    }
    # end_date is not set: each run reads up to its own "now", as a scheduled pipeline does.

    meltano_project.check("run", "tap-gong-calls", "target-postgres", env=env)

    with psycopg.connect(make_conninfo(**target_db)) as conn:
        assert _count(conn) == (150, 150)
    bookmark_value = meltano_project.bookmark(env)
    bookmark = instant(bookmark_value)
    assert bookmark is not None
    assert now <= bookmark <= datetime.now(UTC), bookmark_value

    # Gong makes calls visible after the first run: some after the bookmark, one late call
    # inside the lookback window (1 day), and one too old for the lookback to catch.
    new = [
        make_call("7200000000000000001", _iso(bookmark + timedelta(seconds=1), "+00:00")),
        make_call("7200000000000000002", _iso(bookmark + timedelta(seconds=2), "-08:00")),
        make_call("7200000000000000003", _iso(bookmark + timedelta(seconds=3), "+05:30")),
    ]
    late = make_call("7200000000000000004", _iso(bookmark - timedelta(hours=20), "-08:00"))
    too_old = make_call("7200000000000000005", _iso(bookmark - timedelta(days=2), "+00:00"))
    emulator.add_calls([*new, late, too_old])
    emulator.reset_log()
    time.sleep(max(0.0, (bookmark + timedelta(seconds=4) - datetime.now(UTC)).total_seconds()))

    meltano_project.check("run", "tap-gong-calls", "target-postgres", env=env)

    with psycopg.connect(make_conninfo(**target_db)) as conn:
        types = _columns(conn, "gong", "calls")
        rows = _rows(conn)
        assert _count(conn) == (154, 154)  # 150 + 3 new + 1 late; each id once
        for call in [*new, late]:
            assert call["id"] in rows, call
            _assert_loaded_as_sent(rows[call["id"]], call, types)
        assert too_old["id"] not in rows  # older than bookmark - lookback: not re-read

    listed = [r for r in emulator.requests if r.method == "GET" and r.path == "/v2/calls"]
    assert listed, [f"{r.method} {r.path}" for r in emulator.requests]
    assert all(r.status in (200, 404) for r in listed), listed  # 404: Gong's "no calls"
    starts = [instant(r.query["fromDateTime"]) for r in listed]
    # Only the lookback window was re-read: no request starts before bookmark - 1 day.
    assert min(s for s in starts if s is not None) == bookmark - timedelta(days=1), starts
    second = instant(meltano_project.bookmark(env))
    assert second is not None
    assert second > max(instant(c["started"]) or bookmark for c in new), (second, bookmark)

    assert meltano_project.hub is not None
    assert not meltano_project.hub.requests, meltano_project.hub.requests


def _iso(moment: datetime, offset: str) -> str:
    sign = -1 if offset.startswith("-") else 1
    hours, minutes = (int(part) for part in offset[1:].split(":"))
    zone = timezone(sign * timedelta(hours=hours, minutes=minutes))
    text = moment.astimezone(zone).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def _documented_join_sql() -> str:
    """The speaker join docs/postgres.md documents, so the page cannot drift from what works."""
    doc = (Path(__file__).resolve().parent.parent / "docs/postgres.md").read_text()
    block = doc.split("Who said what, in PostgreSQL", 1)[1].split("```sql", 1)[1]
    return block.split("```", 1)[0]


def test_all_four_streams_land_and_the_documented_join_names_each_speaker(
    meltano_project: MeltanoProject,
    emulator: GongEmulator,
    target_db: dict[str, str],
    tmp_path: Path,
) -> None:
    calls = seed_calls(150, "2024-05-01T00:00:00Z")
    emulator.add_calls(calls)
    not_ready = calls[3]["id"]
    emulator.set_transcript_ready(not_ready, False)
    ids = [c["id"] for c in calls]
    env = {
        **tap_env(emulator, streams=ALL_STREAMS, call_ids=json.dumps(ids)),
        **target_env(target_db),
        "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'meltano.db'}",
    }

    meltano_project.check("run", "tap-gong-calls", "target-postgres", env=env)

    held = {call_id: emulator.extensive_of(call_id) for call_id in ids}
    transcripts = {c: emulator.transcript_of(c) for c in ids if c != not_ready}
    paths = sorted(f"{r.method} {r.path}" for r in emulator.requests)
    # Transcripts: 20 ids first (their size is not known yet), then 100, then 30.
    assert paths == ["POST /v2/calls/extensive"] * 2 + ["POST /v2/calls/transcript"] * 3
    with psycopg.connect(make_conninfo(**target_db)) as conn:
        counts = {
            table: (conn.execute(f"SELECT count(*) FROM gong.{table}").fetchone() or [0])[0]
            for table in ("calls", "call_participants", "call_details", "call_transcripts")
        }
        assert counts == {
            "calls": 150,
            "call_participants": sum(len(h.get("parties", [])) for h in held.values()),
            "call_details": 150,
            "call_transcripts": 149,
        }
        assert _primary_key(conn, "gong.call_participants") == ["callId", "id"]
        assert _primary_key(conn, "gong.call_transcripts") == ["callId"]
        # Nested blocks arrive whole (jsonb), exactly as Gong sent them.
        some = ids[0]
        content, transcript = conn.execute(  # type: ignore[misc]
            "SELECT d.content, t.transcript FROM gong.call_details d JOIN gong.call_transcripts t "
            'USING ("callId") WHERE "callId" = %s',
            (some,),
        ).fetchone()
        assert content == held[some]["content"]
        assert transcript == transcripts[some]

        joined = conn.execute(_documented_join_sql()).fetchall()

    names = {
        (call_id, party["speakerId"]): party.get("name")
        for call_id, h in held.items()
        for party in h.get("parties", [])
        if party.get("speakerId")
    }
    expected = [
        (call_id, names.get((call_id, m["speakerId"])), m["topic"], s["start"], s["text"])
        for call_id, monologues in transcripts.items()
        for m in monologues or []
        for s in m["sentences"]
    ]
    got = [(r[0], r[1], r[3], r[4], r[5]) for r in joined]
    assert sorted(got, key=repr) == sorted(expected, key=repr)
    assert any(row[1] is not None for row in got)  # speakers found by speakerId


def test_the_page_s_commands_load_into_a_new_database_as_written(
    meltano_project: MeltanoProject, emulator: GongEmulator, postgres_url: str, tmp_path: Path
) -> None:
    """docs/postgres.md's first commands, as written, with this server's address in place of
    the page's: without its `createdb` the run fails; with it, the calls land."""
    *exports, createdb, install, run, state = doc_commands("docs/postgres.md", None)
    page = dict(word.split("=", 1) for line in exports for word in shlex.split(line)[1:])
    assert [line.split()[0] for line in exports] == ["export", "export"]
    server = {k: str(v) for k, v in conninfo_to_dict(postgres_url).items()}
    ours = target_env({**server, "dbname": f"tap_gong_calls_doc_{uuid.uuid4().hex[:10]}"})
    assert set(page) == set(ours)
    replace = {page[name]: ours[name] for name in page}  # localhost -> 127.0.0.1, ...
    assert install == "meltano install"  # done once per session (conftest's meltano_project)
    emulator.add_calls(seed_calls(5, "2024-01-01T00:00:00Z"))
    env = {
        **tap_env(emulator, start_date="2024-01-01T00:00:00Z", end_date="2024-01-02T00:00:00Z"),
        **ours,
        "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'meltano.db'}",  # a state of its own
    }
    meltano = shlex.split(run)[1:]

    missing = meltano_project.run(*meltano, env=env)
    assert missing.returncode != 0
    assert f'database "{ours["TARGET_POSTGRES_DATABASE"]}" does not exist' in (
        missing.stdout + missing.stderr
    )

    program, *arguments = [replace.get(word, word) for word in shlex.split(createdb)]
    server_bin = find_server_bin()
    found = shutil.which(program, path=str(server_bin) if server_bin else None)
    executable = found or shutil.which(program)
    if executable is None:
        pytest.skip(f"{program} is not installed (PostgreSQL's client tools)")
    password = {"PGPASSWORD": server["password"]} if server.get("password") else {}
    subprocess.run(
        [executable, *arguments],
        env={**os.environ, **password},
        check=True,
        capture_output=True,
        timeout=60,
    )
    try:
        meltano_project.check(*meltano, env=env)
        assert shlex.split(state)[1:] == ["state", "get", STATE_ID]
        assert meltano_project.bookmark(env) is not None  # the page's `meltano state get`
        target = {**server, "dbname": ours["TARGET_POSTGRES_DATABASE"]}
        with psycopg.connect(make_conninfo(**target)) as conn:
            assert _count(conn) == (5, 5)
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(ours["TARGET_POSTGRES_DATABASE"])
                )
            )
