"""Shared pytest fixtures. Keep each group of fixtures under its own heading."""

from __future__ import annotations

import fcntl
import os
import tempfile
import time
from typing import TYPE_CHECKING, Any

import pytest

from gong_emulator import GongEmulator
from tests.meltano_helpers import (
    INSTALL_TIMEOUT_SECONDS,
    HubGuard,
    MeltanoProject,
    copy_project,
    meltano_executable,
    new_database,
    offline_env,
)
from tests.postgres import PostgresUnavailableError, start_throwaway_cluster
from tests.tap_runner import CREDENTIALS

if TYPE_CHECKING:
    from collections.abc import Iterator

# The tap records its requests in a ledger in the user's cache folder (gong/ledger.py): the
# tests' runs keep theirs out of the developer's. tests/tap_runner.py gives each run its own.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="tap-gong-calls-tests-cache-")


# -- the Gong emulator -----------------------------------------------------------------------
#
# A module sets up its `emulator` by overriding `emulator_options`, `emulator_calls` and
# `emulator_late_transcripts`; one that needs more overrides `emulator` itself, asking for
# this one: `def emulator(emulator): emulator.inject(...); return emulator`.
# Build a module's settings with tests.tap_runner.config(emulator, **settings).


@pytest.fixture
def emulator_options() -> dict[str, Any]:
    """GongEmulator options over CREDENTIALS (a module's override may replace those too)."""
    return {}


@pytest.fixture
def emulator_calls() -> list[dict[str, Any]]:
    """The calls the emulator holds when a test starts."""
    return []


@pytest.fixture
def emulator_late_transcripts() -> list[str]:
    """The ids among those calls whose transcript Gong has not made ready yet."""
    return []


@pytest.fixture
def emulator(
    emulator_options: dict[str, Any],
    emulator_calls: list[dict[str, Any]],
    emulator_late_transcripts: list[str],
) -> Iterator[GongEmulator]:
    """A started emulator of its own for one test, stopped after it (its log stays readable)."""
    with GongEmulator(**{**CREDENTIALS, **emulator_options}) as emu:
        emu.add_calls(emulator_calls)
        for call_id in emulator_late_transcripts:
            emu.set_transcript_ready(call_id, False)
        yield emu


# -- PostgreSQL (end-to-end tests) ---------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server URL for the whole session.

    $TEST_POSTGRES_URL when set (its user needs CREATEDB: each test makes its own database);
    else a throwaway cluster started from the server binaries on this machine. Without either
    the test is skipped, or failed when REQUIRE_POSTGRES=1 (as in CI, where a skip would hide
    a missing install step).
    """
    if url := os.environ.get("TEST_POSTGRES_URL"):
        yield url
        return
    try:
        url, close = start_throwaway_cluster()
    except PostgresUnavailableError as exc:
        reason = f"PostgreSQL unavailable: {exc}"
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    try:
        yield url
    finally:
        close()


# Any TimeZone but UTC: loads must not depend on the database's session time zone.
DATABASE_TIME_ZONE = "Asia/Kolkata"


@pytest.fixture
def target_db(postgres_url: str) -> Iterator[dict[str, str]]:
    """A new database for one test (its TimeZone not UTC); yields its psycopg conninfo."""
    with new_database(postgres_url, DATABASE_TIME_ZONE) as params:
        yield params


# -- Meltano (end-to-end tests) ----------------------------------------------------------------


@pytest.fixture
def hub() -> Iterator[HubGuard]:
    """A local stand-in for Meltano Hub for one test; the test fails if Meltano called it."""
    guard = HubGuard()
    try:
        yield guard
    finally:
        guard.close()
    assert not guard.requests, f"Meltano contacted its Hub: {guard.requests}"


@pytest.fixture(scope="session")
def meltano_project(
    tmp_path_factory: pytest.TempPathFactory, worker_id: str
) -> Iterator[MeltanoProject]:
    """A copy of the project with the tap and target-postgres installed by the real meltano.

    The plugins are installed once per test session, by whichever xdist worker needs them first
    (the others wait for it); each worker's copy of the project links to them, and keeps its
    own run files (Meltano writes a run's catalog and config into the project). Shared by the
    e2e modules: each test brings its own database, Meltano state (MELTANO_DATABASE_URI) and
    settings (environment variables), and none writes to the project's files.
    """
    base = tmp_path_factory.getbasetemp()
    shared = base if worker_id == "master" else base.parent  # what every worker sees
    installed = shared / "meltano-plugins"
    hub = HubGuard()
    try:
        with (shared / "meltano-plugins.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            if not (installed / ".meltano" / "installed").exists():
                installer = MeltanoProject(
                    copy_project(installed), meltano_executable(), offline_env(hub), hub=hub
                )
                for plugin_type, name in (
                    ("extractor", "tap-gong-calls"),
                    ("loader", "target-postgres"),
                ):
                    started = time.monotonic()
                    installer.check("install", plugin_type, name, timeout=INSTALL_TIMEOUT_SECONDS)
                    print(f"meltano install {name}: {time.monotonic() - started:.1f}s")
                (installed / ".meltano" / "installed").write_text("")
        root = copy_project(base / "meltano-project")
        (root / ".meltano").mkdir()
        for kind in ("extractors", "loaders"):  # the same pip_url: Meltano takes them installed
            (root / ".meltano" / kind).symlink_to(installed / ".meltano" / kind)
        yield MeltanoProject(root, meltano_executable(), offline_env(hub), hub=hub)
    finally:
        hub.close()
    assert not hub.requests, f"Meltano contacted its Hub: {hub.requests}"
