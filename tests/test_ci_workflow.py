"""examples/github-actions.yml is a scheduled workflow that runs docs/meltano.md's recipe.

It parses, is triggered by a schedule, takes every credential from the CI's secret store as
an environment variable (none is written in the file), keeps Meltano's state in PostgreSQL
through MELTANO_DATABASE_URI, and its steps run exactly the commands of docs/meltano.md's
"Scheduled loads from CI" (which tests/test_meltano_ci.py runs on two simulated runners).
"""

from __future__ import annotations

import re
import shlex
from typing import Any

import pytest
import yaml

from tests.meltano_helpers import REPO, doc_commands

WORKFLOW = REPO / "examples" / "github-actions.yml"
MELTANO_DOC = "docs/meltano.md"
SECRET_ENV = (
    "MELTANO_DATABASE_URI",
    "TAP_GONG_CALLS_ACCESS_KEY",
    "TAP_GONG_CALLS_ACCESS_KEY_SECRET",
    "TAP_GONG_CALLS_REQUEST_LEDGER",  # a PostgreSQL URL, with its password
    "TARGET_POSTGRES_PASSWORD",
)
SECRET_EXPRESSION = re.compile(r"^\$\{\{\s*secrets\.[A-Z0-9_]+\s*\}\}$")


@pytest.fixture(scope="module")
def workflow() -> dict[Any, Any]:
    return dict(yaml.safe_load(WORKFLOW.read_text()))


@pytest.fixture(scope="module")
def job(workflow: dict[Any, Any]) -> dict[str, Any]:
    (only,) = workflow["jobs"].values()
    return dict(only)


def _commands(job: dict[str, Any]) -> list[str]:
    lines = [line for step in job["steps"] for line in step.get("run", "").splitlines()]
    return [" ".join(shlex.split(line)) for line in lines if line.strip()]


def test_it_runs_on_a_schedule(workflow: dict[Any, Any]) -> None:
    # PyYAML reads the bare key `on` as the boolean True (YAML 1.1).
    triggers = workflow["on"] if "on" in workflow else workflow[True]
    assert triggers["schedule"][0]["cron"].split()[1] == "*"  # hourly
    assert workflow["concurrency"]["cancel-in-progress"] is False  # one run per bookmark


def test_credentials_come_from_secrets_as_environment_variables(job: dict[str, Any]) -> None:
    env = job["env"]
    for name in SECRET_ENV:
        assert SECRET_EXPRESSION.match(env[name]), f"{name} must be ${{{{ secrets.… }}}}"
    literal = {k: v for k, v in env.items() if "${{" not in str(v)}
    assert set(literal) <= {
        "MELTANO_ENVIRONMENT",
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS",
        "MELTANO_DISABLE_TRACKING",
    }, literal
    assert "secrets." not in " ".join(step.get("run", "") for step in job["steps"])


def test_steps_run_the_documented_recipe(job: dict[str, Any]) -> None:
    commands = doc_commands(MELTANO_DOC, "Scheduled loads from CI")
    recipe = [" ".join(shlex.split(command)) for command in commands]
    assert any("meltano[postgres]" in command for command in recipe)  # psycopg for the URI
    assert recipe[-1] == "meltano run tap-gong-calls target-postgres"

    assert _commands(job) == recipe
