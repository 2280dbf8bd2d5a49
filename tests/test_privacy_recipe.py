"""The privacy recipe, end to end: hashed e-mail addresses and no phone numbers in PostgreSQL.

The stream maps are read from docs/postgres.md ("Keep e-mail addresses and phone numbers out of
the warehouse"), so the recipe cannot drift from what works, and given to the real `meltano run
tap-gong-calls target-postgres` only as TAP_GONG_CALLS_STREAM_MAPS: the addresses are hashed
in the database only if Meltano passed that variable to the tap (the target never sees the
maps). Meltano 4.4 drops a setting the plugin definition does not declare.

Select with ``-m e2e``; deselect with ``-m "not e2e"``.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from psycopg.conninfo import make_conninfo

from gong_emulator import GongEmulator, seed_calls
from tests.meltano_helpers import (
    MeltanoProject,
    emulator_options,  # noqa: F401 (a fixture, used by name)
    new_database,
    tap_env,
    target_env,
)

RECIPE_DOC = Path(__file__).resolve().parent.parent / "docs/postgres.md"
RECIPE_HEADING = "## Keep e-mail addresses and phone numbers out of the warehouse"
VARIABLE = "TAP_GONG_CALLS_STREAM_MAPS"
EMAIL = re.compile(r"[^\s\"@]+@[^\s\"@]+\.[a-z]+")


def _recipe() -> str:
    after_heading = RECIPE_DOC.read_text().split(f"\n{RECIPE_HEADING}\n", 1)[1]
    return re.split(r"\n#{2,3} ", after_heading, maxsplit=1)[0]


def recipe_variable() -> str:
    """The value the recipe exports as TAP_GONG_CALLS_STREAM_MAPS, exactly as a shell reads it."""
    block = _recipe().split("```bash\n", 1)[1].split("```", 1)[0]
    (line,) = [line for line in block.splitlines() if VARIABLE in line]
    words = shlex.split(line)
    assert words[0] == "export", line
    name, value = words[1].split("=", 1)
    assert name == VARIABLE, line
    return value


def recipe_yaml_maps() -> Any:
    """The stream_maps of the recipe's meltano.yml form."""
    block = _recipe().split("```yaml\n", 1)[1].split("```", 1)[0]
    (extractor,) = yaml.safe_load(block)["plugins"]["extractors"]
    assert extractor["name"] == "tap-gong-calls"
    return extractor["config"]["stream_maps"]


def test_recipe_says_the_same_in_meltano_yml_and_as_a_variable() -> None:
    maps = json.loads(recipe_variable())
    assert maps == recipe_yaml_maps()
    assert set(maps["call_participants"]) == {"emailAddress", "phoneNumber"}


# -- end to end ------------------------------------------------------------------------------


@pytest.mark.e2e
def test_participants_land_with_hashed_addresses_and_no_phone_numbers(
    meltano_project: MeltanoProject,
    emulator: GongEmulator,
    postgres_url: str,
    tmp_path: Path,
) -> None:
    calls = seed_calls(40, "2024-05-01T00:00:00Z")
    emulator.add_calls(calls)
    ids = [call["id"] for call in calls]
    held = {
        (call_id, party["id"]): party
        for call_id in ids
        for party in emulator.extensive_of(call_id).get("parties", [])
    }
    addresses = {
        key: party["emailAddress"] for key, party in held.items() if "emailAddress" in party
    }
    phones = {party["phoneNumber"] for party in held.values() if "phoneNumber" in party}
    # What makes the run a test of the recipe: both kinds of party, and numbers to hide.
    assert addresses, "no party with an address"
    assert len(addresses) < len(held), "no party without an address"
    assert phones, "no party with a phone number"

    with new_database(postgres_url) as db:
        env = {
            **tap_env(emulator, streams=("call_participants",), call_ids=json.dumps(ids)),
            VARIABLE: recipe_variable(),  # the only place the maps are given
            **target_env(db),
            "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'meltano.db'}",
        }

        meltano_project.check("run", "tap-gong-calls", "target-postgres", env=env)

        with psycopg.connect(make_conninfo(**db)) as conn:
            columns: dict[str, str] = dict(
                conn.execute(
                    "SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_schema = 'gong' AND table_name = 'call_participants'"
                ).fetchall()
            )
            rows = conn.execute(
                'SELECT "callId", id, "emailAddress", row_to_json(p)::text '
                "FROM gong.call_participants AS p"
            ).fetchall()
            # The recipe's clean-up of rows loaded before the map relies on this.
            sample = next(iter(addresses.values()))
            (pg_md5,) = conn.execute("SELECT md5(%s)", (sample,)).fetchone() or (None,)

    # Dropped, not merely emptied. A column here means the maps never reached the tap.
    assert "phoneNumber" not in columns, f"{VARIABLE} did not reach the tap: {sorted(columns)}"
    assert columns["emailAddress"] in ("text", "character varying"), columns
    assert len(rows) == len(held)
    loaded = {(call_id, party_id): email for call_id, party_id, email, _ in rows}
    assert set(loaded) == set(held)
    for key, party in held.items():
        if "emailAddress" in party:
            assert loaded[key] == hashlib.md5(party["emailAddress"].encode()).hexdigest(), key
        else:  # a phone caller: NULL, not the hash of "None"
            assert loaded[key] is None, (key, loaded[key])
    for *_, whole_row in rows:
        assert not EMAIL.search(whole_row), whole_row
        assert not any(phone in whole_row for phone in phones), whole_row
    assert pg_md5 == hashlib.md5(sample.encode()).hexdigest()

    assert meltano_project.hub is not None
    assert not meltano_project.hub.requests, meltano_project.hub.requests
