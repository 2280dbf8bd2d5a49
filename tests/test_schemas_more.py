"""The JSON Schemas of the users, workspaces, trackers, scorecards and answered_scorecards
streams (issue 22).

They follow the call streams' schemas (tests/test_schemas.py): Draft 2020-12, open objects, a
description on every property, every non-key property nullable, enums as known values in
descriptions, and only the key strict (a string of 1-20 digits). The example records hold
invented values in the shapes of the field lists gathered for issue 22 (GET /v2/users,
GET /v2/workspaces, GET /v2/settings/trackers, GET /v2/settings/scorecards and
POST /v2/stats/activity/scorecards), with ids as the tap writes them: strings, also where Gong
sends a number (scorecard, question and workspace ids).
"""

from __future__ import annotations

import copy
import logging
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tap_gong_calls.contract import RecordContract
from tests.test_schemas import errors, nodes_in, objects_in, schema_of

ID_PATTERN = "^[0-9]{1,20}$"
KEYS = {
    "users": "id",
    "workspaces": "id",
    "trackers": "trackerId",
    "scorecards": "scorecardId",
    "answered_scorecards": "answeredScorecardId",
}
STREAMS = tuple(KEYS)

# Ids other than the key: nullable strings (Gong's numbers written as strings by the tap) with
# no pattern, as in the call streams, where only keys are strict.
NON_KEY_IDS = {
    "users": ["/managerId"],
    "workspaces": [],
    "trackers": ["/workspaceId", "/creatorUserId", "/updaterUserId"],
    "scorecards": [
        "/workspaceId",
        "/updaterUserId",
        "/questions[]/questionId",
        "/questions[]/questionRevisionId",
        "/questions[]/answerOptions[]/id",
        "/questions[]/updaterUserId",
    ],
    "answered_scorecards": [
        "/scorecardId",
        "/callId",
        "/reviewedUserId",
        "/reviewerUserId",
        "/editorUserId",
        "/answers[]/questionId",
        "/answers[]/questionRevisionId",
    ],
}

DATE_TIMES = {
    "users": ["/created", "/_sdc_deleted_at"],
    "workspaces": ["/_sdc_deleted_at"],
    "trackers": ["/created", "/updated", "/_sdc_deleted_at"],
    "scorecards": [
        "/created",
        "/updated",
        "/questions[]/created",
        "/questions[]/updated",
        "/_sdc_deleted_at",
    ],
    "answered_scorecards": ["/callStartTime", "/reviewTime", "/_sdc_deleted_at"],
}

# -- example records, one list per stream -----------------------------------------------------

MANAGER_ID = "563515258458745"
REP_ID = "234599484848423"
WORKSPACE_ID = "623457276584334"
SCORECARD_ID = "6843152929075441234"
QUESTION_RANGE = ("5180390563405412875", "5180390563405412876")  # (questionId, revision)
QUESTION_OVERALL = ("5180390563405413001", "5180390563405413002")

USERS: list[dict[str, Any]] = [
    {
        "id": REP_ID,
        "emailAddress": "rita.rep@acme.com",
        "created": "2019-03-05T09:21:59-05:00",
        "active": True,
        "emailAliases": ["rita@acme.io"],
        "trustedEmailAddress": "rita.rep@acme.com",
        "firstName": "Rita",
        "lastName": "Rep",
        "title": "AE",
        "phoneNumber": "+1 (415) 555-0100",
        "extension": "123",
        "personalMeetingUrls": ["https://acme.zoom.us/j/4155550100"],
        "settings": {
            "webConferencesRecorded": True,
            "preventWebConferenceRecording": False,
            "telephonyCallsImported": True,
            "emailsImported": True,
            "preventEmailImport": False,
            "nonRecordedMeetingsImported": True,
            "gongConnectEnabled": False,
        },
        "managerId": MANAGER_ID,
        "meetingConsentPageUrl": "https://join.gong.io/acme/rita.rep?tkn=MoNpS9",
        "spokenLanguages": [
            {"language": "en-US", "primary": True},
            {"language": "es-ES", "primary": False},
        ],
        "conferencingProviders": ["Zoom"],
    },
    {
        # The top of the hierarchy: no manager. Fields Gong leaves null.
        "id": MANAGER_ID,
        "emailAddress": "max.manager@acme.com",
        "created": "2018-11-20T21:30:07.233692Z",
        "active": False,
        "emailAliases": [],
        "trustedEmailAddress": None,
        "firstName": "Max",
        "lastName": "Manager",
        "title": None,
        "phoneNumber": None,
        "extension": None,
        "personalMeetingUrls": [],
        "settings": {
            "webConferencesRecorded": False,
            "preventWebConferenceRecording": True,
            "telephonyCallsImported": False,
            "emailsImported": False,
            "preventEmailImport": True,
            "nonRecordedMeetingsImported": False,
            "gongConnectEnabled": False,
        },
        "managerId": None,
        "meetingConsentPageUrl": None,
        "spokenLanguages": [],
        "conferencingProviders": [{"name": "Microsoft Teams", "enabled": True}],
    },
]

