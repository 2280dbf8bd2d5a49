"""plugins/tap-gong-calls.yml and meltano.yml declare what `tap-gong-calls --about` says.

Meltano passes a plugin only the settings its definition declares: a setting left out of
either file is dropped without a word (TAP_GONG_CALLS_STREAM_MAPS, and with it a map meant to
keep e-mail addresses out of the warehouse, was).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.meltano_helpers import HubGuard, MeltanoProject, meltano_executable, offline_env
from tests.tap_runner import tap_executable

REPO = Path(__file__).resolve().parent.parent
PLUGIN_FILE = REPO / "plugins" / "tap-gong-calls.yml"
MELTANO_YML = REPO / "meltano.yml"
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


def _project_extractor() -> dict[str, Any]:
    (extractor,) = yaml.safe_load(MELTANO_YML.read_text())["plugins"]["extractors"]
    return dict(extractor)


DEFINITIONS = {
    "plugins/tap-gong-calls.yml": lambda: dict(yaml.safe_load(PLUGIN_FILE.read_text())),
    "meltano.yml": _project_extractor,
}


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
    # request_ledger is secret for the password a PostgreSQL URL may hold: no way to log in.
    assert {name for group in groups for name in group} == secrets - {"request_ledger"}, FIX


@pytest.mark.parametrize("file", list(DEFINITIONS))
def test_every_about_setting_is_declared_with_its_kind(about: dict[str, Any], file: str) -> None:
    """Names and kinds in both files; meltano.yml's descriptions may say more (defaults)."""
    properties = about["settings"]["properties"]
    declared = {setting["name"]: setting for setting in DEFINITIONS[file]()["settings"]}
    fix = f"Update {file} to match `tap-gong-calls --about`"

    missing = [name for name in properties if name not in declared]
    extra = [name for name in declared if name not in properties]
    assert not missing, f"{fix}: Meltano would drop these settings: {missing}"
    assert not extra, f"{fix}: settings the tap does not have: {extra}"
    for name, schema in properties.items():
        setting = declared[name]
        assert setting["kind"] == _kind(schema), f"{fix}: kind of {name}"
        assert setting.get("label"), f"{fix}: {name} has no label"
        assert setting.get("description"), f"{fix}: {name} has no description"
        assert bool(setting.get("sensitive")) == bool(schema.get("secret")), f"{fix}: {name}"


# What a user sets as environment variables for singer-sdk's settings, and the config Meltano
# must hand the tap: the JSON objects parsed, booleans and integers typed.
SDK_SETTINGS_ENV = {
    "TAP_GONG_CALLS_STREAM_MAPS": '{"call_participants": {"phoneNumber": "__NULL__"}}',
    "TAP_GONG_CALLS_STREAM_MAP_CONFIG": '{"salt": "pepper"}',
    "TAP_GONG_CALLS_FAKER_CONFIG": '{"seed": 7, "locale": "de_DE"}',
    "TAP_GONG_CALLS_FLATTENING_ENABLED": "true",
    "TAP_GONG_CALLS_FLATTENING_MAX_DEPTH": "2",
    "TAP_GONG_CALLS_FLATTENING_MAX_KEY_LENGTH": "63",
    "TAP_GONG_CALLS_FLATTENING_SEPARATOR": ".",
}
SDK_SETTINGS_CONFIG = {
    "stream_maps": {"call_participants": {"phoneNumber": "__NULL__"}},
    "stream_map_config": {"salt": "pepper"},
    "faker_config": {"seed": 7, "locale": "de_DE"},
    "flattening_enabled": True,
    "flattening_max_depth": 2,
    "flattening_max_key_length": 63,
    "flattening_separator": ".",
}


def _project_with(file: str, root: Path) -> Path:
    """A Meltano project whose extractor is the definition in ``file``."""
    if file == "meltano.yml":
        shutil.copy2(MELTANO_YML, root / "meltano.yml")
    else:  # as `meltano add --from-ref` would write it (no install is needed to read config)
        project: dict[str, Any] = {"default_environment": "dev", "environments": [{"name": "dev"}]}
        project["plugins"] = {"extractors": [DEFINITIONS[file]()]}
        (root / "meltano.yml").write_text(yaml.safe_dump(project, sort_keys=False))
    return root


@pytest.mark.slow
@pytest.mark.parametrize("file", list(DEFINITIONS))
def test_meltano_passes_sdk_settings_from_environment_variables(
    hub: HubGuard, tmp_path: Path, file: str
) -> None:
    project = MeltanoProject(_project_with(file, tmp_path), meltano_executable(), offline_env(hub))

    printed = project.check("config", "print", "tap-gong-calls", env=SDK_SETTINGS_ENV)

    config = json.loads(printed.stdout)
    assert {k: config.get(k) for k in SDK_SETTINGS_CONFIG} == SDK_SETTINGS_CONFIG
