"""End to end: 100,000 call ids through `meltano run`, from a `call_ids_file`.

Meltano passes each setting to the tap as one environment variable, and Linux caps one at
128 KiB: `call_ids` fails past about 5,900 ids (`Argument list too long`). The file takes any
number. Here the emulator holds 50 calls and the file 100,000 ids (those 50 among 99,950 it does
not know): `calls` alone, batched by 100, is 1,000 requests at the emulator's pace (no rate
limit), a few seconds. Uses conftest's shared `meltano_project` (tap and target-postgres
installed once per session) and a database of its own.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from gong_emulator import seed_calls
from tests.meltano_helpers import (
    emulator_options,  # noqa: F401 (a fixture, used by name)
    tap_env,
    target_env,
)

if TYPE_CHECKING:
    from pathlib import Path

    from gong_emulator import GongEmulator
    from tests.meltano_helpers import MeltanoProject

pytestmark = pytest.mark.e2e

KNOWN = seed_calls(50)
UNKNOWN = [str(8_000_000_000_000_000_000 + n) for n in range(99_950)]


def test_100000_ids_from_a_file_through_meltano_run(
    meltano_project: MeltanoProject,
    emulator: GongEmulator,
    target_db: dict[str, str],
    tmp_path: Path,
) -> None:
    ids = list(UNKNOWN)
    for n, call in enumerate(KNOWN):  # the known ids spread over the file
        ids.insert(n * 2_000, call["id"])
    assert len(ids) == 100_000
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text("# calls to reload\n" + "\n".join(ids) + "\n")
    emulator.add_calls(KNOWN)
    env = {
        **tap_env(
            emulator,
            streams=("calls",),
            call_ids_file=str(ids_file),
            batch_call_ids="true",
            daily_request_budget="2000",  # 1,000 requests; a run by id fits whole or not at all
            requests_per_second="1000",
        ),
        **target_env(target_db),
        "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'meltano.db'}",  # state of its own
    }
    started = time.monotonic()

    result = meltano_project.check("run", "tap-gong-calls", "target-postgres", env=env)

    print(f"meltano run, 100,000 ids: {time.monotonic() - started:.1f}s")
    summary = [line for line in result.stderr.splitlines() if "Summary: requested" in line]
    assert len(summary) == 1, result.stderr[-3000:]
    assert re.search(r"Summary: requested 100000, emitted 50, missing 99950\b", summary[0])
    assert {r.path for r in emulator.requests} == {"/v2/calls/extensive"}
    assert len(emulator.requests) == 1_000
    with psycopg.connect(make_conninfo(**target_db)) as conn:
        loaded = [row[0] for row in conn.execute("SELECT id FROM gong.calls").fetchall()]
    assert sorted(loaded) == sorted(call["id"] for call in KNOWN)
