"""End to end: `meltano run tap-gong-calls target-postgres` into a real PostgreSQL.

The project (pyproject.toml, README.md, meltano.yml, tap_gong_calls/, schemas/) is copied to a
temporary directory, where the real `meltano` installs the tap (editable) and
meltanolabs-target-postgres into its own virtualenvs, once per session. Each test serves Gong
from a `GongEmulator` in this process, loads into a database of its own, and reads the result
with psycopg. Meltano's Hub is pointed at a local server that records any request, and the
session fails if Meltano sent it one.

Select these tests with ``-m e2e``; deselect them with ``-m "not e2e"``.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from tests.gong_emulator import GongEmulator, make_call, seed_calls

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

pytestmark = pytest.mark.e2e

UTC = timezone.utc
REPO = Path(__file__).resolve().parent.parent
PROJECT_FILES = ("pyproject.toml", "README.md", "meltano.yml", "tap_gong_calls", "schemas")
STATE_ID = "dev:tap-gong-calls-to-target-postgres"
INSTALL_TIMEOUT_SECONDS = 900
RUN_TIMEOUT_SECONDS = 300
# Any TimeZone but UTC: loads must not depend on the database's session time zone.
DATABASE_TIME_ZONE = "Asia/Kolkata"
# Variables of the caller's shell that would change what the test runs.
_OUTER_PREFIXES = ("TAP_GONG_CALLS_", "TARGET_POSTGRES_", "MELTANO_", "PG")


# -- Meltano project -----------------------------------------------------------------------


class _HubGuard:
    """A local stand-in for Meltano Hub that answers 404 and records every request."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        guard = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                guard.requests.append(f"{self.command} {self.path}")
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_HEAD = do_GET  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@dataclass
class MeltanoProject:
    root: Path
    executable: Path
    env: dict[str, str]
    secrets: set[str] = field(default_factory=set)
    hub: _HubGuard | None = None

    def run(
        self, *args: str, env: Mapping[str, str] | None = None, timeout: float = RUN_TIMEOUT_SECONDS
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.executable), *args],
            cwd=self.root,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def check(
        self, *args: str, env: Mapping[str, str] | None = None, timeout: float = RUN_TIMEOUT_SECONDS
    ) -> subprocess.CompletedProcess[str]:
        """Run meltano; on a non-zero exit fail with the (redacted) tail of its output."""
        secret_values = {v for k, v in (env or {}).items() if _is_secret(k)} | self.secrets
        result = self.run(*args, env=env, timeout=timeout)
        assert result.returncode == 0, self.describe(result, secret_values)
        return result

    def describe(self, result: subprocess.CompletedProcess[str], secret_values: set[str]) -> str:
        def tail(text: str, lines: int = 60) -> str:
            text = "\n".join(text.splitlines()[-lines:])
            for value in sorted(secret_values, key=len, reverse=True):
                if value:
                    text = text.replace(value, "***")
            return text

        return (
            f"`meltano {' '.join(result.args[1:])}` exited {result.returncode}\n"
            f"--- stdout (tail) ---\n{tail(result.stdout)}\n"
            f"--- stderr (tail) ---\n{tail(result.stderr)}"
        )

    def bookmark(self, env: Mapping[str, str] | None = None) -> str | None:
        """The calls stream's replication_key_value in Meltano's stored state."""
        text = self.check("state", "get", STATE_ID, env=env).stdout
        state = json.loads(text)
        stream = state.get("singer_state", {}).get("bookmarks", {}).get("calls", {})
        return stream.get("replication_key_value")


def _is_secret(name: str) -> bool:
    return name.endswith(("_KEY", "_SECRET", "_TOKEN", "_PASSWORD", "_SQLALCHEMY_URL"))


def _meltano_executable() -> Path | None:
    beside_python = Path(sys.executable).parent / "meltano"
    if beside_python.exists():
        return beside_python
    found = shutil.which("meltano")
    return Path(found) if found else None


