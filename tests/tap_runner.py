"""Run the installed ``tap-gong-calls`` as a whole process and read what a user would see."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

from gong_emulator import GongEmulator
from tap_gong_calls.tap import TapGongCalls

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping
    from concurrent.futures import Future

    import pytest

    from gong_emulator import Fault

ScenarioT = TypeVar("ScenarioT")
OutcomeT = TypeVar("OutcomeT")

CREDENTIALS: dict[str, Any] = {
    "access_key": "key-AKIA-test-7777",
    "access_key_secret": "secret-s3cr3t-9999",
}
FAST = {"requests_per_second": 500}  # where the request count, not the pace, is under test


def config(emu: GongEmulator, **settings: Any) -> dict[str, Any]:
    """The tap's settings against ``emu``: CREDENTIALS, its URL, FAST, then ``settings``.

    A setting of None is dropped (``requests_per_second=None``: the tap's default pace).
    """
    merged = {**CREDENTIALS, "api_url": emu.url, **FAST, **settings}
    return {key: value for key, value in merged.items() if value is not None}


def tap_executable() -> str:
    """The console script of the environment running the tests."""
    beside_python = Path(sys.executable).parent / "tap-gong-calls"
    return str(beside_python) if beside_python.exists() else shutil.which("tap-gong-calls") or ""


@dataclass
class TapRun:
    returncode: int
    messages: list[dict[str, Any]]
    stdout: str
    stderr: str
    records: list[dict[str, Any]] = field(init=False)
    states: list[dict[str, Any]] = field(init=False)

    def __post_init__(self) -> None:
        self.records = [m["record"] for m in self.messages if m["type"] == "RECORD"]
        self.states = [m["value"] for m in self.messages if m["type"] == "STATE"]

    @property
    def ids(self) -> list[str]:
        return [r["id"] for r in self.records]

    def records_of(self, stream: str) -> list[dict[str, Any]]:
        """The records of one stream, in the order they came."""
        return [
            m["record"] for m in self.messages if m["type"] == "RECORD" and m["stream"] == stream
        ]

    def schemas(self) -> dict[str, dict[str, Any]]:
        """The last SCHEMA message of each stream."""
        return {m["stream"]: m for m in self.messages if m["type"] == "SCHEMA"}

    @property
    def last_state(self) -> dict[str, Any] | None:
        return self.states[-1] if self.states else None

    def explain(self) -> str:
        """For assertion messages: the tail of what the tap wrote to stderr."""
        return f"exit {self.returncode}; stderr tail:\n" + "\n".join(self.stderr.splitlines()[-15:])


def parse_messages(stdout: str) -> list[dict[str, Any]]:
    """Singer messages from stdout; every line must be one (a stray print breaks targets)."""
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


ALL_STREAMS = ("calls", "call_participants", "call_details", "call_transcripts")
# The streams beside the calls, and every stream of the tap (what no catalog selects).
COMPANY_STREAMS = ("answered_scorecards", "scorecards", "trackers", "users", "workspaces")
EVERY_STREAM = (*ALL_STREAMS, *COMPANY_STREAMS)


def catalog_selecting(config: dict[str, Any], streams: tuple[str, ...]) -> dict[str, Any]:
    """The tap's discovered catalog with only ``streams`` selected, as `meltano select` makes."""
    tap = TapGongCalls(config=config, parse_env_config=False, validate_config=False)
    catalog = tap.catalog_dict
    for entry in catalog["streams"]:
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = entry["tap_stream_id"] in streams
    return catalog


def completed_range_state(end: str) -> dict[str, Any]:
    """The state a date-range run leaves once every call before ``end`` was emitted (without
    workspace_id), less the requests it counts for the daily budget: see ``split_usage``."""
    calls = {"replication_key": "started", "replication_key_value": end, "workspace_id": None}
    return {"bookmarks": {"calls": calls}}


def split_usage(state: dict[str, Any] | None) -> tuple[dict[str, Any], int]:
    """``state`` without its daily-budget usage (``bookmarks.calls.requests``), and the
    number of requests that usage counts."""
    assert state is not None
    rest = json.loads(json.dumps(state))
    usage = rest["bookmarks"]["calls"].pop("requests")
    return rest, sum(count for _, count in usage)


def start_tap(
    config: dict[str, Any], folder: Path, *, stderr: int | IO[str] = subprocess.DEVNULL
) -> subprocess.Popen[str]:
    """Start the tap with ``config`` (written to ``folder``) for reading its stdout line by line,
    as a target would, to stop it mid-run; use it as a context manager."""
    config_path = folder / "config.json"
    config_path.write_text(json.dumps(config))
    return subprocess.Popen(
        [tap_executable(), "--config", str(config_path)],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        cwd=folder,
        env={**os.environ, "XDG_CACHE_HOME": str(folder)},  # a request ledger of its own
    )


def run_tap(
    config: dict[str, Any],
    *,
    streams: tuple[str, ...] | None = ("calls",),
    state: dict[str, Any] | None = None,
    args: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> TapRun:
    """Run the tap once with ``config`` (and ``state``) in files, as Meltano would.

    ``streams`` are the selected streams (a catalog is passed); None passes no catalog,
    which selects every stream.
    """
    with tempfile.TemporaryDirectory() as folder:
        config_path = Path(folder, "config.json")
        config_path.write_text(json.dumps(config))
        command = [tap_executable(), "--config", str(config_path), *args]
        if streams is not None and "--discover" not in args and "--about" not in args:
            catalog_path = Path(folder, "catalog.json")
            catalog_path.write_text(json.dumps(catalog_selecting(config, streams)))
            command += ["--catalog", str(catalog_path)]
        if state is not None:
            state_path = Path(folder, "state.json")
            state_path.write_text(json.dumps(state))
            command += ["--state", str(state_path)]
        process = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            # A request ledger of its own, unless the test shares one between runs.
            env={**os.environ, "XDG_CACHE_HOME": folder, **(env or {})},
            cwd=folder,  # no stray .env of the developer's is picked up
            check=False,
        )
    return TapRun(
        process.returncode, parse_messages(process.stdout), process.stdout, process.stderr
    )


def play_selected(
    request: pytest.FixtureRequest,
    scenarios: Mapping[str, ScenarioT],
    play: Callable[[ScenarioT], OutcomeT],
) -> Iterator[dict[str, Future[OutcomeT]]]:
    """Play, four at a time in the background, the scenarios the selected tests name.

    For a module fixture: a tap process is mostly Python starting up, so independent runs
    overlap well. Tests name theirs with a ``scenario`` parameter and wait for its Future.
    """
    specs = [
        getattr(item, "callspec", None)  # a parametrized test's parameters
        for item in request.session.items
        if getattr(item, "module", None) is request.module
    ]
    wanted = {spec.params["scenario"] for spec in specs if spec and "scenario" in spec.params}
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="scenario") as pool:
        futures = {key: pool.submit(play, s) for key, s in scenarios.items() if key in wanted}
        yield futures
        for future in futures.values():  # after pytest -x, do not play the rest
            future.cancel()


