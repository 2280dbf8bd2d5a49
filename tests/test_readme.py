"""The docs tell the truth: the README's settings table is the tap's own --about output, the
numbers the topic pages quote are the code's, and the architecture page names every module."""

from __future__ import annotations

import logging
import subprocess
from datetime import timedelta
from pathlib import Path

from tests.tap_runner import tap_executable

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
HOW_IT_WORKS = REPO / "docs/how-it-works.md"
FAILURES = REPO / "docs/failures.md"
ARCHITECTURE = REPO / "docs/architecture.md"


def _flat(path: Path) -> str:
    return " ".join(path.read_text().split())  # line breaks as spaces


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


def test_the_numbers_the_docs_quote_are_the_codes() -> None:
    from tap_gong_calls.extract import transcript_sizing, windows
    from tap_gong_calls.gong import ledger, paging
    from tap_gong_calls.gong.api import BATCH_SIZE
    from tap_gong_calls.gong.client import GongClient
    from tap_gong_calls.gong.retries import RetryPolicy
    from tap_gong_calls.progress import RunStats

    how_it_works = _flat(HOW_IT_WORKS)
    quoted = {
        f"windows of about {windows.TARGET_CALLS} calls ({windows.TARGET_CALLS_WITH_CONTENT} with",
        f"at most {windows.MAX_WINDOWS_WITH_CONTENT_IN_FLIGHT} with content",
        f"at most {windows.MAX_SPLIT_DEPTH} levels deep",
        f"first transcript request carries {transcript_sizing.FIRST_IDS} ids",
        f"up to {transcript_sizing.MAX_IN_FLIGHT} requests in flight within "
        f"{transcript_sizing.BYTES_IN_FLIGHT // 1_000_000} MB",
        f"({transcript_sizing.BYTES_PER_REQUEST // 1_000_000} MB a request)",
        f"one page ({BATCH_SIZE} calls)",
    }
    assert [q for q in quoted if q not in how_it_works] == []
    assert f"Retries up to {RetryPolicy.MAX_TRANSIENT_TRIES} tries" in _flat(FAILURES)
    # The expired cursor and the request ledger.
    restarts = paging.MAX_CURSOR_RESTARTS
    assert f"first page, up to {restarts} times" in how_it_works
    assert f"(restart 1 of at most {restarts})" in how_it_works
    assert f"up to {restarts} times, skipping" in _flat(FAILURES)
    assert f"cursor expired {restarts + 1} times" in _flat(FAILURES)
    assert f"older than {ledger.KEEP_FOR // timedelta(hours=1)} hours are pruned" in how_it_works
    assert f"last {ledger.COUNTS_FOR // timedelta(hours=1)} hours" in _flat(FAILURES)
    # Windows in flight: twice requests_per_second, half the client's requests in flight.
    client = GongClient({"requests_per_second": 3}, logging.getLogger("test"), RunStats())
    assert client.max_in_flight // 2 == 2 * 3
    assert "2 \u00d7 `requests_per_second`" in how_it_works


def test_the_architecture_page_names_every_module() -> None:
    text = ARCHITECTURE.read_text()
    layout = text[text.index("## Modules") : text.index("## Where does this request come from")]
    package = REPO / "tap_gong_calls"
    modules = sorted(
        path.relative_to(package).as_posix()
        for path in package.rglob("*.py")
        if path.name != "__init__.py" and "__pycache__" not in path.parts
    )
    assert len(modules) > 20
    assert [m for m in modules if f"`{m}`" not in layout] == []
