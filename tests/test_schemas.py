"""The JSON Schemas of the call_participants, call_details and call_transcripts streams.

The example responses hold invented values in the shapes docs/gong-api-behaviour.md describes
(§11 for POST /v2/calls/extensive, §12 for POST /v2/calls/transcript), split into records as
the streams emit them.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

SCHEMAS_DIR = Path(__file__).resolve().parent.parent / "tap_gong_calls" / "schemas"
STREAMS = ("call_participants", "call_details", "call_transcripts")
KEYS = {
    "calls": ["id"],
    "call_participants": ["callId", "id"],
    "call_details": ["callId"],
    "call_transcripts": ["callId"],
}

CALL_ID = "7782342274025937895"

# -- example response, POST /v2/calls/extensive (§11; metaData left out) -------------------

EXTENSIVE_CALL: dict[str, Any] = {
    "context": [
        {
            "system": "Salesforce",
            "objects": [
                {
                    "objectType": "Account",
                    "objectId": "0011K00002A9Ga5QAF",
                    "fields": [
                        {"name": "Name", "value": "Initech"},
                        {"name": "Industry", "value": "Software"},
                    ],
                },
                {
                    "objectType": "Opportunity",
                    "objectId": "0061K00000esDghQAE",
                    "timing": "Now",
                    "fields": [
                        {"name": "StageName", "value": "Discovery"},
                        {"name": "Amount", "value": 12000.0},
                        {"name": "CloseDate", "value": "2026-06-30"},
                    ],
                },
            ],
        }
    ],
    "parties": [
        {
            "id": "8748836491550560853",
            "emailAddress": "rep@acme.com",
            "name": "Rita Rep",
            "title": "AE",
            "userId": "234599484848423",
            "speakerId": "5167721660710747718",
            "affiliation": "Internal",
            "phoneNumber": "+14155550100",
            "methods": ["Invitee", "Attendee"],
            "context": [
                {
                    "system": "Salesforce",
                    "objects": [
                        {
                            "objectType": "User",
                            "objectId": "0051K000008pKFBQA2",
                            "fields": [
                                {"name": "CreatedDate", "value": "2019-03-05T09:21:59-05:00"}
                            ],
                        }
                    ],
                }
            ],
        },
        {
            "id": "6584704123330399056",
            "emailAddress": "buyer@initech.com",
            "name": "Bo Buyer",
            "speakerId": "3706590308501811057",
            "affiliation": "External",
            "methods": ["Invitee", "Attendee"],
            "context": [
                {
                    "system": "Salesforce",
                    "objects": [{"objectType": "Contact", "objectId": "0031K00002ufQCuQAM"}],
                }
            ],
        },
        {
            "id": "2440994159593465808",
            "name": "Phone Caller #1",
            "speakerId": None,
            "affiliation": "Unknown",
            "methods": ["Attendee"],
            "context": [],
        },
    ],
    "content": {
        "topics": [{"name": "Call Setup", "duration": 62}, {"name": "Pricing", "duration": 0}],
        "trackers": [
            {
                "id": "6840000929075400007",
                "name": "Competitors",
                "count": 1,
                "type": "KEYWORD",
                "occurrences": [{"startTime": 412.37, "speakerId": "3706590308501811057"}],
                "phrases": [
                    {
                        "phrase": "Globex",
                        "count": 1,
                        "occurrences": [{"startTime": 412.37, "speakerId": "3706590308501811057"}],
                    }
                ],
            }
        ],
        "brief": "Rita walked Bo through pricing tiers; Bo will loop in IT.",
        "outline": [
            {
                "section": "Pricing",
                "startTime": 380.5299987792969,
                "duration": 95.41000366210938,
                "items": [
                    {"text": "Bo asked about volume discounts.", "startTime": 380.5299987792969}
                ],
            }
        ],
        "highlights": [
            {
                "title": "Next steps",
                "items": [{"text": "Send security questionnaire", "startTimes": [1701.2]}],
            }
        ],
        "keyPoints": [{"text": "Budget approved for Q3"}],
        "callOutcome": {"id": "MEETING_BOOKED", "category": "Answered", "name": "Meeting booked"},
    },
    "interaction": {
        "speakers": [
            {"id": "8748836491550560853", "userId": "234599484848423", "talkTime": 1012.4}
        ],
        "interactionStats": [
            {"name": "Talk Ratio", "value": 0.55},
            {"name": "Longest Monologue", "value": 141},
            {"name": "Longest Customer Story", "value": 63},
            {"name": "Interactivity", "value": 7.9},
            {"name": "Patience", "value": 0.82},
        ],
        "video": [
            {"name": "Browser", "duration": 212.5},
            {"name": "Presentation", "duration": 640.0},
            {"name": "Webcam", "duration": 0.0},
            {"name": "WebcamPrimaryUser", "duration": 0.0},
            {"name": "WebcamNonCompany", "duration": 0.0},
        ],
        "questions": {"companyCount": 9, "nonCompanyCount": 4},
    },
    "collaboration": {},
}

# -- example response, POST /v2/calls/transcript (§12) ---------------------------------------

CALL_TRANSCRIPTS: list[dict[str, Any]] = [
    {
        "callId": "7782342274025937895",
        "transcript": [
            {
                "speakerId": "5167721660710747718",
                "topic": None,
                "sentences": [
                    {"start": 160, "end": 2740, "text": "Hi Bo, thanks for joining."},
                    {"start": 2740, "end": 5010, "text": "Can you hear me okay?"},
                ],
            },
            {
                "speakerId": "3706590308501811057",
                "topic": "Pricing",
                "sentences": [
                    {"start": 380530, "end": 386200, "text": "What do volume discounts look like?"}
                ],
            },
            {
                "speakerId": "3706590308501811057",
                "topic": None,
                "sentences": [{"start": 387010, "end": 389400, "text": "And is SSO included?"}],
            },
        ],
    },
    {
        "callId": "7782342274025937896",
        "transcript": [
            {
                "speakerId": "5167721660710747718",
                "topic": "Call Setup",
                "sentences": [{"start": 0, "end": 1880, "text": "Let's get started."}],
            }
        ],
    },
]

# A comment as Gong documents it (§11); the example call has none (collaboration: {}).
PUBLIC_COMMENT: dict[str, Any] = {
    "id": "1180000000000000001",
    "audioStartTime": 412.0,
    "audioEndTime": 418.5,
    "commenterUserId": "234599484848423",
    "comment": "@[Rita Rep](234599484848423) follow up on Globex",
    "posted": "2026-03-02T10:15:00-08:00",
    "inReplyTo": None,
    "duringCall": False,
}


def participant_records() -> list[dict[str, Any]]:
    return [{"callId": CALL_ID, **party} for party in EXTENSIVE_CALL["parties"]]


def details_record() -> dict[str, Any]:
    blocks = ("content", "interaction", "collaboration", "context")
    return {"callId": CALL_ID, **{key: copy.deepcopy(EXTENSIVE_CALL[key]) for key in blocks}}


def transcript_records() -> list[dict[str, Any]]:
    return copy.deepcopy(CALL_TRANSCRIPTS)


def example_records(stream: str) -> list[dict[str, Any]]:
    if stream == "call_participants":
        return participant_records()
    if stream == "call_details":
        return [details_record()]
    return transcript_records()


@functools.cache
def schema_of(stream: str) -> dict[str, Any]:
    return json.loads((SCHEMAS_DIR / f"{stream}.json").read_text())


@functools.cache
def validator(stream: str) -> Draft202012Validator:
    # The tap's contract checks date-times too (tap_gong_calls/contract.py).
    return Draft202012Validator(schema_of(stream), format_checker=FormatChecker())


def errors(stream: str, record: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator(stream).iter_errors(record)
    ]


def nodes_in(schema: dict[str, Any], path: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every schema below ``schema`` (properties and array items), with its path."""
    found: list[tuple[str, dict[str, Any]]] = []
    for key, sub in schema.get("properties", {}).items():
        found += [(f"{path}/{key}", sub), *nodes_in(sub, f"{path}/{key}")]
    if "items" in schema:
        found += [(f"{path}[]", schema["items"]), *nodes_in(schema["items"], f"{path}[]")]
    return found