WORKSPACES: list[dict[str, Any]] = [
    {"id": WORKSPACE_ID, "name": "Sales", "description": "North America sales"},
    {"id": "7273476131570014205", "name": "Customer Success", "description": None},
]

TRACKERS: list[dict[str, Any]] = [
    {
        "trackerId": "6840000929075400007",
        "trackerName": "Competitors",
        "workspaceId": WORKSPACE_ID,
        "languageKeywords": [
            {"language": "eng", "keywords": ["Globex", "Initrode"], "includeRelatedForms": False},
            {"language": "mul", "keywords": ["Globex"], "includeRelatedForms": True},
        ],
        "affiliation": "NonCompany",
        "partOfQuestion": False,
        "saidAt": "First",
        "saidAtInterval": 10,
        "saidAtUnit": "Minutes",
        "saidInTopics": ["Pricing"],
        "saidInCallParts": ["Demo"],
        "filterQuery": (
            '{"type": "And", "filters": [{"type": "CallDirection", "terms": ["OUTBOUND"]}]}'
        ),
        "created": "2023-05-02T14:03:11Z",
        "creatorUserId": REP_ID,
        "updated": "2025-01-20T08:45:00.123+01:00",
        "updaterUserId": MANAGER_ID,
    },
    {
        # A built-in tracker: no creator, no updater.
        "trackerId": "6840000929075400011",
        "trackerName": "Pricing",
        "workspaceId": WORKSPACE_ID,
        "languageKeywords": [
            {"language": "eng", "keywords": ["price", "discount"], "includeRelatedForms": True}
        ],
        "affiliation": "Anyone",
        "partOfQuestion": True,
        "saidAt": "Anytime",
        "saidAtInterval": None,
        "saidAtUnit": None,
        "saidInTopics": [],
        "saidInCallParts": [],
        "filterQuery": None,
        "created": "2018-02-17T10:30:00Z",
        "creatorUserId": None,
        "updated": "2018-02-17T10:30:00Z",
        "updaterUserId": None,
    },
]

SCORECARDS: list[dict[str, Any]] = [
    {
        "scorecardId": SCORECARD_ID,
        "scorecardName": "SDR Call Scorecard",
        "workspaceId": WORKSPACE_ID,
        "enabled": True,
        "updaterUserId": MANAGER_ID,
        "created": "2024-01-17T16:20:05-03:00",
        "updated": "2024-02-01T12:34:56.834+05:30",
        "reviewMethod": "MANUAL",
        "questions": [
            {
                "questionId": QUESTION_RANGE[0],
                "questionRevisionId": QUESTION_RANGE[1],
                "questionText": "Did the rep confirm the customer's main pain points?",
                "isOverall": False,
                "questionType": "RANGE",
                "answerGuide": "Look for explicit confirmation of pain points and impact.",
                "minRange": 1,
                "maxRange": 5,
                "answerOptions": None,
            },
            {
                "questionId": QUESTION_OVERALL[0],
                "questionRevisionId": QUESTION_OVERALL[1],
                "questionText": "Overall call quality",
                "isOverall": True,
                "questionType": "SINGLE_SELECT",
                "answerGuide": None,
                "minRange": None,
                "maxRange": None,
                "answerOptions": [
                    {"id": "1", "text": "Poor"},
                    {"id": "2", "text": "Average"},
                    {"id": "3", "text": "Great"},
                ],
            },
        ],
    }
]

