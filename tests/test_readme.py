"""The README tells the truth about the settings: its table is the tap's own --about output."""

from __future__ import annotations

import logging
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


def test_the_numbers_the_readme_quotes_are_the_codes() -> None:
    from tap_gong_calls.extract import transcript_sizing as transcripts
    from tap_gong_calls.extract import windows as date_range
    from tap_gong_calls.gong.api import BATCH_SIZE
    from tap_gong_calls.gong.client import GongClient
    from tap_gong_calls.gong.retries import RetryPolicy
    from tap_gong_calls.progress import RunStats

    readme = " ".join(README.read_text().split())  # line breaks as spaces
    quoted = {
        f"windows of about {date_range.TARGET_CALLS} calls "
        f"({date_range.TARGET_CALLS_WITH_CONTENT} with",
        f"at most {date_range.MAX_WINDOWS_WITH_CONTENT_IN_FLIGHT} with content",
        f"at most {date_range.MAX_SPLIT_DEPTH} levels deep",
        f"first transcript request carries {transcripts.FIRST_IDS} ids",
        f"up to {transcripts.MAX_IN_FLIGHT} requests in flight within "
        f"{transcripts.BYTES_IN_FLIGHT // 1_000_000} MB",
        f"({transcripts.BYTES_PER_REQUEST // 1_000_000} MB a request)",
        f"one page ({BATCH_SIZE} calls)",
        f"Retries up to {RetryPolicy.MAX_TRANSIENT_TRIES} tries",
    }
    assert [q for q in quoted if q not in readme] == []
    # Windows in flight: twice requests_per_second, half the client's requests in flight.
    client = GongClient({"requests_per_second": 3}, logging.getLogger("test"), RunStats())
    assert client.max_in_flight // 2 == 2 * 3
    assert "2 \u00d7 `requests_per_second`" in readme


def test_the_code_layout_names_every_module() -> None:
    text = README.read_text()
    layout = text[text.index("## Code layout") : text.index("## Tests")]
    package = README.parent / "tap_gong_calls"
    modules = sorted(p.name for p in package.glob("*.py") if p.name != "__init__.py")
    assert [m for m in modules if f"`{m}`" not in layout] == []
