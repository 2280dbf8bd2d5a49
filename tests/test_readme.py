"""The README tells the truth about the settings: its table is the tap's own --about output."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.tap_runner import tap_executable

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_carries_the_about_settings_table() -> None:
    about = subprocess.run(
        [tap_executable(), "--about", "--format=markdown"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = [line for line in about.splitlines() if line.startswith("| ")]
    readme = README.read_text()

    assert len(rows) > 15
    missing = [row for row in rows if row not in readme]
    assert missing == [], "README settings table is stale; paste --about --format=markdown"