ANSWERED_SCORECARDS: list[dict[str, Any]] = [
    {
        "answeredScorecardId": "7301048151437853432",
        "scorecardId": SCORECARD_ID,
        "scorecardName": "SDR Call Scorecard",
        "callId": "7782342274025937895",
        "callStartTime": "2026-03-02T09:00:00-08:00",
        "reviewedUserId": REP_ID,
        "reviewerUserId": MANAGER_ID,
        "reviewTime": "2026-03-04T16:12:40Z",
        "visibilityType": "PUBLIC",
        "reviewMethod": "MANUAL",
        "editorUserId": None,
        "answers": [
            {
                "questionId": QUESTION_RANGE[0],
                "questionRevisionId": QUESTION_RANGE[1],
                "isOverall": False,
                "score": 4,
                "answerText": None,
                "notApplicable": False,
                "selectedOptions": None,
            },
            {
                "questionId": QUESTION_OVERALL[0],
                "questionRevisionId": QUESTION_OVERALL[1],
                "isOverall": True,
                "score": None,
                "answerText": "Great discovery; next time book the demo on the call.",
                "notApplicable": False,
                "selectedOptions": ["3"],
            },
        ],
    },
    {
        # A second review of the same call with the same scorecard: the key tells them apart.
        "answeredScorecardId": "7301048151437853499",
        "scorecardId": SCORECARD_ID,
        "scorecardName": "SDR Call Scorecard",
        "callId": "7782342274025937895",
        "callStartTime": "2026-03-02T09:00:00-08:00",
        "reviewedUserId": REP_ID,
        "reviewerUserId": REP_ID,
        "reviewTime": "2026-03-09T08:01:02.5+01:00",
        "visibilityType": "OPT_IN_USERS",
        "reviewMethod": "AUTOMATIC",
        "editorUserId": "234599484848423",
        "answers": [
            {
                "questionId": QUESTION_RANGE[0],
                "questionRevisionId": QUESTION_RANGE[1],
                "isOverall": False,
                "score": None,
                "answerText": None,
                "notApplicable": True,
                "selectedOptions": [],
            }
        ],
    },
]

EXAMPLES: dict[str, list[dict[str, Any]]] = {
    "users": USERS,
    "workspaces": WORKSPACES,
    "trackers": TRACKERS,
    "scorecards": SCORECARDS,
    "answered_scorecards": ANSWERED_SCORECARDS,
}


def example_records(stream: str) -> list[dict[str, Any]]:
    """Deep copies of the stream's example records (tests may change them)."""
    return copy.deepcopy(EXAMPLES[stream])


def node_at(schema: dict[str, Any], path: str) -> dict[str, Any]:
    return dict(nodes_in(schema))[path]


def values_at(value: Any, path: str) -> list[Any]:
    """Every value at ``path`` (written as nodes_in writes it) in a record, nulls skipped."""
    found = [value]
    for part in path.strip("/").split("/"):
        name, lists = part.rstrip("[]"), part.count("[]")
        found = [v.get(name) for v in found if isinstance(v, dict)]
        for _ in range(lists):
            found = [e for v in found if isinstance(v, list) for e in v]
    return [v for v in found if v is not None]


# -- the schemas themselves ------------------------------------------------------------------


@pytest.mark.parametrize("stream", STREAMS)
def test_schema_is_valid_draft_2020_12(stream):
    schema = schema_of(stream)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    assert schema["type"] == "object"
    assert schema["title"]
    assert schema["description"]


@pytest.mark.parametrize("stream", STREAMS)
def test_only_the_key_is_required_and_it_is_a_strict_digit_string(stream):
    schema = schema_of(stream)
    key = KEYS[stream]
    assert schema["required"] == [key]
    assert schema["properties"][key]["type"] == "string"
    assert schema["properties"][key]["pattern"] == ID_PATTERN
    assert schema["properties"][key]["description"]


@pytest.mark.parametrize("stream", STREAMS)
def test_only_the_key_carries_a_pattern(stream):
    patterned = [path for path, node in nodes_in(schema_of(stream)) if "pattern" in node]
    assert patterned == [f"/{KEYS[stream]}"]


@pytest.mark.parametrize("stream", STREAMS)
def test_every_non_key_field_at_every_depth_is_nullable(stream):
    key = f"/{KEYS[stream]}"
    not_nullable = [
        path
        for path, node in nodes_in(schema_of(stream))
        if path != key and "null" not in node.get("type", [])
    ]
    assert not_nullable == []


@pytest.mark.parametrize("stream", STREAMS)
def test_every_property_at_every_depth_has_a_type_and_a_description(stream):
    named = [(p, n) for p, n in nodes_in(schema_of(stream)) if not p.endswith("[]")]
    assert [p for p, n in named if "type" not in n] == []
    assert [p for p, n in named if not n.get("description")] == []


@pytest.mark.parametrize("stream", STREAMS)
def test_every_object_passes_unknown_fields_through(stream):
    objects = objects_in(schema_of(stream))
    closed = [path for path, obj in objects if obj.get("additionalProperties") is not True]
    assert closed == []


