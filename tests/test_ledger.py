"""The request ledger (tap_gong_calls/gong/ledger.py): the file ledger and the PostgreSQL one.

Every test passes its own ``now``, so none depends on the clock. The PostgreSQL tests use the
session's `postgres_url` (tests/conftest.py: $TEST_POSTGRES_URL or a throwaway cluster; skipped
without one unless REQUIRE_POSTGRES=1), each under a host of its own.
"""

from __future__ import annotations

import datetime
import json
import re
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import psycopg
import pytest

from tap_gong_calls.gong.ledger import LedgerError, mask_url
from tap_gong_calls.gong.ledgers import open_ledger

if TYPE_CHECKING:
    from tap_gong_calls.gong.ledger import RequestLedger
    from tap_gong_calls.gong.ledger_postgres import PostgresLedger

UTC = datetime.UTC
NOW = datetime.datetime(2024, 6, 11, 14, 30, tzinfo=UTC)
HOUR = datetime.timedelta(hours=1)
H = NOW.replace(minute=0)  # the current hour
HOST = "us-12345.api.gong.io"
REPO_ROOT = Path(__file__).resolve().parent.parent


LIMITS: dict[str, Any] = {"limit": 100, "offset": 0, "now": NOW}


def spend(
    ledger: RequestLedger,
    hour: datetime.datetime,
    times: int,
    *,
    limit: int | None = None,
    offset: int = 0,
    now: datetime.datetime = NOW,
) -> int:
    """How many of ``times`` spends the ledger granted."""
    return sum(ledger.try_spend(hour, limit=limit, offset=offset, now=now) for _ in range(times))


