"""The record contract: Gong's drift (new enum values, nested nulls, CRM values of any JSON type,
a field of another type) reaches the target exactly as sent; only a broken key or an
unparseable `started` fails the run.

Unit tests of `RecordContract` first, then the installed tap against the emulator.
"""

from __future__ import annotations

import copy
import json
import logging
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from gong_emulator import CRM_VALUES, NEW_ENUM_VALUES, GongEmulator, make_call, seed_calls
from tap_gong_calls.contract import RecordContract
from tap_gong_calls.gong.errors import BadResponseError
from tap_gong_calls.numeric_ids import id_paths, stringify
from tests.tap_runner import ALL_STREAMS, CREDENTIALS, TapRun, run_tap
from tests.test_schemas import KEYS, example_records, schema_of

if TYPE_CHECKING:
    from collections.abc import Iterator

CALL = make_call("7782342274025937895", "2024-03-01T10:00:00-08:00")


def contract(stream: str, logger: logging.Logger | None = None) -> RecordContract:
    critical = ("started",) if stream == "calls" else ()
    return RecordContract(
        stream,
        schema_of(stream),
        KEYS[stream],
        critical_date_times=critical,
        logger=logger or logging.getLogger("tap_gong_calls"),
    )


QUIET = logging.getLogger("tests.test_contract.quiet")
QUIET.disabled = True  # the property test makes hundreds of mismatches on purpose


