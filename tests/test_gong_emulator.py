"""Fast checks that the Gong emulator behaves as docs/gong-api-behaviour.md says, over HTTP."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import requests

from gong_emulator import (
    NO_CALLS_FOUND,
    SEED_ID_BASE,
    Fault,
    GongEmulator,
    make_call,
    seed_calls,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

AUTH = ("key", "secret")
REPO_ROOT = Path(__file__).resolve().parent.parent
START = "2024-01-01T00:00:00Z"


@pytest.fixture
def emu() -> Iterator[GongEmulator]:
    with GongEmulator(access_token="tok", scopes=frozenset({"api:calls:read:basic"})) as emulator:
        emulator.add_calls(seed_calls(250, START))
        yield emulator


def list_calls(emu: GongEmulator, **params: str) -> requests.Response:
    return requests.get(f"{emu.url}/v2/calls", params=params, auth=AUTH, timeout=5)


def test_auth(emu: GongEmulator) -> None:
    ok = requests.get(f"{emu.url}/v2/calls/{SEED_ID_BASE}", auth=AUTH, timeout=5)
    bearer = requests.get(
        f"{emu.url}/v2/calls/{SEED_ID_BASE}", headers={"Authorization": "Bearer tok"}, timeout=5
    )
    wrong = requests.get(f"{emu.url}/v2/calls/{SEED_ID_BASE}", auth=("key", "nope"), timeout=5)
    missing = requests.get(f"{emu.url}/v2/calls/{SEED_ID_BASE}", timeout=5)
    no_scope = requests.post(
        f"{emu.url}/v2/calls/extensive", json={"filter": {}}, auth=AUTH, timeout=5
    )

    assert (ok.status_code, bearer.status_code) == (200, 200)
    assert wrong.status_code == missing.status_code == 401
    assert wrong.json()["errors"] == ["Access denied"]
    assert no_scope.status_code == 403
    assert ok.headers["x-traceid"] == ok.json()["requestId"]
    assert len(ok.json()["requestId"]) == 19
    assert ok.headers["content-type"] == "application/json; charset=utf-8"


def test_get_call_by_id(emu: GongEmulator) -> None:
    found = requests.get(f"{emu.url}/v2/calls/{SEED_ID_BASE + 3}", auth=AUTH, timeout=5)
    missing = requests.get(f"{emu.url}/v2/calls/894411314421502864", auth=AUTH, timeout=5)
    malformed = requests.get(f"{emu.url}/v2/calls/abc", auth=AUTH, timeout=5)

    assert found.status_code == 200
    assert found.json()["call"] == emu.calls[str(SEED_ID_BASE + 3)]
    assert missing.status_code == 404
    assert missing.json()["errors"] == ["Call ID 894411314421502864 was not found"]
    assert malformed.status_code == 400


def test_list_pages_through_all_calls(emu: GongEmulator) -> None:
    window = {"fromDateTime": START, "toDateTime": "2024-02-01T00:00:00-08:00"}
    pages, cursor = [], None
    while True:
        page = list_calls(emu, **window, **({"cursor": cursor} if cursor else {})).json()
        pages.append(page)
        cursor = page["records"].get("cursor")
        if cursor is None:
            break

    assert [p["records"]["currentPageSize"] for p in pages] == [100, 100, 50]
    assert [p["records"]["currentPageNumber"] for p in pages] == [0, 1, 2]
    assert {p["records"]["totalRecords"] for p in pages} == {250}
    ids = [call["id"] for p in pages for call in p["calls"]]
    assert ids == [str(SEED_ID_BASE + i) for i in range(250)]  # ascending despite mixed offsets

    first_cursor = pages[0]["records"]["cursor"]
    changed = list_calls(emu, fromDateTime="2024-01-02T00:00:00Z", cursor=first_cursor)
    assert changed.status_code == 400


def test_list_window_bounds_and_empty_range(emu: GongEmulator) -> None:
    # Call 1 starts at 00:30Z, written as 2023-12-31T16:30:00-08:00: inclusive from, exclusive to.
    window = list_calls(emu, fromDateTime="2024-01-01T00:30:00Z", toDateTime="2024-01-01T01:30Z")
    assert [c["id"] for c in window.json()["calls"]] == [
        str(SEED_ID_BASE + 1),
        str(SEED_ID_BASE + 2),
    ]
    assert "cursor" not in window.json()["records"]

    empty = list_calls(emu, fromDateTime="2030-01-01T00:00:00Z", toDateTime="2030-01-02T00:00:00Z")
    assert empty.status_code == 404
    assert empty.json()["errors"] == [NO_CALLS_FOUND]
    assert list_calls(emu, fromDateTime="yesterday").status_code == 400


def test_list_filters_web_conferences_by_scheduled_time(emu: GongEmulator) -> None:
    emu.add_call(
        make_call(
            "123",
            "2025-01-01T10:05:00+05:30",
            scheduled="2025-01-01T09:55:00+05:30",
            meetingUrl="https://zoom.us/j/1",
        )
    )
    # Scheduled 04:25Z, started 04:35Z: the list endpoint dates it by the scheduled time.
    by_started = list_calls(emu, fromDateTime="2025-01-01T04:30:00Z", toDateTime="2025-01-01T05Z")
    by_scheduled = list_calls(emu, fromDateTime="2025-01-01T04:25Z", toDateTime="2025-01-01T05Z")
    assert by_started.status_code == 404
    assert [c["id"] for c in by_scheduled.json()["calls"]] == ["123"]
    assert (
        make_call("1", START, title=make_call.ABSENT, purpose=None).get("title", "gone") == "gone"
    )


def test_extensive_by_call_ids() -> None:
    with GongEmulator(max_batch_ids=3) as emu:
        emu.add_calls(seed_calls(5, START))
        url = f"{emu.url}/v2/calls/extensive"
        ids = [str(SEED_ID_BASE + 4), str(SEED_ID_BASE + 1), "999"]
        found = requests.post(url, json={"filter": {"callIds": ids}}, auth=AUTH, timeout=5)
        too_many = requests.post(
            url, json={"filter": {"callIds": [*ids, "1"]}}, auth=AUTH, timeout=5
        )
        none_found = requests.post(url, json={"filter": {"callIds": ["1"]}}, auth=AUTH, timeout=5)
        no_filter = requests.post(url, json={"cursor": None}, auth=AUTH, timeout=5)

    assert found.status_code == 200
    assert [c["metaData"]["id"] for c in found.json()["calls"]] == ids[1::-1]
    assert found.json()["records"] == {
        "totalRecords": 2,
        "currentPageSize": 2,
        "currentPageNumber": 0,
    }
    assert too_many.status_code == no_filter.status_code == 400
    assert none_found.status_code == 404
    assert none_found.json()["errors"] == [NO_CALLS_FOUND]


def test_rate_limit_then_success_after_retry_after() -> None:
    with GongEmulator(rate_limit_per_second=5) as emu:
        emu.add_calls(seed_calls(1, START))
        statuses = [list_calls(emu).status_code for _ in range(6)]
        limited = list_calls(emu)
        wait = float(limited.headers["Retry-After"])
        time.sleep(wait)
        after = list_calls(emu)

    assert statuses[:5] == [200] * 5
    assert limited.status_code == 429
    assert limited.json()["errors"] == ["API request limit exceeded"]
    assert 0.001 <= wait <= 0.2
    assert [r.retry_after for r in emu.requests][-2:] == [limited.headers["Retry-After"], None]
    assert after.status_code == 200


def test_connection_faults_surface_as_client_errors(emu: GongEmulator) -> None:
    emu.inject(Fault("reset", path="/v2/calls"), Fault("truncated", path="/v2/calls"))
    with pytest.raises(requests.ConnectionError):
        list_calls(emu)
    with pytest.raises((requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        list_calls(emu)
    assert list_calls(emu).status_code == 200
    assert [(r.status, r.fault) for r in emu.requests] == [
        (0, "reset"),
        (200, "truncated"),
        (200, None),
    ]


def test_status_fault_and_request_log(emu: GongEmulator) -> None:
    emu.inject(Fault("status", status=502, body="<html>bad gateway</html>", retry_after="1"))
    edge = list_calls(emu, fromDateTime=START)
    assert (edge.status_code, edge.text, edge.headers["Retry-After"]) == (
        502,
        "<html>bad gateway</html>",
        "1",
    )
    record = emu.requests[-1]
    assert (record.method, record.path, record.query) == (
        "GET",
        "/v2/calls",
        {"fromDateTime": START},
    )
    assert (record.authorization or "").startswith("Basic ")


def test_command_line_serves_seeded_calls() -> None:
    command = [sys.executable, "-m", "gong_emulator", "--port", "0", "--calls", "3"]
    command += ["--rate-limit", "0", "--no-transcript-scope", "--transcript-bytes", "500"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline().strip()
            assert line.startswith("Gong emulator listening on http://127.0.0.1:")
            url = line.rsplit(" ", 1)[1]
            response = requests.get(f"{url}/v2/calls", auth=AUTH, timeout=5)
            assert response.json()["records"]["totalRecords"] == 3
            refused = requests.post(
                f"{url}/v2/calls/transcript", json={"filter": {}}, auth=AUTH, timeout=5
            )
            assert refused.status_code == 403
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=5) == 0