def spend_from_threads(ledgers: list[RequestLedger], per_thread: int, limit: int) -> int:
    """Each ledger spends ``per_thread`` times from a thread of its own, all at once."""
    start = threading.Barrier(len(ledgers))
    granted = [0] * len(ledgers)

    def run(index: int) -> None:
        start.wait()
        granted[index] = spend(ledgers[index], H, per_thread, limit=limit)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(ledgers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(granted)


# -- the file ledger ----------------------------------------------------------------------------


def test_file_ledger_round_trip(tmp_path: Path) -> None:
    ledger = open_ledger(None, HOST, cache_dir=tmp_path)
    assert ledger.where == str(tmp_path / f"requests-{HOST}.json")
    assert ledger.usage(NOW) == {}
    assert spend(ledger, H, 3) == 3
    assert spend(ledger, H - HOUR, 2) == 2
    assert ledger.usage(NOW) == {H: 3, H - HOUR: 2}
    ledger.close()
    # A later run (a fresh object) sees it; another company does not.
    assert open_ledger("", HOST.upper(), cache_dir=tmp_path).usage(NOW) == {H: 3, H - HOUR: 2}
    assert open_ledger(None, "eu-1.api.gong.io", cache_dir=tmp_path).usage(NOW) == {}
    data = json.loads(Path(ledger.where).read_text())
    assert data == {
        "host": HOST,
        "requests": [["2024-06-11T13:00:00Z", 2], ["2024-06-11T14:00:00Z", 3]],
    }


def test_file_ledger_usage_has_only_the_hours_that_still_count(tmp_path: Path) -> None:
    ledger = open_ledger(None, HOST, cache_dir=tmp_path)
    spend(ledger, H - 25 * HOUR, 5)  # 13:00 yesterday: its last request is 24 h old at 14:00
    spend(ledger, H - 24 * HOUR, 7)  # 14:00 yesterday: counts until 15:00 today
    spend(ledger, H, 1)
    assert ledger.usage(NOW) == {H - 24 * HOUR: 7, H: 1}
    assert ledger.usage(NOW + HOUR) == {H: 1}
    # Refusals count only the hours that still count.
    assert spend(ledger, H, 10, limit=10) == 2  # 7 + 1 counting: room for 2
    # Hours whose start is more than 48 h ago are pruned from the file on the next spend.
    spend(ledger, H + 23 * HOUR, 1, now=NOW + 23 * HOUR)
    hours = [hour for hour, _ in json.loads(Path(ledger.where).read_text())["requests"]]
    assert hours == ["2024-06-10T14:00:00Z", "2024-06-11T14:00:00Z", "2024-06-12T13:00:00Z"]
    spend(ledger, H + 23 * HOUR, 1, now=NOW + 24 * HOUR)
    hours = [hour for hour, _ in json.loads(Path(ledger.where).read_text())["requests"]]
    assert hours == ["2024-06-11T14:00:00Z", "2024-06-12T13:00:00Z"]


def test_file_ledger_refusal_records_nothing(tmp_path: Path) -> None:
    ledger = open_ledger(None, HOST, cache_dir=tmp_path)
    assert not ledger.try_spend(H, limit=5, offset=5, now=NOW)
    assert not Path(ledger.where).exists()
    assert spend(ledger, H, 10, limit=5, offset=2) == 3
    before = Path(ledger.where).read_bytes()
    assert not ledger.try_spend(H, limit=5, offset=2, now=NOW)
    assert Path(ledger.where).read_bytes() == before
    assert ledger.usage(NOW) == {H: 3}
    assert ledger.try_spend(H, limit=None, offset=10**6, now=NOW)  # no limit: always


SPEND_LOOP = """
import datetime, os, sys, time
from pathlib import Path
from tap_gong_calls.gong.ledgers import open_ledger

folder, host, now, go = sys.argv[1:]
ledger = open_ledger(None, host, cache_dir=Path(folder))
now = datetime.datetime.fromisoformat(now)
Path(f"{go}.{os.getpid()}").touch()  # ready
while not Path(go).exists():
    time.sleep(0.005)
print(sum(ledger.try_spend(now, limit=250, offset=0, now=now) for _ in range(200)))
"""


def test_file_ledger_two_processes_at_once_never_overspend(tmp_path: Path) -> None:
    go = tmp_path / "go"
    command = [sys.executable, "-c", SPEND_LOOP, str(tmp_path), HOST, NOW.isoformat(), str(go)]
    runs = [
        subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    deadline = time.monotonic() + 60
    while len(list(tmp_path.glob("go.*"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)  # both ready (imported, ledger open): start them together
    go.touch()
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0]
    assert sum(int(output) for output in outputs) == 250
    assert open_ledger(None, HOST, cache_dir=tmp_path).usage(NOW) == {H: 250}


def test_file_ledger_threads_and_two_ledger_objects_never_overspend(tmp_path: Path) -> None:
    ledgers = [open_ledger(None, HOST, cache_dir=tmp_path) for _ in range(2)]
    assert spend_from_threads([*ledgers, *ledgers], per_thread=100, limit=250) == 250
    assert ledgers[0].usage(NOW) == {H: 250}


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        "",
        "[]",
        '{"host": "us-12345.api.gong.io"}',
        '{"host": "us-12345.api.gong.io", "requests": [["2024-06-11T14:00:00Z", -1]]}',
        '{"host": "us-12345.api.gong.io", "requests": [["2024-06-11T14:00:00Z", true]]}',
        '{"host": "us-12345.api.gong.io", "requests": [["2024-06-11T14:00:00Z", 1.5]]}',
        '{"host": "us-12345.api.gong.io", "requests": [["yesterday", 1]]}',
        '{"host": "us-12345.api.gong.io", "requests": [["2024-06-11T14:00:00", 1]]}',
        '{"host": "us-12345.api.gong.io", "requests": [["2024-06-11T14:00:00Z", 1, 2]]}',
        '{"host": "us-12345.api.gong.io", "requests": {"2024-06-11T14:00:00Z": 1}}',
        '{"host": "eu-1.api.gong.io", "requests": []}',
    ],
)
def test_a_corrupt_ledger_file_is_an_error_never_a_reset(tmp_path: Path, content: str) -> None:
    ledger = open_ledger(None, HOST, cache_dir=tmp_path)
    Path(ledger.where).write_text(content)
    for attempt in (lambda: ledger.usage(NOW), lambda: ledger.try_spend(H, **LIMITS)):
        with pytest.raises(LedgerError, match="request_ledger") as error:
            attempt()
        assert ledger.where in str(error.value)
        assert "Check the file" in str(error.value)
    assert Path(ledger.where).read_text() == content


def test_an_unreadable_ledger_file_is_an_error(tmp_path: Path) -> None:
    ledger = open_ledger(None, HOST, cache_dir=tmp_path)
    Path(ledger.where).mkdir()  # unreadable as a file even by root (chmod would not stop root)
    with pytest.raises(LedgerError, match=r"request_ledger.*cannot be read") as error:
        ledger.try_spend(H, **LIMITS)
    assert ledger.where in str(error.value)


def test_a_folder_that_cannot_be_created_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    folder = tmp_path / "a-file" / "ledgers"  # under a regular file: fails even for root
    with pytest.raises(LedgerError, match=r"request_ledger.*cannot be created") as error:
        open_ledger(None, HOST, cache_dir=folder)
    assert str(folder) in str(error.value)
    with pytest.raises(LedgerError, match="request_ledger"):
        open_ledger(f"{folder}/", HOST)


def test_a_host_with_a_port_gives_a_valid_file_name_of_its_own(tmp_path: Path) -> None:
    with_port = open_ledger(None, "127.0.0.1:8765", cache_dir=tmp_path)
    lookalike = open_ledger(None, "127.0.0.1_8765", cache_dir=tmp_path)
    names = {Path(with_port.where).name, Path(lookalike.where).name}
    assert len(names) == 2
    assert all(re.fullmatch(r"requests-[a-z0-9._-]+\.json", name) for name in names), names
    assert spend(with_port, H, 2) == 2
    assert lookalike.usage(NOW) == {}
    assert with_port.usage(NOW) == {H: 2}


def test_the_default_ledger_is_in_the_user_cache_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert open_ledger(None, HOST).where == str(
        tmp_path / f"xdg/tap-gong-calls/requests-{HOST}.json"
    )
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    expected = tmp_path / f"home/.cache/tap-gong-calls/requests-{HOST}.json"
    assert open_ledger("  ", HOST).where == str(expected)


def test_a_folder_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert open_ledger("~/ledgers/", HOST).where == str(tmp_path / f"ledgers/requests-{HOST}.json")
    assert open_ledger(str(tmp_path / "other"), HOST).where.startswith(f"{tmp_path}/other/")
    (tmp_path / "a-file").write_text("")
    with pytest.raises(LedgerError, match="is not a folder"):
        open_ledger(str(tmp_path / "a-file"), HOST)


@pytest.mark.parametrize("setting", ["ledgers", "./ledgers", "mysql://tap:s3cret@db/x", "C:\\x"])
def test_other_settings_are_refused_with_the_accepted_forms(setting: str) -> None:
    with pytest.raises(LedgerError, match=r"request_ledger.*postgresql://") as error:
        open_ledger(setting, HOST)
    assert "s3cret" not in str(error.value)


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql://tap:s3cret@db:5432/x", "postgresql://tap:***@db:5432/x"),
        ("postgres://tap:s3/c@ret@db/x?sslmode=require", "postgres://tap:***@db/x?sslmode=require"),
        ("postgresql://tap@db/x", "postgresql://tap@db/x"),
        ("postgresql://db/x?user=tap&password=s3cret", "postgresql://db/x?user=tap&password=***"),
        ("/var/lib/ledgers", "/var/lib/ledgers"),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_a_postgresql_ledger_without_psycopg_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg fails
    with pytest.raises(LedgerError, match=r"pip install 'tap-gong-calls\[postgres\]'") as error:
        open_ledger("postgresql://tap:s3cret@127.0.0.1:1/x", HOST)
    assert "s3cret" not in str(error.value)


# -- the PostgreSQL ledger ----------------------------------------------------------------------


@pytest.fixture
def pg_host() -> str:
    """A Gong host no other test uses (the table is shared by the session's tests)."""
    return f"us-{uuid.uuid4().hex[:10]}.api.gong.io"


def test_postgres_ledger_round_trip(postgres_url: str, pg_host: str) -> None:
    ledger = open_ledger(postgres_url, pg_host)
    try:
        assert ledger.usage(NOW) == {}
        assert spend(ledger, H, 3) == 3
        assert spend(ledger, H - HOUR, 2) == 2
        assert spend(ledger, H - 25 * HOUR, 4) == 4  # no longer counts at NOW
        assert ledger.usage(NOW) == {H: 3, H - HOUR: 2}
        assert all(hour.tzinfo == UTC for hour in ledger.usage(NOW))
        assert spend(ledger, H, 10, limit=10, offset=1) == 4  # 5 counting + 1: room for 4
        assert ledger.usage(NOW) == {H: 7, H - HOUR: 2}  # the refusals recorded nothing
        other_company = open_ledger(
            postgres_url.replace("postgresql:", "postgres:"), "eu-1." + pg_host
        )
        assert other_company.usage(NOW) == {}
        other_company.close()
        # Hours older than 48 h are pruned on the next spend.
        spend(ledger, H + 24 * HOUR, 1, now=NOW + 24 * HOUR)
        with psycopg.connect(postgres_url) as connection:
            rows = connection.execute(
                "SELECT count(*) FROM tap_gong_calls_requests WHERE host = %s", (pg_host,)
            ).fetchone()
        assert rows == (3,)  # H - 25 h pruned; H - 1 h, H and H + 24 h kept
    finally:
        ledger.close()


def test_postgres_ledger_two_runners_share_the_count(postgres_url: str, pg_host: str) -> None:
    first, second = open_ledger(postgres_url, pg_host), open_ledger(postgres_url, pg_host)
    try:
        assert spend(first, H, 3) == 3
        assert second.usage(NOW) == {H: 3}
        assert spend(second, H, 5, limit=5) == 2
        assert not first.try_spend(H, **{**LIMITS, "limit": 5})
        # At once, from two connections and threads on each: exactly the limit.
        granted = spend_from_threads([first, second, first, second], per_thread=75, limit=255)
        assert granted == 250
        assert first.usage(NOW) == second.usage(NOW) == {H: 255}
    finally:
        first.close()
        second.close()


def test_postgres_ledger_eight_runners_racing_for_the_last_request(
    postgres_url: str, pg_host: str
) -> None:
    """Round after round, eight connections ask at once for the one request left: one gets it."""
    ledgers = [open_ledger(postgres_url, pg_host) for _ in range(8)]
    try:
        for round_ in range(1, 21):
            assert spend_from_threads(ledgers, per_thread=1, limit=round_) == 1, round_
        assert ledgers[0].usage(NOW) == {H: 20}
    finally:
        for ledger in ledgers:
            ledger.close()


def test_postgres_ledger_survives_a_fresh_runner(postgres_url: str, pg_host: str) -> None:
    ledger = open_ledger(postgres_url, pg_host)
    spend(ledger, H, 4)
    ledger.close()
    later = open_ledger(postgres_url, pg_host)
    try:
        assert later.usage(NOW) == {H: 4}
        assert spend(later, H, 10, limit=6) == 2
    finally:
        later.close()


def test_postgres_ledger_reconnects_once_after_losing_its_connection(
    postgres_url: str, pg_host: str
) -> None:
    ledger = cast("PostgresLedger", open_ledger(postgres_url, pg_host))
    try:
        spend(ledger, H, 1)
        assert ledger._connection is not None
        backend = ledger._connection.info.backend_pid
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (backend,))
        assert ledger.try_spend(H, **LIMITS)
        assert ledger.usage(NOW) == {H: 2}
    finally:
        ledger.close()


def test_postgres_ledger_errors_mask_the_password(postgres_url: str, pg_host: str) -> None:
    refused = "postgresql://tap:s3cret@127.0.0.1:1/x"  # nothing listens on port 1
    host_port = re.search(r"@([^/]+)/", postgres_url)
    assert host_port
    missing_db = f"postgresql://postgres:s3cret@{host_port.group(1)}/no_such_database"
    for url in (refused, missing_db):
        with pytest.raises(LedgerError) as error:
            open_ledger(url, pg_host)
        message = str(error.value)
        assert "request_ledger" in message
        assert "s3cret" not in message
        assert mask_url(url) in message
        assert ":***@" in message
