"""End to end: `meltano select` in this project selects what a Meltano user expects.

The project's `meltano.yml` has no `select:` list (Meltano's default: every stream and
property), so the first `meltano select` starts a list that replaces that default. The
commands of docs/meltano.md's "Selecting streams and properties" run as written in a fresh
copy of the project (they rewrite its `meltano.yml`), then `meltano select --json` and a run
of the tap say what is selected.

Everything runs offline: Meltano's Hub is a local `HubGuard` that must see no request.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
import yaml

from gong_emulator import GongEmulator, seed_calls
from tests.meltano_helpers import (
    HubGuard,
    MeltanoProject,
    copy_project,
    doc_commands,
    emulator_options,  # noqa: F401 (a fixture, used by name)
    meltano_executable,
    offline_env,
    tap_env,
)
from tests.tap_runner import EVERY_STREAM

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.e2e

MELTANO_DOC = "docs/meltano.md"
CALLS = seed_calls(3, "2024-01-01T00:00:00Z")


@pytest.fixture
def project(hub: HubGuard, tmp_path: Path, meltano_project: MeltanoProject) -> MeltanoProject:
    """A fresh copy of the project (`meltano select` writes its meltano.yml), using the tap the
    session's project installed: the same pip_url, so Meltano takes it as installed."""
    root = copy_project(tmp_path / "project")
    (root / ".meltano").mkdir(exist_ok=True)
    (root / ".meltano" / "extractors").symlink_to(meltano_project.root / ".meltano" / "extractors")
    return MeltanoProject(root, meltano_executable(), offline_env(hub), hub=hub)


def selected(project: MeltanoProject) -> set[str]:
    """``stream.property`` of everything `meltano select --json` says a run extracts."""
    listed = json.loads(project.check("select", "tap-gong-calls", "--json").stdout)
    return {
        f"{entry['stream']}.{entry['property']}"
        for entry in listed["streams"]
        if entry["selection"] in ("selected", "automatic")
    }


def streams_of(properties: set[str]) -> set[str]:
    return {name.split(".", 1)[0] for name in properties}


def select_rules(project: MeltanoProject) -> list[str] | None:
    (extractor,) = yaml.safe_load((project.root / "meltano.yml").read_text())["plugins"][
        "extractors"
    ]
    return extractor.get("select")


def test_the_documented_selection_replaces_the_default_of_every_stream(
    project: MeltanoProject, emulator: GongEmulator
) -> None:
    assert select_rules(project) is None  # Meltano's default: every stream and property
    everything = selected(project)
    assert streams_of(everything) == set(EVERY_STREAM)
    assert "call_transcripts.transcript" in everything

    commands = doc_commands(MELTANO_DOC, "Selecting streams and properties")
    assert commands[0] == "meltano select tap-gong-calls call_transcripts callId"
    for command in commands:
        words = command.split()
        assert words[0] == "meltano", command
        project.check(*(word.strip("'") for word in words[1:]))

    assert select_rules(project) == ["call_transcripts.callId", "calls.*"]
    now = selected(project)
    assert {p for p in now if p.startswith("call_transcripts.")} == {"call_transcripts.callId"}
    assert streams_of(now) == {"calls", "call_transcripts"}
    assert {p for p in everything if p.startswith("calls.")} <= now  # every field of calls

    # A run extracts just that: every field of calls, and the transcripts' callId alone.
    emulator.add_calls(CALLS)
    ids = [call["id"] for call in CALLS]
    env = tap_env(emulator, streams=None, call_ids=json.dumps(ids))  # meltano.yml's selection
    run = project.check("invoke", "tap-gong-calls", env=env)
    messages = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    records = [m for m in messages if m["type"] == "RECORD"]
    assert {m["stream"] for m in records} == {"calls", "call_transcripts"}
    transcripts = [m["record"] for m in records if m["stream"] == "call_transcripts"]
    assert transcripts == [{"callId": call_id} for call_id in ids]
    calls = [m["record"] for m in records if m["stream"] == "calls"]
    assert [c["id"] for c in calls] == ids
    assert {f"calls.{key}" for call in calls for key in call} == {
        p for p in now if p.startswith("calls.")
    }


def test_one_stream_is_dropped_after_selecting_every_stream(project: MeltanoProject) -> None:
    # docs/meltano.md: an exclude alone selects nothing; after '*' '*' it drops its stream.
    project.check("select", "tap-gong-calls", "--exclude", "call_details", "*")
    assert selected(project) == set()

    project.check("select", "tap-gong-calls", "--clear")
    project.check("select", "tap-gong-calls", "*", "*")
    project.check("select", "tap-gong-calls", "--exclude", "call_details", "*")

    assert select_rules(project) == ["*.*", "!call_details.*"]
    assert streams_of(selected(project)) == set(EVERY_STREAM) - {"call_details"}
