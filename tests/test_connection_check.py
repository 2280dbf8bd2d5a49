"""`--test` costs one request; credentials never travel over plain http to another host.

Each process test runs the installed tap against a started emulator and checks what a user
sees (exit code, stderr) and what Gong received (the emulator's request log).
"""

from __future__ import annotations

import ipaddress
import socket
from datetime import UTC, datetime, timedelta

import pytest

from gong_emulator import GongEmulator, make_call
from tap_gong_calls.tap import config_errors
from tests.tap_runner import CREDENTIALS, run_tap

DATE_RANGE = {"start_date": "2020-01-01T00:00:00Z"}  # years of windows for a dry-run sync
BY_ID = {"call_ids": ["7300000000000000001", "7300000000000000002"]}
SECRETS = tuple(CREDENTIALS.values())


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# -- --test -------------------------------------------------------------------------------


@pytest.mark.parametrize("selection", [DATE_RANGE, BY_ID], ids=["date-range", "call-ids"])
@pytest.mark.parametrize("recent_call", [False, True], ids=["no-recent-call", "recent-call"])
def test_connection_test_passes_with_exactly_one_request(
    selection: dict[str, object], recent_call: bool
) -> None:
    with GongEmulator(**CREDENTIALS) as emu:
        if recent_call:  # Gong answers 200 with it; without, 404 "No calls found": both pass
            started = datetime.now(UTC) - timedelta(seconds=20)
            emu.add_call(make_call("7300000000000000001", started.isoformat()))
        before = datetime.now(UTC).replace(microsecond=0)
        run = run_tap({**CREDENTIALS, "api_url": emu.url, **selection}, args=("--test",))
        requests = emu.requests

    assert run.returncode == 0, run.explain()
    assert [(r.method, r.path) for r in requests] == [("GET", "/v2/calls")]
    assert requests[0].status == (200 if recent_call else 404)
    query = requests[0].query
    start, end = _instant(query["fromDateTime"]), _instant(query["toDateTime"])
    assert end - start == timedelta(minutes=1)
    assert before <= end <= datetime.now(UTC)
    assert "Connection test passed" in run.stderr
    assert run.records == []
    for secret in SECRETS:
        assert secret not in run.stdout + run.stderr


def test_connection_test_fails_clearly_on_wrong_credentials() -> None:
    with GongEmulator(**CREDENTIALS) as emu:
        wrong = {**CREDENTIALS, "access_key_secret": "secret-old-0000"}
        run = run_tap({**wrong, "api_url": emu.url, **DATE_RANGE}, args=("--test",))
        requests = emu.requests

    assert run.returncode != 0
    assert [(r.method, r.path, r.status) for r in requests] == [("GET", "/v2/calls", 401)]
    assert "HTTP 401 from GET /v2/calls" in run.stderr, run.explain()
    assert "access_key_secret" in run.stderr
    for secret in (*SECRETS, "secret-old-0000"):
        assert secret not in run.stdout + run.stderr


# -- https only ---------------------------------------------------------------------------


def test_http_api_url_fails_at_once_naming_api_url_and_https() -> None:
    # "At once" is checked by what the tap did, not by how long it took: every proxy variable
    # points at a local socket that takes no connection, so any request the tap tried would
    # queue a connection there (or fail on it and log a retry).
    with socket.socket() as trap:
        trap.bind(("127.0.0.1", 0))
        trap.listen(8)
        proxy = f"http://127.0.0.1:{trap.getsockname()[1]}"
        env = dict.fromkeys(("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"), proxy)
        run = run_tap(
            {**CREDENTIALS, "api_url": "http://api.gong.io", **DATE_RANGE},
            env={**env, "NO_PROXY": "", "no_proxy": ""},
        )
        trap.setblocking(False)
        with pytest.raises(BlockingIOError):
            trap.accept()  # no connection was ever attempted

    assert run.returncode != 0
    assert run.stdout == ""
    errors = [line for line in run.stderr.splitlines() if "api_url" in line]
    assert errors, run.explain()
    assert "https" in errors[0]
    assert "'http://api.gong.io'" in errors[0]
    assert "Retrying" not in run.stderr
    for secret in SECRETS:
        assert secret not in run.stdout + run.stderr


def _non_loopback_address() -> str:
    """This machine's address on its default route (a UDP connect sends nothing)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("192.0.2.1", 9))  # TEST-NET-1: never contacted
        except OSError:
            pytest.skip("no network interface besides loopback")
        address = str(sock.getsockname()[0])
    if ipaddress.ip_address(address).is_loopback:
        pytest.skip("no network interface besides loopback")
    return address


def test_http_to_a_reachable_non_loopback_host_sends_no_request() -> None:
    # The emulator listens on every interface: only the https rule keeps the tap from it.
    address = _non_loopback_address()
    with GongEmulator(**CREDENTIALS, host="0.0.0.0") as emu:
        url = emu.url.replace("0.0.0.0", address)
        run = run_tap({**CREDENTIALS, "api_url": url, **DATE_RANGE})
        requests = emu.requests

    assert run.returncode != 0
    assert requests == []
    assert f"api_url '{url}' uses http" in run.stderr, run.explain()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_http_to_loopback_still_syncs(host: str) -> None:
    with GongEmulator(**CREDENTIALS) as emu:
        emu.add_call(make_call("7300000000000000001", "2024-01-01T10:00:00Z"))
        url = emu.url.replace("127.0.0.1", host)
        run = run_tap({**CREDENTIALS, "api_url": url, "call_ids": ["7300000000000000001"]})

    assert run.returncode == 0, run.explain()
    assert run.ids == ["7300000000000000001"]


@pytest.mark.parametrize(
    "url",
    [
        "https://api.gong.io",
        "https://us-12345.api.gong.io/",
        "http://localhost:8765",
        "http://LOCALHOST",
        "http://127.0.0.1:8765",
        "http://127.1.2.3:8765",
        "http://[::1]:8765",
    ],
)
def test_https_or_loopback_api_url_is_accepted(url: str) -> None:
    assert config_errors({**CREDENTIALS, **DATE_RANGE, "api_url": url}) == []


@pytest.mark.parametrize(
    "url",
    [
        "http://api.gong.io",
        "http://us-12345.api.gong.io:80/",
        "http://10.0.0.7:8765",
        "http://[::2]:8765",
        "http://localhost.example.com",
        "http://127.0.0.1.nip.io",
    ],
)
def test_plain_http_elsewhere_is_refused_naming_api_url_and_https(url: str) -> None:
    errors = config_errors({**CREDENTIALS, **DATE_RANGE, "api_url": url})

    assert len(errors) == 1, errors
    assert "api_url" in errors[0]
    assert "https" in errors[0]
