"""POST /v2/calls/transcript in the emulator, its own paging, and the shared quota."""

from __future__ import annotations

import itertools
import json
import time
import tracemalloc
from typing import TYPE_CHECKING, Any

import pytest
import requests

from gong_emulator import NO_CALLS_FOUND, SEED_ID_BASE, GongEmulator, seed_calls

if TYPE_CHECKING:
    from collections.abc import Iterator

AUTH = ("key", "secret")
START = "2024-01-01T00:00:00Z"


@pytest.fixture
def emu() -> Iterator[GongEmulator]:
    with GongEmulator(transcript_page_size=7) as emulator:
        emulator.add_calls(seed_calls(20, START))
        yield emulator


def transcripts(emu: GongEmulator, body: dict[str, Any], **params: str) -> requests.Response:
    url = f"{emu.url}/v2/calls/transcript"
    return requests.post(url, json=body, params=params, auth=AUTH, timeout=5)


def all_pages(emu: GongEmulator, filters: dict[str, Any]) -> list[dict[str, Any]]:
    pages, cursor = [], None
    while True:
        response = transcripts(emu, {"filter": filters, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        pages.append(response.json())
        cursor = pages[-1]["records"].get("cursor")
        if cursor is None:
            return pages


def test_pages_by_its_own_size_with_a_body_cursor(emu: GongEmulator) -> None:
    pages = all_pages(emu, {"fromDateTime": START})
    first = pages[0]

    assert [p["records"]["currentPageSize"] for p in pages] == [7, 7, 6]
    assert [p["records"]["currentPageNumber"] for p in pages] == [0, 1, 2]
    ids = [t["callId"] for p in pages for t in p["callTranscripts"]]
    assert ids == [str(SEED_ID_BASE + i) for i in range(20)]  # ascending by start
    # A cursor in the query string is ignored: page 1 again, as Gong does.
    again = transcripts(emu, {"filter": {"fromDateTime": START}}, cursor=first["records"]["cursor"])
    assert again.json()["callTranscripts"] == first["callTranscripts"]
    moved = {
        "filter": {"fromDateTime": "2024-01-01T01:00:00Z"},
        "cursor": first["records"]["cursor"],
    }
    assert transcripts(emu, moved).status_code == 400  # the cursor is bound to its filter


def test_transcripts_match_the_server_and_gong_shapes(emu: GongEmulator) -> None:
    served = [t for p in all_pages(emu, {}) for t in p["callTranscripts"]]

    for item in served:
        assert item["transcript"] == emu.transcript_of(item["callId"])
        party_speakers = {p["speakerId"] for p in emu.extensive_of(item["callId"])["parties"]}
        monologues = item["transcript"]
        assert {m["speakerId"] for m in monologues} <= party_speakers - {None}
        # A new monologue only where the speaker or the topic changes.
        keys = [(m["speakerId"], m["topic"]) for m in monologues]
        assert all(a != b for a, b in itertools.pairwise(keys))
        times = [(s["start"], s["end"]) for m in monologues for s in m["sentences"]]
        assert all(type(t) is int for pair in times for t in pair)  # milliseconds, integers
        assert times == sorted(times)
    topics = {m["topic"] for item in served for m in item["transcript"]}
    assert None in topics
    assert len(topics) > 1
    assert any(
        ord(ch) > 127
        for item in served
        for m in item["transcript"]
        for s in m["sentences"]
        for ch in s["text"]
    )
    assert served == [t for p in all_pages(emu, {}) for t in p["callTranscripts"]]  # deterministic


def test_ids_and_dates_intersect_and_unready_calls_are_left_out(emu: GongEmulator) -> None:
    ids = [str(SEED_ID_BASE + i) for i in (1, 2, 3, 15)]
    emu.set_transcript_ready(ids[1], False)
    window = {"fromDateTime": START, "toDateTime": "2024-01-01T05:00:00Z", "callIds": ids}
    page = transcripts(emu, {"filter": window}).json()

    assert [t["callId"] for t in page["callTranscripts"]] == [ids[0], ids[2]]
    assert page["records"]["totalRecords"] == 2
    assert emu.transcript_of(ids[1]) is None
    emu.set_transcript_ready(ids[1], True)
    assert transcripts(emu, {"filter": window}).json()["records"]["totalRecords"] == 3


def test_refusals_and_not_found(emu: GongEmulator) -> None:
    emu.set_transcript_ready(str(SEED_ID_BASE), False)
    only_unready = transcripts(emu, {"filter": {"callIds": [str(SEED_ID_BASE)]}})
    empty_window = transcripts(emu, {"filter": {"fromDateTime": "2030-01-01T00:00:00Z"}})
    too_many = transcripts(
        emu, {"filter": {"callIds": [str(SEED_ID_BASE + i) for i in range(101)]}}
    )
    no_ids = transcripts(emu, {"filter": {"callIds": []}})
    no_filter = transcripts(emu, {"cursor": None})

    assert only_unready.status_code == empty_window.status_code == 404
    assert only_unready.json()["errors"] == [NO_CALLS_FOUND]
    assert too_many.status_code == no_ids.status_code == no_filter.status_code == 400


def test_large_transcripts_are_generated_on_request() -> None:
    with GongEmulator(transcript_bytes=50_000) as emu:
        tracemalloc.start()
        try:
            emu.add_calls(seed_calls(4_000, START))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()  # tracing the serving too would make this test slow
        ids = [str(SEED_ID_BASE + i) for i in range(0, 4_000, 100)]
        emu.set_transcript_bytes(ids[1], 2_000)
        page = transcripts(emu, {"filter": {"callIds": ids}}).json()

    sizes = [
        len(json.dumps(t["transcript"], separators=(",", ":"))) for t in page["callTranscripts"]
    ]
    assert peak < 40_000_000  # 4,000 x 50 KB held at once would be 200 MB
    assert sizes[1] < 3_000
    assert all(45_000 < size < 55_000 for size in sizes[:1] + sizes[2:])


def test_set_transcript_overrides_the_generated_one(emu: GongEmulator) -> None:
    call_id = str(SEED_ID_BASE + 4)
    mine = [
        {"speakerId": None, "topic": None, "sentences": [{"start": 0, "end": 10, "text": "Hm."}]}
    ]
    emu.set_transcript(call_id, mine)
    page = transcripts(emu, {"filter": {"callIds": [call_id]}}).json()
    assert page["callTranscripts"] == [{"callId": call_id, "transcript": mine}]


def test_latency_by_path_slows_only_that_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    # The emulator's waits are recorded (they still happen), not inferred from how long each
    # request took: "the listing was not slowed" is then no bound on a busy machine's clock.
    waits: list[tuple[str, float]] = []
    real_sleep = time.sleep
    phase = "start"

    def recorded_sleep(seconds: float) -> None:
        waits.append((phase, seconds))
        real_sleep(seconds)

    monkeypatch.setattr(time, "sleep", recorded_sleep)
    with GongEmulator(latency_by_path={"/v2/calls/transcript": 0.3}) as emu:
        emu.add_calls(seed_calls(1, START))
        phase = "list"
        requests.get(f"{emu.url}/v2/calls", auth=AUTH, timeout=5)
        phase = "transcript"
        began = time.monotonic()
        transcripts(emu, {"filter": {}})
        done = time.monotonic()

    assert [wait for wait in waits if wait[0] != "start"] == [("transcript", 0.3)]
    assert done - began >= 0.3  # the wait was real: a lower bound, which no load can break


def test_a_second_client_draws_from_the_same_bucket() -> None:
    with GongEmulator(rate_limit_per_second=2) as emu:
        emu.add_calls(seed_calls(1, START))
        emu.add_client("other-key", "other-secret")
        url = f"{emu.url}/v2/calls"
        mine = [requests.get(url, auth=AUTH, timeout=5).status_code for _ in range(2)]
        theirs = requests.get(url, auth=("other-key", "other-secret"), timeout=5)
        stranger = requests.get(url, auth=("other-key", "wrong"), timeout=5)

    assert mine == [200, 200]
    assert theirs.status_code == 429  # the company's budget is spent, whoever spent it
    assert stranger.status_code in (401, 429)
