"""The emulator's issue-21 quirks over HTTP: NUL characters and lone surrogates in text, ids as
JSON numbers, and cursors that expire mid-listing (docs/gong-api-behaviour.md §16)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
import requests

from gong_emulator import (
    CURSOR_EXPIRED,
    FULL_SELECTOR,
    LONE_SURROGATE,
    NUL,
    NUL_CRM_FIELD,
    SEED_ID_BASE,
    Fault,
    GongEmulator,
    carries_odd_text,
    seed_calls,
    sends_numeric_ids,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

AUTH = ("key", "secret")
START = "2024-01-01T00:00:00Z"
EVEN, ODD = str(SEED_ID_BASE), str(SEED_ID_BASE + 1)


def get(emu: GongEmulator, path: str, **params: str) -> requests.Response:
    return requests.get(f"{emu.url}{path}", params=params, auth=AUTH, timeout=5)


def post(emu: GongEmulator, path: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(f"{emu.url}{path}", json=body, auth=AUTH, timeout=5)


def crm_values(call_data: dict[str, Any]) -> list[Any]:
    return [
        field["value"]
        for system in call_data.get("context", [])
        for obj in system["objects"]
        for field in obj.get("fields", [])
        if field["name"] == NUL_CRM_FIELD
    ]


# -- NUL characters and lone surrogates ---------------------------------------------------------


@pytest.fixture(scope="module")
def odd_text() -> Iterator[GongEmulator]:
    with GongEmulator(nul_characters=True) as emulator:
        emulator.add_calls(seed_calls(4, START))
        yield emulator


def test_even_calls_carry_nul_and_a_lone_surrogate_as_json_escapes(
    odd_text: GongEmulator,
) -> None:
    listed = get(odd_text, "/v2/calls")
    raw = listed.content

    assert listed.status_code == 200
    assert raw.isascii()  # every non-ASCII character goes out escaped
    assert b"\\u0000" in raw
    assert b"\\ud800" in raw
    assert b"\x00" not in raw
    calls = {call["id"]: call for call in listed.json()["calls"]}
    assert calls[EVEN]["title"].endswith(NUL)
    assert calls[EVEN]["customData"].endswith(LONE_SURROGATE)
    assert NUL not in calls[ODD]["title"]
    assert LONE_SURROGATE not in (calls[ODD]["customData"] or "")
    assert calls == odd_text.calls  # the store holds what is served
    assert [carries_odd_text(call_id) for call_id in sorted(calls)] == [True, False] * 2
    # Strict UTF-8 cannot hold the surrogate: a consumer must handle it, not just re-encode.
    with pytest.raises(UnicodeEncodeError):
        calls[EVEN]["customData"].encode("utf-8")


def test_nul_in_a_transcript_sentence_and_a_crm_value(odd_text: GongEmulator) -> None:
    transcripts = post(odd_text, "/v2/calls/transcript", {"filter": {"callIds": [EVEN, ODD]}})
    extensive = post(
        odd_text,
        "/v2/calls/extensive",
        {"filter": {"callIds": [EVEN, ODD]}, "contentSelector": FULL_SELECTOR},
    )

    assert b"\\u0000" in transcripts.content
    by_id = {item["callId"]: item["transcript"] for item in transcripts.json()["callTranscripts"]}
    assert by_id[EVEN][0]["sentences"][0]["text"].endswith(NUL)
    assert not any(NUL in sentence["text"] for mono in by_id[ODD] for sentence in mono["sentences"])
    assert by_id[EVEN] == odd_text.transcript_of(EVEN)
    data = {call["metaData"]["id"]: call for call in extensive.json()["calls"]}
    assert [value[-1] for value in crm_values(data[EVEN])] == [NUL]
    assert crm_values(data[ODD]) == []
    assert data[EVEN]["metaData"]["title"].endswith(NUL)


def test_odd_text_is_added_once_and_is_off_by_default(odd_text: GongEmulator) -> None:
    odd_text.add_call(odd_text.calls[EVEN])  # added again, e.g. after a change
    assert odd_text.calls[EVEN]["title"].count(NUL) == 1
    with GongEmulator() as plain:
        plain.add_calls(seed_calls(2, START))
        assert b"\\u0000" not in get(plain, "/v2/calls").content


# -- ids as JSON numbers ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def numeric() -> Iterator[GongEmulator]:
    with GongEmulator(numeric_ids=True) as emulator:
        emulator.add_calls(seed_calls(4, START))
        yield emulator


def test_odd_calls_send_their_ids_as_json_integers(numeric: GongEmulator) -> None:
    listed = get(numeric, "/v2/calls")
    one = get(numeric, f"/v2/calls/{ODD}")

    ids = [call["id"] for call in listed.json()["calls"]]
    assert ids == [EVEN, int(ODD), str(SEED_ID_BASE + 2), SEED_ID_BASE + 3]
    assert one.json()["call"]["id"] == int(ODD)
    # On the wire: a bare 19-digit integer, not a float, not a string.
    assert f'"id":{ODD},'.encode() in listed.content
    assert json.loads(listed.content, parse_int=str)["calls"][1]["id"] == ODD
    assert [sends_numeric_ids(call_id) for call_id in (EVEN, ODD)] == [False, True]
    assert numeric.calls[ODD]["id"] == ODD  # the store keeps strings


def test_extensive_and_transcript_ids_as_integers(numeric: GongEmulator) -> None:
    extensive = post(
        numeric,
        "/v2/calls/extensive",
        {"filter": {"callIds": [EVEN, ODD]}, "contentSelector": {"exposedFields": {"parties": 1}}},
    )
    transcripts = post(numeric, "/v2/calls/transcript", {"filter": {"callIds": [EVEN, ODD]}})

    even, odd = extensive.json()["calls"]
    assert even["metaData"]["id"] == EVEN
    assert odd["metaData"]["id"] == int(ODD)
    assert isinstance(odd["parties"][0]["id"], int)
    assert all(isinstance(party["id"], str) for party in odd["parties"][1:])
    assert all(isinstance(party["id"], str) for party in even["parties"])
    assert numeric.extensive_of(ODD)["metaData"]["id"] == int(ODD)  # what the server sends
    assert [item["callId"] for item in transcripts.json()["callTranscripts"]] == [EVEN, int(ODD)]
    assert f'"callId":{ODD},'.encode() in transcripts.content


def test_filters_still_take_string_ids(numeric: GongEmulator) -> None:
    found = post(numeric, "/v2/calls/extensive", {"filter": {"callIds": [ODD]}})
    assert found.status_code == 200
    assert [call["metaData"]["id"] for call in found.json()["calls"]] == [int(ODD)]


# -- expired cursors ----------------------------------------------------------------------------


@pytest.fixture
def paged() -> Iterator[GongEmulator]:
    with GongEmulator(transcript_page_size=10) as emulator:
        emulator.add_calls(seed_calls(350, START))
        yield emulator


def list_all(emu: GongEmulator) -> tuple[list[str], list[int]]:
    """Page through GET /v2/calls, restarting without a cursor when Gong says it expired."""
    ids: list[str] = []
    statuses: list[int] = []
    cursor: str | None = None
    while True:
        response = get(emu, "/v2/calls", **({"cursor": cursor} if cursor else {}))
        statuses.append(response.status_code)
        if response.status_code == 400:
            assert response.json()["errors"] == [CURSOR_EXPIRED]
            ids, cursor = [], None
            continue
        page = response.json()
        ids += [call["id"] for call in page["calls"]]
        cursor = page["records"].get("cursor")
        if cursor is None:
            return ids, statuses


def test_the_nth_cursor_request_expires_and_a_restart_works(paged: GongEmulator) -> None:
    paged.inject(Fault("cursor_expired", path="/v2/calls", skip=1))

    ids, statuses = list_all(paged)

    # Pages 1 and 2 (the first cursor goes through), page 3 expired, then all 4 pages again.
    assert statuses == [200, 200, 400, 200, 200, 200, 200]
    assert ids == [str(SEED_ID_BASE + i) for i in range(350)]
    cursor_requests = [r for r in paged.requests if r.query.get("cursor")]
    assert [r.status for r in cursor_requests] == [200, 400, 200, 200, 200]
    assert paged.requests[2].fault == "cursor_expired"


def test_cursor_expiry_k_times_and_on_a_post_body_cursor(paged: GongEmulator) -> None:
    paged.inject(Fault("cursor_expired", path="/v2/calls/transcript", times=2))
    body: dict[str, Any] = {"filter": {"fromDateTime": START}}

    first = post(paged, "/v2/calls/transcript", body)
    cursor = first.json()["records"]["cursor"]
    query_only = requests.post(
        f"{paged.url}/v2/calls/transcript",
        json=body,
        params={"cursor": cursor},
        auth=AUTH,
        timeout=5,
    )
    expired = [post(paged, "/v2/calls/transcript", {**body, "cursor": cursor}) for _ in range(2)]
    third = post(paged, "/v2/calls/transcript", {**body, "cursor": cursor})

    assert first.status_code == query_only.status_code == 200  # no cursor where Gong reads it
    assert [r.status_code for r in expired] == [400, 400]
    assert expired[0].json()["errors"] == [CURSOR_EXPIRED]
    assert third.status_code == 200
    assert third.json()["records"]["currentPageNumber"] == 1
    assert get(paged, "/v2/calls", cursor="whatever").status_code == 400  # real 400, not a fault
    assert paged.requests[-1].fault is None
