"""End to end, as a data engineer would use the tap from another Meltano project and from CI.

- A new `meltano init` project adds the tap with docs/meltano.md's `meltano add … --from-ref
  plugins/tap-gong-calls.yml`, lists its settings, installs it and extracts calls.
- Two CI runners: two fresh copies of the project, each with its own `.meltano/`, that share
  nothing but the PostgreSQL server, where Meltano keeps its state (MELTANO_DATABASE_URI). They
  run docs/meltano.md's "Scheduled loads from CI" commands; the second run is incremental.

Everything runs offline: Meltano's Hub is a local `HubGuard` that must see no request.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import psycopg
import pytest
import yaml
from psycopg.conninfo import make_conninfo

from gong_emulator import GongEmulator, make_call, seed_calls
from tests.meltano_helpers import (
    INSTALL_TIMEOUT_SECONDS,
    HubGuard,
    MeltanoProject,
    copy_project,
    doc_commands,
    emulator_options,  # noqa: F401 (a fixture, used by name)
    instant,
    meltano_executable,
    new_database,
    offline_env,
    sqlalchemy_url,
    tap_env,
    target_env,
)

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.e2e

PLUGIN_FILE_PLACEHOLDER = "path/or/raw-url/of/plugins/tap-gong-calls.yml"
MELTANO_DOC = "docs/meltano.md"
CI_STATE_ID = "prod:tap-gong-calls-to-target-postgres"  # MELTANO_ENVIRONMENT=prod, as in CI


def _meltano_args(command: str) -> list[str]:
    words = command.split()
    assert words[0] == "meltano", command
    return words[1:]


def _timed(project: MeltanoProject, *args: str, env: dict[str, str] | None = None) -> None:
    started = time.monotonic()
    project.check(*args, env=env, timeout=INSTALL_TIMEOUT_SECONDS)
    print(f"meltano {' '.join(args)}: {time.monotonic() - started:.1f}s")


# -- a new Meltano project ---------------------------------------------------------------------


def test_new_project_adds_the_tap_from_the_plugin_file(
    hub: HubGuard, emulator: GongEmulator, tmp_path: Path
) -> None:
    executable = meltano_executable()
    env = offline_env(hub)
    MeltanoProject(tmp_path, executable, env).check("init", "analytics", "--no-usage-stats")
    project = MeltanoProject(tmp_path / "analytics", executable, env, hub=hub)
    plugin_file = copy_project(tmp_path / "checkout") / "plugins" / "tap-gong-calls.yml"
    add, config_list, install = doc_commands(MELTANO_DOC, "Add to your Meltano project")

    project.check(*_meltano_args(add.replace(PLUGIN_FILE_PLACEHOLDER, str(plugin_file))))

    meltano_yml = project.root / "meltano.yml"
    definition = yaml.safe_load(meltano_yml.read_text())
    assert list(definition["plugins"]) == ["extractors"]  # no stray utility, no loader
    (extractor,) = definition["plugins"]["extractors"]
    assert extractor["name"] == "tap-gong-calls"
    assert extractor["pip_url"] == "tap-gong-calls"
    # Not on an index here: install the checkout, as docs/meltano.md says to for a source install.
    extractor["pip_url"] = str(plugin_file.parent.parent)
    meltano_yml.write_text(yaml.safe_dump(definition, sort_keys=False))

    listed = project.check(*_meltano_args(config_list), "--all").stdout
    about_names = [s["name"] for s in yaml.safe_load(plugin_file.read_text())["settings"]]
    for name in about_names:  # e.g. "access_key (required by group 1) [env: TAP_GONG_…]"
        env_var = re.escape(f"[env: TAP_GONG_CALLS_{name.upper()}]")
        line = rf"^{re.escape(name)} (\(required by group \d\) )?{env_var}"
        assert re.search(line, listed, re.MULTILINE), f"{name} not listed:\n{listed}"
    _timed(project, *_meltano_args(install))

    calls = seed_calls(5, "2024-01-01T00:00:00Z")
    emulator.add_calls(calls)
    env = tap_env(emulator, start_date="2024-01-01T00:00:00Z", end_date="2024-01-02T00:00:00Z")
    run = project.check("invoke", "tap-gong-calls", env=env)

    messages = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    records = [m["record"] for m in messages if m["type"] == "RECORD" and m["stream"] == "calls"]
    assert sorted(r["id"] for r in records) == sorted(c["id"] for c in calls)
    assert any(m["type"] == "STATE" for m in messages)
    assert emulator.access_key_secret not in run.stdout + run.stderr

    # docs/usage.md's connection check through Meltano: one request.
    emulator.reset_log()
    project.check("invoke", "tap-gong-calls", "--test", env=env)
    assert [(r.method, r.path) for r in emulator.requests] == [("GET", "/v2/calls")]


# -- two CI runners sharing only PostgreSQL -----------------------------------------------------


def test_second_runner_reads_only_lookback_and_new_calls(
    hub: HubGuard, emulator: GongEmulator, postgres_url: str, tmp_path: Path
) -> None:
    executable = meltano_executable()
    pip_install, *commands = doc_commands(MELTANO_DOC, "Scheduled loads from CI")
    assert "meltano[postgres]" in pip_install  # the tests' meltano is installed so already
    now = datetime.now(UTC).replace(microsecond=0)
    first = now - timedelta(days=4)
    emulator.add_calls(seed_calls(150, first, timedelta(minutes=30)))  # ends ~21h before now

    with new_database(postgres_url) as state_db, new_database(postgres_url) as target_db:
        env = {
            **tap_env(emulator, start_date=(first - timedelta(days=1)).isoformat()),
            **target_env(target_db),
            "MELTANO_DATABASE_URI": sqlalchemy_url(state_db),
            "MELTANO_ENVIRONMENT": "prod",
            # The request ledger in the same database, as docs/meltano.md says (no +psycopg).
            "TAP_GONG_CALLS_REQUEST_LEDGER": sqlalchemy_url(state_db).replace("+psycopg", ""),
        }

        def runner(name: str) -> MeltanoProject:
            """A fresh checkout on a fresh machine: its own .meltano/, plugins installed anew."""
            root = copy_project(tmp_path / name)
            return MeltanoProject(root, executable, offline_env(hub), hub=hub)

        first_runner = runner("runner-1")
        for command in commands:
            _timed(first_runner, *_meltano_args(command), env=env)
        with psycopg.connect(make_conninfo(**target_db)) as conn:
            assert conn.execute("SELECT count(*) FROM gong.calls").fetchone() == (150,)
        first_requests = len(emulator.requests)
        assert _ledger_total(state_db) == first_requests
        shutil.rmtree(first_runner.root)  # the runner is gone, its .meltano/ with it

        second_runner = runner("runner-2")
        install, run = commands
        _timed(second_runner, *_meltano_args(install), env=env)
        bookmark = instant(second_runner.bookmark(env, CI_STATE_ID))  # read from PostgreSQL
        assert bookmark is not None
        assert now <= bookmark <= datetime.now(UTC)

        # Calls Gong shows after the first run: new ones, one late inside the lookback
        # window (1 day), and one older than the lookback, which the second run must not read.
        new = [
            make_call(f"720000000000000000{i}", _iso(bookmark + timedelta(seconds=i)))
            for i in (1, 2)
        ]
        late = make_call("7200000000000000004", _iso(bookmark - timedelta(hours=20)))
        too_old = make_call("7200000000000000005", _iso(bookmark - timedelta(days=2)))
        emulator.add_calls([*new, late, too_old])
        emulator.reset_log()
        wait = bookmark + timedelta(seconds=3) - datetime.now(UTC)
        time.sleep(max(0.0, wait.total_seconds()))  # the new calls must be in the past

        _timed(second_runner, *_meltano_args(run), env=env)

        with psycopg.connect(make_conninfo(**target_db)) as conn:
            ids = {row[0] for row in conn.execute("SELECT id FROM gong.calls").fetchall()}
            assert conn.execute("SELECT count(*) FROM gong.calls").fetchone() == (153,)
        assert {c["id"] for c in [*new, late]} <= ids
        assert too_old["id"] not in ids
        listed = [r for r in emulator.requests if (r.method, r.path) == ("GET", "/v2/calls")]
        assert len(listed) == len(emulator.requests) <= 3, emulator.requests  # 2-3 requests
        starts = [instant(r.query["fromDateTime"]) for r in listed]
        assert min(s for s in starts if s is not None) == bookmark - timedelta(days=1), starts
        assert not list(second_runner.root.glob(".meltano/*.db"))  # no state on the runner
        later = instant(second_runner.bookmark(env, CI_STATE_ID))
        assert later is not None
        assert later > bookmark
        # Both runners' requests are in the ledger, which outlived the first runner.
        assert _ledger_total(state_db) == first_requests + len(emulator.requests)


def _ledger_total(db: dict[str, str]) -> int:
    """The requests the tap's PostgreSQL ledger holds, over every hour and host."""
    with psycopg.connect(make_conninfo(**db)) as conn:
        row = conn.execute("SELECT coalesce(sum(requests), 0) FROM tap_gong_calls_requests")
        return int(row.fetchone()[0])  # type: ignore[index]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