@pytest.mark.parametrize("stream", STREAMS)
def test_no_enum_constrains_a_value_gong_may_extend(stream):
    constrained = [path for path, node in nodes_in(schema_of(stream)) if "enum" in node]
    assert constrained == []


@pytest.mark.parametrize("stream", STREAMS)
def test_timestamps_are_date_times(stream):
    formatted = sorted(
        path for path, node in nodes_in(schema_of(stream)) if node.get("format") == "date-time"
    )
    assert formatted == sorted(DATE_TIMES[stream])


@pytest.mark.parametrize("stream", STREAMS)
def test_the_tombstone_marker_is_a_nullable_date_time(stream):
    marker = schema_of(stream)["properties"]["_sdc_deleted_at"]
    assert marker["type"] == ["string", "null"]
    assert marker["format"] == "date-time"
    assert "tombstone" in marker["description"]


@pytest.mark.parametrize("stream", STREAMS)
def test_every_id_is_a_nullable_string_without_a_pattern(stream):
    # Every property named like an id, other than the key, is one of NON_KEY_IDS.
    key = f"/{KEYS[stream]}"
    named_ids = sorted(
        path
        for path, _ in nodes_in(schema_of(stream))
        if path != key and (path.endswith("Id") or path.endswith("/id"))
    )
    assert named_ids == sorted(NON_KEY_IDS[stream])
    for path in NON_KEY_IDS[stream]:
        node = node_at(schema_of(stream), path)
        assert node["type"] == ["string", "null"], path
        assert "pattern" not in node, path


def test_ids_gong_sends_as_numbers_say_the_tap_writes_strings():
    for stream, path in [
        ("scorecards", "/scorecardId"),
        ("scorecards", "/workspaceId"),
        ("scorecards", "/questions[]/questionId"),
        ("answered_scorecards", "/answeredScorecardId"),
        ("answered_scorecards", "/scorecardId"),
        ("answered_scorecards", "/answers[]/questionId"),
    ]:
        description = node_at(schema_of(stream), path)["description"]
        assert "Gong sends it as a number" in description, (stream, path)
        assert "the tap writes it as a string" in description, (stream, path)


def test_documented_enums_stay_as_known_values_in_descriptions():
    answered = schema_of("answered_scorecards")["properties"]
    visibility = answered["visibilityType"]["description"]
    assert "Known values so far: PUBLIC, PRIVATE, OPT_IN_USERS" in visibility
    assert "Who may read the review in Gong" in visibility
    assert "Known values so far: MANUAL, AUTOMATIC" in answered["reviewMethod"]["description"]
    scorecard = schema_of("scorecards")["properties"]["reviewMethod"]["description"]
    assert "Known values so far: AUTOMATIC, MANUAL" in scorecard
    trackers = schema_of("trackers")["properties"]
    affiliation = trackers["affiliation"]["description"]
    assert "Known values so far: Anyone, Company, NonCompany" in affiliation
    assert "Known values so far: Anytime, First, Last" in trackers["saidAt"]["description"]


def test_the_manager_id_points_at_a_user_id():
    description = schema_of("users")["properties"]["managerId"]["description"]
    assert "`id`" in description
    assert "hierarchy" in description


def test_conferencing_providers_are_typed_loosely():
    providers = schema_of("users")["properties"]["conferencingProviders"]
    assert providers["type"] == ["array", "null"]
    assert sorted(providers["items"]["type"]) == ["null", "object", "string"]
    assert "loosely" in providers["description"]


# -- the examples --------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", STREAMS)
def test_the_examples_validate(stream):
    records = example_records(stream)
    assert records
    assert [errors(stream, record) for record in records] == [[]] * len(records)


@pytest.mark.parametrize("stream", STREAMS)
def test_the_examples_hold_every_documented_field(stream):
    documented = set(schema_of(stream)["properties"]) - {"_sdc_deleted_at"}
    missing = [sorted(documented - set(record)) for record in example_records(stream)]
    assert missing == [[]] * len(missing)


@pytest.mark.parametrize("stream", STREAMS)
def test_the_examples_write_ids_as_digit_strings(stream):
    for record in example_records(stream):
        for path in [f"/{KEYS[stream]}", *NON_KEY_IDS[stream]]:
            for value in values_at(record, path):
                assert isinstance(value, str), (path, value)
                assert value.isdigit(), (path, value)