def records(stream: str) -> list[dict[str, Any]]:
    # Deep copies: the examples share nested objects with test_schemas.py's module data.
    return copy.deepcopy([CALL] if stream == "calls" else example_records(stream))


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def same_json(a: Any, b: Any) -> bool:
    """Equal as JSON text: True is not 1, 1.5 is not "1.5"."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


# -- what passes, and its shape --------------------------------------------------------------


@pytest.mark.parametrize("stream", list(KEYS))
def test_a_record_is_emitted_as_sent_with_every_top_level_field(stream):
    checker = contract(stream)
    for record in records(stream):
        sent = copy.deepcopy(record)
        emitted = checker.check(record, "a record")
        assert record == sent  # not changed in place
        assert emitted is not record
        assert set(emitted) == {*schema_of(stream)["properties"], *sent}
        assert {k: v for k, v in emitted.items() if k in sent} == sent
        assert all(emitted[k] is None for k in emitted if k not in sent)
    assert checker.warnings == 0


def test_new_enum_values_nulls_and_new_fields_pass_silently(caplog):
    checker = contract("calls")
    call = {**CALL, "direction": "Mixed", "scope": "Screen", "media": "Screen", "title": None}
    call["addedIn2027"] = {"any": [1, "x"]}
    del call["url"]
    emitted = checker.check(call, "a call")
    assert emitted["direction"] == "Mixed"
    assert emitted["url"] is None
    assert emitted["addedIn2027"] == {"any": [1, "x"]}
    assert (checker.warnings, warnings_of(caplog)) == (0, [])


def test_an_integral_float_is_an_integer_and_a_boolean_is_not():
    checker = contract("calls")
    checker.check({**CALL, "duration": 12.0}, "a call")
    assert checker.warnings == 0
    checker.check({**CALL, "duration": True}, "a call")
    assert checker.warnings == 1


# -- what only warns ---------------------------------------------------------------------------


def test_a_type_mismatch_warns_once_per_field_and_passes_the_value_through(caplog):
    checker = contract("calls")
    first = checker.check({**CALL, "duration": "12"}, "a call (id '1')")
    second = checker.check({**CALL, "duration": "13"}, "a call (id '2')")
    assert (first["duration"], second["duration"]) == ("12", "13")
    assert warnings_of(caplog) == [
        "Gong sent a call (id '1') whose duration is '12', not integer or null (schema calls): "
        "emitted as sent; further mismatches of this field are not logged"
    ]
    checker.check({**CALL, "scheduled": "next Tuesday"}, "a call (id '3')")
    assert checker.warnings == 2
    assert "whose scheduled is 'next Tuesday', not an ISO-8601 date-time" in warnings_of(caplog)[1]


def test_a_nested_mismatch_names_the_field_path_not_the_index(caplog):
    checker = contract("call_transcripts")
    record = example_records("call_transcripts")[0]
    record["transcript"][1]["sentences"][0]["start"] = 160.5
    record["transcript"][2]["sentences"][0]["start"] = "160"
    assert checker.check(record, "a transcript")["transcript"] == record["transcript"]
    assert checker.warnings == 1
    assert "whose transcript[].sentences[].start is 160.5" in warnings_of(caplog)[0]


@pytest.mark.parametrize(
    ("sentence", "warned"),
    [
        ({"start": 1, "end": 2}, None),  # a property left out passes
        ({"start": 1, "end": 2, "text": None, "speakerHint": [1]}, None),  # null, an extra key
        ({"start": 1, "end": "2", "text": "hi"}, "transcript[].sentences[].end is '2'"),
        ("hello", "transcript[].sentences[] is 'hello'"),
    ],
)
@pytest.mark.parametrize("monologues", [1, 40], ids=["one-by-one", "in-bulk"])
def test_every_sentence_is_checked_however_it_is_walked(caplog, sentence, warned, monologues):
    checker = contract("call_transcripts")
    record = example_records("call_transcripts")[0]
    # A long transcript is checked in bulk (contract.BULK_FROM), a short one element-wise.
    record["transcript"] = copy.deepcopy(record["transcript"][:1] * monologues)
    record["transcript"][-1]["sentences"].append(sentence)

    assert checker.check(record, "a transcript")["transcript"] == record["transcript"]
    assert checker.warnings == (0 if warned is None else 1)
    if warned is not None:
        assert warned in warnings_of(caplog)[0]


# -- what fails --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (None, "id is None, not a string of 1-20 digits"),
        # A JSON number is an id written as a string (numeric_ids.py), then checked as one.
        (-5, "id is '-5', not a string of 1-20 digits"),
        (True, "id is True, not a string of 1-20 digits"),
        (7.5, "id is 7.5, not a string of 1-20 digits"),
        ("12a", "id is '12a', not a string of 1-20 digits"),
        ("123\n", "id is '123\\n', not a string of 1-20 digits"),
        ("", "id is '', not a string of 1-20 digits"),
        ("1" * 21, f"id is '{'1' * 21}', not a string of 1-20 digits"),
    ],
)
def test_a_broken_key_fails_naming_stream_record_and_field(value, problem):
    with pytest.raises(BadResponseError) as raised:
        contract("calls").check({**CALL, "id": value}, "a call (id 'x')")
    assert str(raised.value) == (
        f"Gong sent a call (id 'x') that does not match the calls schema: {problem}"
    )
    assert "\n" not in str(raised.value)


def test_ids_sent_as_json_numbers_are_written_as_strings_exactly_with_one_warning(caplog):
    checker = contract("call_participants")
    party = {**example_records("call_participants")[0], "callId": 7782342274025937895, "id": 1}
    party["userId"] = 9223372036854775807  # 19 digits: beyond a float's exact integers
    record = checker.check(party, "a party")
    again = checker.check({**party, "callId": 7782342274025937896}, "a party")
    assert (record["callId"], record["id"], record["userId"]) == (
        "7782342274025937895",
        "1",
        "9223372036854775807",
    )
    assert again["callId"] == "7782342274025937896"
    warned = warnings_of(caplog)
    assert len(warned) == 3  # one per field, not per record
    assert "callId is the JSON number 7782342274025937895" in " ".join(warned)


@pytest.mark.parametrize("key", ["callId", "id"])
def test_each_part_of_a_composite_key_is_required(key):
    party = example_records("call_participants")[0]
    del party[key]
    with pytest.raises(BadResponseError, match=f"'{key}' is a required property"):
        contract("call_participants").check(party, "a party")


@pytest.mark.parametrize("started", [None, "yesterday", 1709280000, "2024-13-01T00:00:00Z"])
def test_an_unparseable_started_fails(started):
    with pytest.raises(BadResponseError, match=r"calls schema: started is .*not an ISO-8601"):
        contract("calls").check({**CALL, "started": started}, "a call")
    call = dict(CALL)
    del call["started"]
    with pytest.raises(BadResponseError, match="'started' is a required property"):
        contract("calls").check(call, "a call")


@pytest.mark.parametrize(
    "started", ["2024-03-01T10:00:00Z", "2024-03-01T10:00:00.123Z", "2024-03-01T10:00:00+05:30"]
)
def test_every_offset_style_of_started_passes(started):
    assert contract("calls").check({**CALL, "started": started}, "a call")["started"] == started


@pytest.mark.parametrize(
    ("started", "missing"),
    [
        ("2024-03-01", "time of day"),
        ("20240301", "time of day"),
        ("2024-03-01T10:00:00", "UTC offset"),
    ],
)
def test_a_started_without_a_time_of_day_or_offset_warns_once_and_is_written(
    caplog, started, missing
):
    # Not a failure: Gong places the call in its window, and the bookmark is a window's end.
    checker = contract("calls")
    first = checker.check({**CALL, "started": started}, "a call (id '1')")
    checker.check({**CALL, "started": started}, "a call (id '2')")
    assert first == {**first, **CALL, "started": started}
    (warned,) = warnings_of(caplog)
    assert warned.startswith(
        f"Gong sent a call (id '1') whose started is {started!r}, with no {missing} "
        "(schema calls: a date-time): emitted as sent, read as UTC where the tap compares it"
    )
    assert checker.warnings == 1  # counted in the Summary's schema warnings


# -- any JSON anywhere but the key -------------------------------------------------------------

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)


def value_paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a record a value sits, top-level fields and nested ones."""
    children = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, child in children:
        yield (*path, key)
        yield from value_paths(child, (*path, key))


