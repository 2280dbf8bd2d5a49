"""Helpers for the tests that drive the real `meltano` CLI: offline projects, databases, runs.

Every project gets an environment with telemetry and update checks off and Meltano's Hub
pointed at a `HubGuard`, a local server that records any request, so a test can assert that
Meltano never tried to reach the Hub.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from gong_emulator import GongEmulator

REPO = Path(__file__).resolve().parent.parent
PROJECT_FILES = (
    *("pyproject.toml", "README.md", "meltano.yml"),
    *("tap_gong_calls", "plugins"),
)
STATE_ID = "dev:tap-gong-calls-to-target-postgres"
INSTALL_TIMEOUT_SECONDS = 900
RUN_TIMEOUT_SECONDS = 300
# Variables of the caller's shell that would change what the test runs.
_OUTER_PREFIXES = ("TAP_GONG_CALLS_", "TARGET_POSTGRES_", "MELTANO_", "PG")


class HubGuard:
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
    hub: HubGuard | None = None

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
        secret_values = {v for k, v in (env or {}).items() if is_secret(k)} | self.secrets
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

    def bookmark(
        self, env: Mapping[str, str] | None = None, state_id: str = STATE_ID
    ) -> str | None:
        """The calls stream's replication_key_value in Meltano's stored state."""
        text = self.check("state", "get", state_id, env=env).stdout
        state = json.loads(text)
        stream = state.get("singer_state", {}).get("bookmarks", {}).get("calls", {})
        return stream.get("replication_key_value")


def is_secret(name: str) -> bool:
    return name.endswith(
        ("_KEY", "_SECRET", "_TOKEN", "_PASSWORD", "_SQLALCHEMY_URL", "_DATABASE_URI")
    )


def meltano_executable() -> Path:
    """The meltano beside the tests' Python, else on PATH; skip (or fail in CI) without one."""
    beside_python = Path(sys.executable).parent / "meltano"
    if beside_python.exists():
        return beside_python
    if found := shutil.which("meltano"):
        return Path(found)
    reason = "meltano is not installed (pip install -e '.[dev]')"
    if os.environ.get("REQUIRE_POSTGRES") == "1":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def offline_env(hub: HubGuard) -> dict[str, str]:
    """The caller's environment without its Meltano/tap/target settings, Meltano offline."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OUTER_PREFIXES)}
    env.update(
        {
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "MELTANO_DISABLE_TRACKING": "true",
            "MELTANO_SNOWPLOW_COLLECTOR_ENDPOINTS": "[]",
            "MELTANO_CLI_DISABLE_VERSION_CHECK": "true",
            "MELTANO_HUB_URL": hub.url,  # a Hub lookup would show up in hub.requests
            "MELTANO_CLI_LOG_FORMAT": "uncolored",
            "MELTANO_AUTO_INSTALL": "false",  # the tests install what they run, once
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PIP_NO_INPUT": "1",
            "NO_COLOR": "1",
        }
    )
    return env


def copy_project(root: Path) -> Path:
    """Copy this repository's Meltano project (and the tap's source) into ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, root / name)
    return root


def tap_env(
    emu: GongEmulator, *, streams: tuple[str, ...] | None = ("calls",), **settings: str
) -> dict[str, str]:
    """The tap's settings as Meltano reads them; ``streams`` selected (None: meltano.yml's)."""
    env = {
        "TAP_GONG_CALLS_API_URL": emu.url,
        "TAP_GONG_CALLS_ACCESS_KEY": emu.access_key,
        "TAP_GONG_CALLS_ACCESS_KEY_SECRET": emu.access_key_secret,
        "TAP_GONG_CALLS_REQUESTS_PER_SECOND": "50",
    }
    if streams is not None:
        env["TAP_GONG_CALLS__SELECT"] = json.dumps([f"{stream}.*" for stream in streams])
    env.update({f"TAP_GONG_CALLS_{k.upper()}": v for k, v in settings.items()})
    return env


def target_env(db: Mapping[str, str]) -> dict[str, str]:
    return {
        "TARGET_POSTGRES_HOST": db.get("host", "127.0.0.1"),
        "TARGET_POSTGRES_PORT": db.get("port", "5432"),
        "TARGET_POSTGRES_USER": db.get("user", "postgres"),
        # target-postgres 0.8.1 refuses to start without a password, even for trust auth.
        "TARGET_POSTGRES_PASSWORD": db.get("password") or "trust-auth-ignores-this",
        "TARGET_POSTGRES_DATABASE": db["dbname"],
    }


@contextlib.contextmanager
def new_database(postgres_url: str, time_zone: str | None = None) -> Iterator[dict[str, str]]:
    """A database of its own on the server; yields its psycopg conninfo parameters."""
    name = f"tap_gong_calls_e2e_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        if time_zone:
            conn.execute(
                sql.SQL("ALTER DATABASE {} SET timezone = {}").format(
                    sql.Identifier(name), sql.Literal(time_zone)
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


def sqlalchemy_url(db: Mapping[str, str]) -> str:
    """``postgresql+psycopg://…`` for a conninfo: how Meltano is told to keep its state there."""
    password = f":{db['password']}" if db.get("password") else ""
    host, port = db.get("host", "127.0.0.1"), db.get("port", "5432")
    return (
        f"postgresql+psycopg://{db.get('user', 'postgres')}{password}@{host}:{port}/{db['dbname']}"
    )


def doc_commands(doc: str, heading: str | None) -> list[str]:
    """The commands of the first ```bash block under ``## <heading>`` of the Markdown file
    ``doc`` (a path from the repository root; None: before its first ``##``), no comments."""
    text = (REPO / doc).read_text()
    if heading is not None:
        text = text.split(f"\n## {heading}\n", 1)[1]
    section = text.split("\n## ", 1)[0]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    commands = [line.split(" #", 1)[0].strip() for line in block.splitlines()]
    return [command for command in commands if command]


def instant(value: str | None) -> datetime | None:
    if value is None:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


@pytest.fixture
def emulator_options() -> dict[str, Any]:
    """The emulator of an end-to-end test, with credentials of its own: they reach the tap
    only through Meltano's environment, and any leak of them into a log is recognisable.

    Import it into an end-to-end module, where it overrides tests/conftest.py's."""
    return {
        "access_key": f"key-{secrets.token_hex(8)}",
        "access_key_secret": f"secret-{secrets.token_hex(16)}",
    }