@pytest.mark.parametrize("stream", STREAMS)
def test_the_tap_contract_takes_the_examples_without_a_warning(stream, caplog):
    contract = RecordContract(
        stream, schema_of(stream), [KEYS[stream]], logger=logging.getLogger("tap_gong_calls")
    )
    with caplog.at_level(logging.WARNING, logger="tap_gong_calls"):
        for record in example_records(stream):
            contract.check(record, f"an example {stream} record")
    assert contract.warnings == 0
    assert caplog.records == []


# -- unknown fields, nulls, keys ----------------------------------------------------------------


@pytest.mark.parametrize("stream", STREAMS)
def test_an_unknown_field_passes(stream):
    record = example_records(stream)[0]
    record["addedByGongIn2027"] = {"anything": [1, "two"]}
    assert errors(stream, record) == []


def test_unknown_nested_fields_pass():
    user = example_records("users")[0]
    user["settings"]["aiNotesEnabled"] = True
    user["spokenLanguages"][0]["confidence"] = 0.93
    assert errors("users", user) == []
    tracker = example_records("trackers")[0]
    tracker["languageKeywords"][0]["excludedKeywords"] = ["globe"]
    assert errors("trackers", tracker) == []
    scorecard = example_records("scorecards")[0]
    scorecard["questions"][1]["answerOptions"][0]["score"] = 1
    assert errors("scorecards", scorecard) == []
    review = example_records("answered_scorecards")[0]
    review["answers"][0]["comment"] = "Good"
    assert errors("answered_scorecards", review) == []


@pytest.mark.parametrize("stream", STREAMS)
def test_a_record_of_its_key_alone_or_with_every_field_null_passes(stream):
    key = KEYS[stream]
    record = example_records(stream)[0]
    assert errors(stream, {key: record[key]}) == []
    nulls = dict.fromkeys(schema_of(stream)["properties"])
    assert errors(stream, {**nulls, key: record[key]}) == []


@pytest.mark.parametrize("stream", STREAMS)
def test_a_record_without_its_key_fails(stream):
    record = example_records(stream)[0]
    del record[KEYS[stream]]
    assert errors(stream, record) == [f": '{KEYS[stream]}' is a required property"]


@pytest.mark.parametrize("stream", STREAMS)
@pytest.mark.parametrize("key_value", [None, 6843152929075441234, "sc-001", "", "1" * 21])
def test_a_key_that_is_not_a_digit_string_fails(stream, key_value):
    # A number too: the tap writes Gong's numeric ids as strings before they reach the schema.
    record = example_records(stream)[0]
    record[KEYS[stream]] = key_value
    assert errors(stream, record) != []


def test_open_enums_and_loose_fields_accept_what_gong_adds_later():
    review = example_records("answered_scorecards")[0]
    review["visibilityType"] = "MANAGERS_ONLY"
    review["reviewMethod"] = "HYBRID"
    review["answers"][1]["selectedOptions"] = ["3", 2, None, "Great"]
    assert errors("answered_scorecards", review) == []
    tracker = example_records("trackers")[0]
    tracker["affiliation"] = "Partner"
    tracker["saidAt"] = "Middle"
    assert errors("trackers", tracker) == []
    user = example_records("users")[0]
    user["conferencingProviders"] = ["Zoom", {"provider": "Webex", "id": 7}, None]
    assert errors("users", user) == []


def test_non_key_ids_of_a_new_format_pass():
    # Like the call streams: only the key is strict; another id is warned about, not refused.
    review = example_records("answered_scorecards")[0]
    review["reviewerUserId"] = "usr-2027-abc"
    review["answers"][0]["questionId"] = None
    assert errors("answered_scorecards", review) == []
    user = example_records("users")[0]
    user["managerId"] = "mgr-2027"
    assert errors("users", user) == []


def test_a_timestamp_that_is_not_one_is_warned_about_and_passed_through(caplog):
    # jsonschema checks date-time formats only with rfc3339-validator installed; the tap's
    # contract checks them itself.
    contract = RecordContract(
        "answered_scorecards",
        schema_of("answered_scorecards"),
        [KEYS["answered_scorecards"]],
        logger=logging.getLogger("tap_gong_calls"),
    )
    review = example_records("answered_scorecards")[0]
    review["reviewTime"] = "last Tuesday"
    with caplog.at_level(logging.WARNING, logger="tap_gong_calls"):
        emitted = contract.check(review, "an answered scorecard")
    assert emitted["reviewTime"] == "last Tuesday"
    assert contract.warnings == 1
    assert "reviewTime" in caplog.records[0].getMessage()