def set_at(record: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    target: Any = record
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value


STRICT = {s: {*KEYS[s], *(("started",) if s == "calls" else ())} for s in KEYS}
PLACES = [
    (stream, index, path)
    for stream in KEYS
    for index, record in enumerate(records(stream))
    for path in [*value_paths(record), ("addedLater",)]
    if path[0] not in STRICT[stream]
]


@settings(max_examples=300, deadline=None, database=None)
@given(place=st.sampled_from(PLACES), value=JSON)
@example(place=("call_participants", 0, ("userId",)), value=0)  # an id sent as a number
def test_any_json_in_a_non_key_field_is_emitted_unchanged(place, value):
    stream, index, path = place
    record = records(stream)[index]
    set_at(record, path, value)
    sent = copy.deepcopy(record)
    # The one change: an id sent as a JSON integer is written as its string (tested above).
    for id_path in id_paths(schema_of(stream)):
        stringify(sent, id_path, lambda _field, _number: None)
    emitted = contract(stream, QUIET).check(record, "a record")
    assert same_json({k: v for k, v in emitted.items() if k in sent}, sent)
    assert all(emitted[k] is None for k in emitted if k not in sent)


# -- the installed tap against the emulator ----------------------------------------------------


def tap_config(emu: GongEmulator, **settings: Any) -> dict[str, Any]:
    return {**CREDENTIALS, "api_url": emu.url, **settings}


@pytest.fixture(scope="module")
def variety() -> Iterator[tuple[GongEmulator, TapRun]]:
    """One run of all four streams over calls that drift from the documentation."""
    with GongEmulator(**CREDENTIALS, variety=True) as emu:
        emu.add_calls(seed_calls(4, "2024-03-01T00:00:00Z"))
        stream_maps = {
            "call_participants": {"email_hash": "md5(emailAddress) if emailAddress else None"}
        }
        config = tap_config(emu, call_ids=list(emu.calls), stream_maps=stream_maps)
        yield emu, run_tap(config, streams=ALL_STREAMS)


def test_drifting_data_is_a_clean_run(variety):
    _, run = variety
    assert run.returncode == 0, run.explain()
    assert " | WARNING " not in run.stderr, run.explain()
    assert "schema warnings" not in run.stderr


def test_new_enum_values_arrive_as_sent(variety):
    emu, run = variety
    calls = {r["id"]: r for r in run.records_of("calls")}
    assert sorted(calls) == sorted(emu.calls)
    for call_id, sent in emu.calls.items():
        assert same_json({k: calls[call_id][k] for k in sent}, sent)
    for field, values in NEW_ENUM_VALUES.items():
        assert {r[field] for r in calls.values()} == set(values), field


def test_nested_nulls_and_crm_values_arrive_in_all_four_streams_as_sent(variety):
    emu, run = variety
    for call_id in emu.calls:
        held = emu.extensive_of(call_id)
        (details,) = (r for r in run.records_of("call_details") if r["callId"] == call_id)
        for block in ("content", "interaction", "collaboration", "context"):
            assert same_json(details[block], held.get(block)), block
        parties = [r for r in run.records_of("call_participants") if r["callId"] == call_id]
        assert len(parties) == len(held["parties"])
        for record, party in zip(parties, held["parties"], strict=True):
            assert same_json({k: record[k] for k in party}, party)
            assert all(
                record[k] is None for k in record if k not in {*party, "callId", "email_hash"}
            )
        assert parties[0]["userId"] is None
        assert parties[1]["speakerId"] is None
        (transcript,) = (r for r in run.records_of("call_transcripts") if r["callId"] == call_id)
        assert same_json(transcript["transcript"], emu.transcript_of(call_id))
        assert transcript["transcript"][0]["speakerId"] is None


def test_every_crm_json_type_keeps_its_type(variety):
    _, run = variety
    for stream in ("call_details", "call_participants"):
        got = [
            (field["name"], field["value"])
            for record in run.records_of(stream)
            for system in record["context"] or []
            for obj in system["objects"]
            for field in obj.get("fields") or []
            if field["name"] in CRM_VALUES
        ]
        assert {name for name, _ in got} == set(CRM_VALUES), stream
        wrong = [(name, value) for name, value in got if not same_json(value, CRM_VALUES[name])]
        assert wrong == [], stream


def test_a_stream_map_sees_a_field_gong_left_out_as_null(variety):
    emu, run = variety
    absent = {
        (call_id, party["id"])
        for call_id in emu.calls
        for party in emu.extensive_of(call_id)["parties"]
        if "emailAddress" not in party
    }
    assert absent  # phone callers come without an email address
    hashes = {(p["callId"], p["id"]): p["email_hash"] for p in run.records_of("call_participants")}
    assert {key for key, value in hashes.items() if value is None} == absent
    assert all("emailAddress" in p for p in run.records_of("call_participants"))


def test_a_type_mismatch_is_one_warning_per_field_and_counted_in_the_summary():
    with GongEmulator(**CREDENTIALS) as emu:
        calls = seed_calls(3, "2024-03-01T00:00:00Z")
        calls[0]["duration"], calls[1]["duration"] = "12", "13"
        calls[2]["scheduled"] = "soon"
        calls[2]["isPrivate"] = "false"  # singer-sdk's type conforming would make it True
        emu.add_calls(calls)
        transcript = emu.transcript_of(calls[0]["id"]) or []
        transcript[0]["sentences"][0]["start"] = "160"
        emu.set_transcript(calls[0]["id"], transcript)
        run = run_tap(tap_config(emu, call_ids=[c["id"] for c in calls]), streams=ALL_STREAMS)

    assert run.returncode == 0, run.explain()
    warned = [line for line in run.stderr.splitlines() if " | WARNING " in line]
    assert len(warned) == 4, warned
    assert "whose duration is '12', not integer or null (schema calls)" in warned[0]
    assert any("whose scheduled is 'soon', not an ISO-8601 date-time" in w for w in warned)
    assert any("whose transcript[].sentences[].start is '160'" in w for w in warned)
    assert [r["duration"] for r in run.records_of("calls")] == ["12", "13", calls[2]["duration"]]
    assert run.records_of("calls")[2]["isPrivate"] == "false"  # as Gong sent it
    assert run.records_of("call_transcripts")[0]["transcript"] == transcript
    assert ", schema warnings: 4, requests " in run.stderr


def test_calls_whose_started_has_no_time_of_day_are_written_with_one_warning():
    with GongEmulator(**CREDENTIALS) as emu:
        calls = seed_calls(3, "2024-03-01T00:00:00Z")
        calls[1]["started"] = calls[2]["started"] = "2024-03-01"
        emu.add_calls(calls)
        run = run_tap(tap_config(emu, call_ids=[c["id"] for c in calls]), streams=("calls",))

    assert run.returncode == 0, run.explain()
    (warned,) = [line for line in run.stderr.splitlines() if " | WARNING " in line]
    assert f"a call (id '{calls[1]['id']}') whose started is '2024-03-01', with no time" in warned
    assert [r["started"] for r in run.records_of("calls")] == [c["started"] for c in calls]
    assert ", schema warnings: 1, requests " in run.stderr


def broken_key_run(case: str) -> TapRun:
    with GongEmulator(**CREDENTIALS) as emu:
        calls = seed_calls(3, "2024-03-01T00:00:00Z")
        emu.add_calls(calls)
        if case == "call id 12a":
            emu.add_call(make_call("12a", "2024-03-01T05:00:00Z"))
            window = {"start_date": "2024-03-01T00:00:00Z", "end_date": "2024-03-02T00:00:00Z"}
            return run_tap(tap_config(emu, **window), streams=("calls",))
        if case == "started":
            calls[1]["started"] = "yesterday"
            emu.add_call(calls[1])
        else:
            blocks = emu.extensive_of(calls[1]["id"])
            party = blocks["parties"][0]
            if case == "party without id":
                del party["id"]
            else:
                party["id"] = "12a"
            emu.set_extensive(calls[1]["id"], blocks)
        return run_tap(tap_config(emu, call_ids=[c["id"] for c in calls]), streams=ALL_STREAMS)


PARTY_OF_CALL_1 = "Gong sent a call_participants record of call '7000000000000000001'"


@pytest.mark.parametrize(
    ("case", "message"),
    [
        (
            "call id 12a",
            "Gong sent a call (id '12a') that does not match the calls schema: "
            "id is '12a', not a string of 1-20 digits",
        ),
        (
            "party without id",
            f"{PARTY_OF_CALL_1} that does not match the call_participants schema: "
            "'id' is a required property",
        ),
        (
            "party id 12a",
            f"{PARTY_OF_CALL_1} that does not match the call_participants schema: "
            "id is '12a', not a string of 1-20 digits",
        ),
        (
            "started",
            "Gong sent a call (id '7000000000000000001') that does not match the calls schema: "
            "started is 'yesterday', not an ISO-8601 date-time",
        ),
    ],
)
def test_a_broken_key_or_started_fails_the_run_with_one_line(case, message):
    run = broken_key_run(case)

    assert run.returncode == 1, run.explain()
    assert message in run.stderr.splitlines()[-1], run.explain()