def objects_in(schema: dict[str, Any], path: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every object schema in ``schema`` (properties and array items), with its path."""
    found = [(path or "/", schema)] if "properties" in schema else []
    for key, sub in schema.get("properties", {}).items():
        found += objects_in(sub, f"{path}/{key}")
    if "items" in schema:
        found += objects_in(schema["items"], f"{path}[]")
    return found


# -- the schemas themselves ------------------------------------------------------------------


@pytest.mark.parametrize("stream", STREAMS)
def test_schema_is_valid_draft_2020_12(stream):
    schema = schema_of(stream)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("stream", STREAMS)
def test_every_object_passes_unknown_fields_through(stream):
    objects = objects_in(schema_of(stream))
    assert len(objects) > 1
    closed = [path for path, obj in objects if obj.get("additionalProperties") is not True]
    assert closed == []


@pytest.mark.parametrize("stream", STREAMS)
def test_top_level_properties_have_a_type_and_a_description(stream):
    # singer-sdk and target-postgres pick a column type from each top-level property.
    properties = schema_of(stream)["properties"]
    untyped = [key for key, sub in properties.items() if "type" not in sub]
    undescribed = [key for key, sub in properties.items() if not sub.get("description")]
    assert (untyped, undescribed) == ([], [])


@pytest.mark.parametrize(
    ("stream", "key"),
    [
        ("call_participants", ["callId", "id"]),
        ("call_details", ["callId"]),
        ("call_transcripts", ["callId"]),
    ],
)
def test_only_the_key_is_required_and_it_is_not_nullable(stream, key):
    schema = schema_of(stream)
    assert schema["required"] == key
    assert [schema["properties"][k]["type"] for k in key] == ["string"] * len(key)


# -- the reference's examples ------------------------------------------------------------------


@pytest.mark.parametrize("stream", STREAMS)
def test_the_reference_examples_validate(stream):
    records = example_records(stream)
    assert records
    assert [errors(stream, record) for record in records] == [[]] * len(records)


def test_a_call_with_comments_and_legacy_blocks_validates():
    record = details_record()
    record["collaboration"] = {"publicComments": [PUBLIC_COMMENT]}
    # 2021 shapes: trackers as {name, count}, pointsOfInterest, a null callOutcome.
    record["content"]["trackers"].append({"name": "Pricing", "count": 0})
    record["content"]["pointsOfInterest"] = {
        "actionItems": [
            {
                "snippetStartTime": 1690.5,
                "snippetEndTime": 1712.0,
                "speakerID": "5167721660710747718",
                "snippet": "I'll send the questionnaire today.",
            }
        ]
    }
    record["content"]["callOutcome"] = None
    assert errors("call_details", record) == []


def test_crm_field_values_may_be_any_json():
    record = details_record()
    fields = record["context"][0]["objects"][1]["fields"]
    for value in (None, 0.0, 3, "false", True, ["a", "b"], [1, 2], {"nested": 1}):
        fields.append({"name": "Custom__c", "value": value})
    record["context"][0]["objects"][0]["objectId"] = None
    assert errors("call_details", record) == []


def test_blocks_may_be_absent_or_null():
    assert errors("call_details", {"callId": CALL_ID}) == []
    nulls = dict.fromkeys(("content", "interaction", "collaboration", "context"))
    assert errors("call_details", {"callId": CALL_ID, **nulls}) == []
    assert errors("call_transcripts", {"callId": CALL_ID, "transcript": []}) == []


def test_open_enums_accept_values_gong_adds_later():
    party = participant_records()[0]
    party["affiliation"] = "Partner"
    party["methods"] = ["Invitee", "Organizer"]
    party["context"][0]["system"] = "Pipedrive"
    party["context"][0]["objects"][0]["objectType"] = "Deal"
    party["context"][0]["objects"][0]["timing"] = "Later"
    assert errors("call_participants", party) == []
    record = details_record()
    record["content"]["trackers"][0]["type"] = "AI"
    assert errors("call_details", record) == []


# -- unknown fields, nulls, types, keys ---------------------------------------------------------


@pytest.mark.parametrize("stream", STREAMS)
def test_an_unknown_field_passes(stream):
    record = example_records(stream)[0]
    record["addedByGongIn2027"] = {"anything": [1, "two"]}
    assert errors(stream, record) == []


def test_unknown_nested_fields_pass():
    record = details_record()
    record["content"]["trackers"][0]["occurrences"][0]["endTime"] = 415.0
    record["interaction"]["questions"]["totalCount"] = 13
    record["context"][0]["objects"][0]["url"] = "https://example.my.salesforce.com/0011K"
    assert errors("call_details", record) == []
    transcript = transcript_records()[0]
    transcript["transcript"][0]["sentences"][0]["confidence"] = 0.93
    assert errors("call_transcripts", transcript) == []


def test_a_null_speaker_id_passes():
    party = participant_records()[0]
    party["speakerId"] = None
    assert errors("call_participants", party) == []
    transcript = transcript_records()[0]
    transcript["transcript"][0]["speakerId"] = None
    assert errors("call_transcripts", transcript) == []


def test_a_transcript_with_a_float_start_does_not_match():
    # The contract only warns about it (tests/test_contract.py); the schema still says integer.
    transcript = transcript_records()[0]
    transcript["transcript"][0]["sentences"][0]["start"] = 160.5
    assert errors("call_transcripts", transcript) == [
        "transcript/0/sentences/0/start: 160.5 is not of type 'integer', 'null'"
    ]


@pytest.mark.parametrize("stream", STREAMS)
def test_a_record_without_call_id_fails(stream):
    record = example_records(stream)[0]
    del record["callId"]
    assert errors(stream, record) == [": 'callId' is a required property"]


@pytest.mark.parametrize("stream", STREAMS)
@pytest.mark.parametrize("call_id", [None, 7782342274025937895, "call-001", ""])
def test_a_call_id_that_is_not_a_numeric_string_fails(stream, call_id):
    record = example_records(stream)[0]
    record["callId"] = call_id
    assert errors(stream, record) != []


def test_a_party_without_its_id_fails():
    party = participant_records()[2]
    del party["id"]
    assert errors("call_participants", party) == [": 'id' is a required property"]


# -- tolerance: only keys are strict --------------------------------------------------------------


@pytest.mark.parametrize("stream", list(KEYS))
def test_no_enum_constrains_a_value_gong_may_extend(stream):
    constrained = [path for path, node in nodes_in(schema_of(stream)) if "enum" in node]
    assert constrained == []


def test_documented_enums_stay_as_known_values_in_descriptions():
    properties = schema_of("calls")["properties"]
    assert (
        "Known values so far: Inbound, Outbound, Conference, Unknown"
        in (properties["direction"]["description"])
    )
    assert "Known values so far: Internal, External, Unknown" in properties["scope"]["description"]
    assert "Known values so far: Video, Audio" in properties["media"]["description"]


@pytest.mark.parametrize("stream", list(KEYS))
def test_every_non_key_field_at_every_depth_is_nullable(stream):
    keys = {f"/{key}" for key in KEYS[stream]}
    not_nullable = [
        path
        for path, node in nodes_in(schema_of(stream))
        if path not in keys and "null" not in node.get("type", [])
    ]
    assert not_nullable == []


@pytest.mark.parametrize("stream", list(KEYS))
def test_only_keys_carry_a_pattern_and_they_are_strict_digit_strings(stream):
    schema = schema_of(stream)
    patterned = sorted(path for path, node in nodes_in(schema) if "pattern" in node)
    assert patterned == sorted(f"/{key}" for key in KEYS[stream])
    assert schema["required"] == KEYS[stream]
    for key in KEYS[stream]:
        assert schema["properties"][key]["type"] == "string"
        assert schema["properties"][key]["pattern"] == "^[0-9]{1,20}$"


@pytest.mark.parametrize("stream", ["call_participants", "call_details"])
def test_a_crm_value_has_every_json_type(stream):
    # Not an untyped {}: singer-sdk's record conforming raises on an untyped list value.
    context = schema_of(stream)["properties"]["context"]
    value = context["items"]["properties"]["objects"]["items"]["properties"]["fields"]["items"][
        "properties"
    ]["value"]
    assert sorted(value["type"]) == sorted(
        ["string", "number", "boolean", "null", "array", "object"]
    )
    assert "items" not in value  # an array without items is passed through by singer-sdk
    assert "properties" not in value


def test_nested_nulls_and_new_id_formats_match():
    party = participant_records()[0]
    party["userId"] = None
    party["speakerId"] = "spk-2027-abc"
    party["title"] = None
    assert errors("call_participants", party) == []
    transcript = transcript_records()[0]
    transcript["transcript"][0]["sentences"][0] = {"start": None, "end": None, "text": None}
    transcript["transcript"].append(None)
    assert errors("call_transcripts", transcript) == []
    record = details_record()
    record["content"]["topics"][0] = {"name": None, "duration": None}
    record["content"]["brief"] = None
    record["interaction"]["speakers"][0]["userId"] = None
    assert errors("call_details", record) == []
