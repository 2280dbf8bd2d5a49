"""plugins/tap-gong-calls.yml says what `tap-gong-calls --about` says, so it cannot drift."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.tap_runner import tap_executable

PLUGIN_FILE = Path(__file__).resolve().parent.parent / "plugins" / "tap-gong-calls.yml"
FIX = "Update plugins/tap-gong-calls.yml to match `tap-gong-calls --about`"
# Meltano 4.4 cannot take a decimal setting from an environment variable (see the plugin file),
# so JSON Schema numbers are declared integer there, as in meltano.yml.
KINDS = {"string": "string", "integer": "integer", "number": "integer", "boolean": "boolean"}
KINDS |= {"array": "array", "object": "object"}


@pytest.fixture(scope="module")
def about() -> dict[str, Any]:
    result = subprocess.run(
        [tap_executable(), "--about", "--format=json"], capture_output=True, text=True, check=True
    )
    return dict(json.loads(result.stdout))


@pytest.fixture(scope="module")
def plugin() -> dict[str, Any]:
    return dict(yaml.safe_load(PLUGIN_FILE.read_text()))


def _kind(schema: dict[str, Any]) -> str:
    types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    (json_type,) = [t for t in types if t != "null"]
    if json_type == "string" and schema.get("format") == "date-time":
        return "date_iso8601"
    return KINDS[json_type]


def _expected(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """The plugin-definition entry a setting of --about calls for."""
    entry = {"name": name, "kind": _kind(schema), "label": schema["title"]}
    if schema.get("secret"):
        entry["sensitive"] = True
    if "default" in schema:
        entry["value"] = schema["default"]
    entry["description"] = schema["description"]
    return entry


def test_settings_match_about(about: dict[str, Any], plugin: dict[str, Any]) -> None:
    properties = about["settings"]["properties"]
    declared = {setting["name"]: setting for setting in plugin["settings"]}

    missing = sorted(set(properties) - set(declared))
    extra = sorted(set(declared) - set(properties))
    assert not missing, f"{FIX}: settings missing from the plugin file: {missing}"
    assert not extra, f"{FIX}: settings the tap does not have: {extra}"
    assert list(declared) == list(properties), f"{FIX}: keep the settings in --about's order"
    for name, schema in properties.items():
        assert schema.get("description"), f"{name} has no description in the tap"
        assert declared[name] == _expected(name, schema), f"{FIX}: setting {name} differs"


def test_plugin_metadata_matches_about(about: dict[str, Any], plugin: dict[str, Any]) -> None:
    assert plugin["name"] == about["name"] == "tap-gong-calls"
    assert plugin["namespace"] == "tap_gong_calls"
    assert plugin["executable"] == "tap-gong-calls"
    assert sorted(plugin["capabilities"]) == sorted(about["capabilities"]), FIX
    # Without a variant the plugin is custom: Meltano then needs neither its Hub nor a lock file.
    assert "variant" not in plugin
    secrets = {n for n, s in about["settings"]["properties"].items() if s.get("secret")}
    groups = plugin["settings_group_validation"]
    assert groups == [["access_key", "access_key_secret"], ["access_token"]]
    assert {name for group in groups for name in group} == secrets, FIX
