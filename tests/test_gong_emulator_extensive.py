"""POST /v2/calls/extensive in the emulator: contentSelector presence rules, over real HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import requests

from gong_emulator import (
    FULL_SELECTOR,
    NO_CALLS_FOUND,
    SCOPE_BASIC,
    SCOPE_EXTENSIVE,
    SCOPE_TRANSCRIPT,
    SEED_ID_BASE,
    GongEmulator,
    seed_calls,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

AUTH = ("key", "secret")
IDS = [str(SEED_ID_BASE + i) for i in range(100)]


@pytest.fixture(scope="module")
def emu() -> Iterator[GongEmulator]:
    with GongEmulator() as emulator:
        emulator.add_calls(seed_calls(120))
        yield emulator


def extensive(emu: GongEmulator, selector: dict[str, Any] | None = None, **filters: Any) -> Any:
    body: dict[str, Any] = {"filter": filters or {"callIds": IDS}}
    if selector is not None:
        body["contentSelector"] = selector
    return requests.post(f"{emu.url}/v2/calls/extensive", json=body, auth=AUTH, timeout=5)


def calls_of(response: requests.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    calls: list[dict[str, Any]] = response.json()["calls"]
    return calls


def test_blocks_appear_only_when_asked(emu: GongEmulator) -> None:
    bare = calls_of(extensive(emu))
    parties_only = calls_of(extensive(emu, {"exposedFields": {"parties": True}}))
    comments = calls_of(
        extensive(emu, {"exposedFields": {"collaboration": {"publicComments": True}}})
    )
    poi_only = calls_of(extensive(emu, {"exposedFields": {"content": {"pointsOfInterest": True}}}))

    assert {tuple(call) for call in bare} == {("metaData",)}
    assert {tuple(call) for call in parties_only} == {("metaData", "parties")}
    assert {tuple(call) for call in comments} == {("metaData", "collaboration")}
    assert {} in [call["collaboration"] for call in comments]  # no comments: {}, not []
    assert any(call["collaboration"].get("publicComments") for call in comments)
    assert {tuple(call) for call in poi_only} == {("metaData", "content")}
    assert {str(call["content"]) for call in poi_only} == {"{}"}  # deprecated: never served


def test_full_selector_matches_what_the_server_holds(emu: GongEmulator) -> None:
    calls = calls_of(extensive(emu, FULL_SELECTOR))

    assert len(calls) == 100
    for call in calls:
        assert call == emu.extensive_of(call["metaData"]["id"])
        assert "pointsOfInterest" not in call["content"]
    assert calls == calls_of(extensive(emu, FULL_SELECTOR))  # same ids, same data
    contents = [call["content"] for call in calls]
    for key in ("structure", "brief", "outline", "highlights", "keyPoints", "callOutcome"):
        # Some calls have each key, others lack it (unavailable sub-keys are omitted).
        assert 0 < sum(key in content for content in contents) < len(calls), key


def test_parties_and_speakers(emu: GongEmulator) -> None:
    calls = calls_of(extensive(emu, FULL_SELECTOR))
    parties = [party for call in calls for party in call["parties"]]

    assert all(2 <= len(call["parties"]) <= 6 for call in calls)
    assert all(len(party["id"]) == 19 and party["id"].isdigit() for party in parties)
    assert any(party["speakerId"] is None for party in parties)
    assert {party["affiliation"] for party in parties} == {"Internal", "External", "Unknown"}
    for key in ("emailAddress", "name", "title", "userId", "phoneNumber"):
        assert 0 < sum(key in party for party in parties) < len(parties), key
    for call in calls:
        internal_speakers = {
            party["id"]
            for party in call["parties"]
            if party["affiliation"] == "Internal" and "userId" in party and party["speakerId"]
        }
        speakers = call["interaction"].get("speakers", [])
        assert {speaker["id"] for speaker in speakers} == internal_speakers
        assert ("video" in call["interaction"]) == (call["metaData"]["media"] == "Video")
    assert any("speakers" not in call["interaction"] for call in calls)


def test_interaction_keys_follow_their_flags(emu: GongEmulator) -> None:
    stats = calls_of(
        extensive(emu, {"exposedFields": {"interaction": {"personInteractionStats": True}}})
    )
    questions = calls_of(extensive(emu, {"exposedFields": {"interaction": {"questions": True}}}))

    assert {tuple(call["interaction"]) for call in stats} == {("interactionStats",)}
    assert {tuple(call["interaction"]["questions"]) for call in questions} == {
        ("companyCount", "nonCompanyCount")
    }


def test_tracker_occurrences_only_when_asked(emu: GongEmulator) -> None:
    plain = calls_of(extensive(emu, {"exposedFields": {"content": {"trackers": True}}}))
    flagged = {"trackers": True, "trackerOccurrences": True}
    detailed = calls_of(extensive(emu, {"exposedFields": {"content": flagged}}))

    plain_trackers = [t for call in plain for t in call["content"]["trackers"]]
    trackers = [t for call in detailed for t in call["content"]["trackers"]]
    assert {tuple(call["content"]) for call in plain} == {("trackers",)}
    assert plain_trackers
    assert all("occurrences" not in t for t in plain_trackers)
    assert all(len(t["occurrences"]) == t["count"] for t in trackers)
    assert any(t["occurrences"] for t in trackers)
    assert {t["type"] for t in trackers} == {"KEYWORD", "SMART"}


def test_crm_context_basic_and_extended(emu: GongEmulator) -> None:
    basic = calls_of(extensive(emu, {"context": "Basic"}))
    timed = {"context": "Extended", "contextTiming": ["Now", "TimeOfCall"]}
    extended = calls_of(extensive(emu, timed))

    basic_objects = [o for call in basic for system in call["context"] for o in system["objects"]]
    assert basic_objects
    assert all("fields" not in o for o in basic_objects)
    assert any(call["context"] == [] for call in basic)
    objects = [o for call in extended for system in call["context"] for o in system["objects"]]
    assert all("fields" in o for o in objects)
    assert {o.get("timing") for o in objects} == {None, "Now", "TimeOfCall"}  # Accounts untimed
    values = {type(f["value"]) for o in objects for f in o["fields"]}
    assert {str, float, type(None)} <= values


def test_media_urls_are_signed_per_request(emu: GongEmulator) -> None:
    one = {"callIds": IDS[:1]}
    first, second = (
        calls_of(extensive(emu, {"exposedFields": {"media": True}}, **one))[0]["media"]
        for _ in range(2)
    )
    assert "X-Amz-Expires=28799" in first["audioUrl"]
    assert first["audioUrl"] != second["audioUrl"]


def test_request_checks() -> None:
    with GongEmulator() as emu:
        emu.add_calls(seed_calls(3))
        too_many = extensive(emu, callIds=[str(SEED_ID_BASE + i) for i in range(101)])
        empty_ids = extensive(emu, callIds=[])
        timing = extensive(emu, {"context": "Basic", "contextTiming": ["Now"]})
        unknown = extensive(emu, callIds=["1234567890123456789"])

    assert too_many.status_code == empty_ids.status_code == timing.status_code == 400
    assert unknown.status_code == 404
    assert unknown.json()["errors"] == [NO_CALLS_FOUND]


@pytest.mark.parametrize("status", [401, 403])
@pytest.mark.parametrize(
    ("path", "scope"),
    [("/v2/calls/extensive", SCOPE_EXTENSIVE), ("/v2/calls/transcript", SCOPE_TRANSCRIPT)],
)
def test_each_endpoint_can_be_refused(path: str, scope: str, status: int) -> None:
    everything_else = frozenset({SCOPE_BASIC, SCOPE_EXTENSIVE, SCOPE_TRANSCRIPT} - {scope})
    with GongEmulator(scopes=everything_else, scope_denied_status=status) as emu:
        emu.add_calls(seed_calls(1))
        refused = requests.post(f"{emu.url}{path}", json={"filter": {}}, auth=AUTH, timeout=5)
        media = extensive(emu, {"exposedFields": {"media": True}})

    assert refused.status_code == status
    assert media.status_code == status  # media URLs need a scope of their own, never granted here


def test_overridden_blocks_are_served_as_set(emu: GongEmulator) -> None:
    call_id = IDS[5]
    emu.set_extensive(call_id, {"content": {"brief": "Short."}, "collaboration": {}})
    try:
        call = calls_of(extensive(emu, FULL_SELECTOR, callIds=[call_id]))[0]
    finally:
        emu.set_extensive(call_id, None)

    assert set(call) == {"metaData", "content", "collaboration"}  # imported calls: no parties
    assert call["content"] == {"brief": "Short."}