# -- scenarios: independent tap runs, each against an emulator of its own ----------------------


@dataclass
class Scenario:
    """One tap run against a fresh emulator holding a module's calls (+ ``calls``).

    ``mode`` is what the module's config makes of it (ids, date range, ...); ``settings``
    override that config, a value of None dropping the setting; ``emulator`` are options of
    the GongEmulator over CREDENTIALS; ``faults`` are queued before the run.
    """

    mode: str
    faults: tuple[Fault, ...] = ()
    settings: dict[str, Any] = field(default_factory=dict)
    emulator: dict[str, Any] = field(default_factory=dict)
    calls: tuple[dict[str, Any], ...] = ()
    env: dict[str, str] | None = None


@dataclass
class Outcome:
    run: TapRun
    emu: GongEmulator  # stopped; its request log stays readable


def play(
    scenario: Scenario,
    calls: list[dict[str, Any]],
    settings_of: Callable[[GongEmulator, Scenario], dict[str, Any]],
) -> Outcome:
    """Run the tap once as ``scenario`` says, with the settings ``settings_of`` makes."""
    with GongEmulator(**{**CREDENTIALS, **scenario.emulator}) as emu:
        emu.add_calls([*calls, *scenario.calls])
        emu.inject(*scenario.faults)
        run = run_tap(settings_of(emu, scenario), env=scenario.env)
        return Outcome(run, emu)