@pytest.fixture(scope="session")
def meltano_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MeltanoProject]:
    """A copy of the project with the tap and target-postgres installed by the real meltano."""
    executable = _meltano_executable()
    if executable is None:
        reason = "meltano is not installed (pip install -e '.[dev]')"
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("meltano-project")
    for name in PROJECT_FILES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, root / name)
    hub = _HubGuard()
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OUTER_PREFIXES)}
    env.update(
        {
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "MELTANO_DISABLE_TRACKING": "true",
            "MELTANO_SNOWPLOW_COLLECTOR_ENDPOINTS": "[]",
            "MELTANO_CLI_DISABLE_VERSION_CHECK": "true",
            "MELTANO_HUB_URL": hub.url,  # a Hub lookup would show up in hub.requests
            "MELTANO_CLI_LOG_FORMAT": "uncolored",
            "MELTANO_AUTO_INSTALL": "false",  # everything is installed below, once
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PIP_NO_INPUT": "1",
            "NO_COLOR": "1",
        }
    )
    project = MeltanoProject(root=root, executable=executable, env=env, hub=hub)
    try:
        for plugin_type, name in (("extractor", "tap-gong-calls"), ("loader", "target-postgres")):
            started = time.monotonic()
            project.check("install", plugin_type, name, timeout=INSTALL_TIMEOUT_SECONDS)
            print(f"meltano install {plugin_type} {name}: {time.monotonic() - started:.1f}s")
        yield project
    finally:
        hub.close()
    assert not hub.requests, f"Meltano contacted its Hub: {hub.requests}"


# -- per-test database, emulator and environment ---------------------------------------------


@pytest.fixture
def target_db(postgres_url: str) -> Iterator[dict[str, str]]:
    """A new database for one test (its TimeZone not UTC); yields its psycopg conninfo."""
    name = f"tap_gong_calls_e2e_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        conn.execute(
            sql.SQL("ALTER DATABASE {} SET timezone = {}").format(
                sql.Identifier(name), sql.Literal(DATABASE_TIME_ZONE)
            )
        )
    params = {k: str(v) for k, v in conninfo_to_dict(postgres_url).items()}
    params["dbname"] = name
    try:
        yield params
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _target_env(db: Mapping[str, str]) -> dict[str, str]:
    return {
        "TARGET_POSTGRES_HOST": db.get("host", "127.0.0.1"),
        "TARGET_POSTGRES_PORT": db.get("port", "5432"),
        "TARGET_POSTGRES_USER": db.get("user", "postgres"),
        # target-postgres 0.8.1 refuses to start without a password, even for trust auth.
        "TARGET_POSTGRES_PASSWORD": db.get("password") or "trust-auth-ignores-this",
        "TARGET_POSTGRES_DATABASE": db["dbname"],
    }


@pytest.fixture
def emulator() -> Iterator[GongEmulator]:
    emu = GongEmulator(
        access_key=f"key-{secrets.token_hex(8)}",
        access_key_secret=f"secret-{secrets.token_hex(16)}",
        rate_limit_per_second=None,
        latency_seconds=0.0,
    )
    emu.start()
    try:
        yield emu
    finally:
        emu.stop()


def _tap_env(emu: GongEmulator, **settings: str) -> dict[str, str]:
    env = {
        "TAP_GONG_CALLS_API_URL": emu.url,
        "TAP_GONG_CALLS_ACCESS_KEY": emu.access_key,
        "TAP_GONG_CALLS_ACCESS_KEY_SECRET": emu.access_key_secret,
        "TAP_GONG_CALLS_REQUESTS_PER_SECOND": "50",
    }
    env.update({f"TAP_GONG_CALLS_{k.upper()}": v for k, v in settings.items()})
    return env


# -- reading the result ----------------------------------------------------------------------


def _instant(value: str | None) -> datetime | None:
    if value is None:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


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
            assert _as_utc(loaded, types[key]) == _instant(sent), (call["id"], key, loaded, sent)
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
        **_tap_env(emulator, call_ids=json.dumps(call_ids)),
        **_target_env(target_db),
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
        **_tap_env(emulator, start_date=(first - timedelta(days=1)).isoformat()),
        **_target_env(target_db),
        # State of its own: the other test's runs have the same state id.
        "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'meltano.db'}",
    }
    # end_date is not set: each run reads up to its own "now", as a scheduled pipeline does.

    meltano_project.check("run", "tap-gong-calls", "target-postgres", env=env)

    with psycopg.connect(make_conninfo(**target_db)) as conn:
        assert _count(conn) == (150, 150)
    bookmark_value = meltano_project.bookmark(env)
    bookmark = _instant(bookmark_value)
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
    starts = [_instant(r.query["fromDateTime"]) for r in listed]
    # Only the lookback window was re-read: no request starts before bookmark - 1 day.
    assert min(s for s in starts if s is not None) == bookmark - timedelta(days=1), starts
    second = _instant(meltano_project.bookmark(env))
    assert second is not None
    assert second > max(_instant(c["started"]) or bookmark for c in new), (second, bookmark)

    assert meltano_project.hub is not None
    assert not meltano_project.hub.requests, meltano_project.hub.requests


def _iso(moment: datetime, offset: str) -> str:
    sign = -1 if offset.startswith("-") else 1
    hours, minutes = (int(part) for part in offset[1:].split(":"))
    zone = timezone(sign * timedelta(hours=hours, minutes=minutes))
    text = moment.astimezone(zone).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")
