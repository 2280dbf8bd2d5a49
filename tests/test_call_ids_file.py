"""`call_ids_file`: the calls to fetch by id, from a file, for lists too long for `call_ids`.

The file is read by `settings.call_ids_of` (one id a line, or a JSON array of id strings) and
checked by `settings.config_errors` before any request, each problem in one line naming the
file and the line or array index. Two runs of the installed tap against the emulator show what
a user sees: the calls of the file, in its order, and a bad file refused before any request.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from singer_sdk.exceptions import ConfigValidationError

from gong_emulator import GongEmulator, seed_calls
from tap_gong_calls.config_checks import config_errors
from tap_gong_calls.settings import by_ids, call_ids_of
from tests.tap_runner import CREDENTIALS, config, run_tap

CALLS = seed_calls(6)
IDS = [call["id"] for call in CALLS]
BASE = {**CREDENTIALS, "api_url": "https://api.gong.io"}


@pytest.fixture
def emulator_calls() -> list[dict[str, Any]]:
    return CALLS


def write(folder: Path, text: str | bytes, name: str = "ids.txt") -> str:
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


def file_errors(path: str, **settings: Any) -> list[str]:
    """config_errors about the ids (the credentials and api_url are good)."""
    return config_errors({**BASE, "call_ids_file": path, **settings})


# -- the two formats ---------------------------------------------------------------------------


def test_one_id_a_line_with_blanks_whitespace_and_comments(tmp_path: Path) -> None:
    text = "# calls of the Q3 review\n\n  7000000000000000002  \n\t1\r\n# 5\n   \n123\n"
    path = write(tmp_path, text)

    assert call_ids_of({"call_ids_file": path}) == ["7000000000000000002", "1", "123"]
    assert file_errors(path) == []


def test_a_json_array_of_id_strings(tmp_path: Path) -> None:
    path = write(tmp_path, '\n  ["7000000000000000002", "1",\n "123"]\n', "ids.json")

    assert call_ids_of({"call_ids_file": path}) == ["7000000000000000002", "1", "123"]
    assert file_errors(path) == []


@pytest.mark.parametrize("text", ["3\n1\n3\n2\n1\n", '["3", "1", "3", "2", "1"]'])
def test_duplicates_are_kept_in_order(tmp_path: Path, text: str) -> None:
    # The ids mode fetches each once (extract/ids.py), as it does with call_ids.
    assert call_ids_of({"call_ids_file": write(tmp_path, text)}) == ["3", "1", "3", "2", "1"]


def test_a_byte_order_mark_and_no_final_newline_are_fine(tmp_path: Path) -> None:
    path = write(tmp_path, "\ufeff11\n22".encode())

    assert call_ids_of({"call_ids_file": path}) == ["11", "22"]


def test_a_home_relative_path_is_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    write(tmp_path, "42\n")

    assert call_ids_of({"call_ids_file": "~/ids.txt"}) == ["42"]


# -- the mode ----------------------------------------------------------------------------------


def test_the_mode_follows_the_settings(tmp_path: Path) -> None:
    assert call_ids_of({"start_date": "2024-01-01T00:00:00Z"}) is None
    assert not by_ids({"start_date": "2024-01-01T00:00:00Z"})
    assert call_ids_of({"call_ids": ["2", "1", "2"]}) == ["2", "1", "2"]
    assert by_ids({"call_ids_file": str(tmp_path / "not-yet-written.txt")})


def test_start_date_is_not_needed_with_a_file(tmp_path: Path) -> None:
    assert file_errors(write(tmp_path, "1\n")) == []
    assert [e for e in config_errors(BASE) if "call_ids_file" in e and "start_date" in e]


def test_both_settings_are_an_error_naming_both(tmp_path: Path) -> None:
    path = write(tmp_path, "1\n")

    errors = file_errors(path, call_ids=["2"])

    assert errors == ["Both call_ids and call_ids_file are set: set only one of them."]
    with pytest.raises(ConfigValidationError):
        call_ids_of({"call_ids": ["2"], "call_ids_file": path})


# -- what makes a file unusable: one line each, naming the file and where -------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "holds no call ids"),
        ("# nothing yet\n\n", "holds no call ids"),
        ("[]", "holds no call ids"),
        ("1\n2\n12a\n4\n", "line 3: '12a' is not a Gong call id"),
        ("1\n\n\n# x\n7000000000000000001 # Q3\n", "line 5: '7000000000000000001 # Q3' is not"),
        ("1\n" + "1" * 21 + "\n", "line 2: '" + "1" * 21 + "' is not a Gong call id"),
        ("1,2,3\n", "line 1: '1,2,3' is not a Gong call id"),
        ('["1", "x"]', "index 1: 'x' is not a Gong call id"),
        ('["1", 7000000000000000001]', "index 1: 7000000000000000001 is not a string"),
        ('["1", null]', "index 1: null is not a string"),
        ('["1",\n "2",]', "line 2 column 6: not valid JSON (Expecting value)"),
        ('["1"] ["2"]', "line 1 column 7: not valid JSON (Extra data)"),
    ],
    ids=[
        "empty",
        "only-comments",
        "empty-array",
        "letters",
        "inline-comment",
        "21-digits",
        "comma-separated",
        "json-not-an-id",
        "json-number",
        "json-null",
        "json-trailing-comma",
        "json-two-arrays",
    ],
)
def test_a_bad_file_is_one_line_naming_the_file_and_where(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path, text)

    errors = file_errors(path)

    assert len(errors) == 1, errors
    assert errors[0].startswith(f"call_ids_file {path!r}"), errors
    assert expected in errors[0], errors
    assert "\n" not in errors[0]
    with pytest.raises(ConfigValidationError) as raised:
        call_ids_of({"call_ids_file": path})
    assert raised.value.errors == errors


def test_many_bad_ids_are_named_five_then_counted(tmp_path: Path) -> None:
    path = write(tmp_path, "".join(f"1\nid-{n}\n" for n in range(40)))

    errors = file_errors(path)

    assert [e.split(":")[0].rsplit(" ", 2)[-2:] for e in errors[:5]] == [
        ["line", str(n)] for n in (2, 4, 6, 8, 10)
    ]
    assert errors[5] == f"call_ids_file {path!r}: 35 more entries are not call ids either."
    assert len(errors) == 6


def test_a_missing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)

    assert file_errors(str(tmp_path / "gone.txt")) == [
        f"call_ids_file {str(tmp_path / 'gone.txt')!r} does not exist: check the path."
    ]
    assert file_errors("gone.txt") == [
        f"call_ids_file 'gone.txt' does not exist (read from {tmp_path}): check the path."
    ]


def test_a_directory(tmp_path: Path) -> None:
    assert file_errors(str(tmp_path)) == [
        f"call_ids_file {str(tmp_path)!r} is a directory: set call_ids_file to a file of call "
        f"ids in it."
    ]


def test_an_empty_path() -> None:
    assert file_errors("") == ["call_ids_file is empty: set it to the path of a file of call ids."]


def test_an_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "1\n")
    Path(path).chmod(0)
    if os.geteuid() == 0:  # root reads any file: refuse it as the kernel would anyone else
        monkeypatch.setattr(Path, "read_bytes", _refused)

    assert file_errors(path) == [
        f"call_ids_file {path!r} cannot be read (permission denied): let the tap's user read it."
    ]


def _refused(self: Path) -> bytes:
    raise PermissionError(13, "Permission denied", str(self))


def test_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = write(tmp_path, b"1\n2\n\xff\xfe3\n")

    (error,) = file_errors(path)

    assert error.startswith(f"call_ids_file {path!r} line 3: not UTF-8 text")


# -- the installed tap -------------------------------------------------------------------------


def test_a_run_fetches_exactly_the_calls_of_the_file_in_its_order(
    emulator: GongEmulator, tmp_path: Path
) -> None:
    unknown = "7999999999999999999"
    wanted = [IDS[4], IDS[0], IDS[2]]
    lines = ["# three of the six, one unknown, one twice", IDS[4], IDS[0], unknown, IDS[4], IDS[2]]
    path = write(tmp_path, "\n".join(lines) + "\n")

    run = run_tap(config(emulator, call_ids_file=path))

    assert run.returncode == 0, run.explain()
    assert run.ids == wanted
    assert f"Call {unknown} was not found in Gong: skipped" in run.stderr
    assert "Summary: requested 4, emitted 3, missing 1" in run.stderr, run.explain()
    assert len(emulator.requests) == 1  # one POST /v2/calls/extensive for the four ids
    body = emulator.requests[0].body
    assert body is not None
    assert body["filter"]["callIds"] == [
        IDS[4],
        IDS[0],
        unknown,
        IDS[2],
    ]


def test_a_run_with_a_bad_file_stops_before_any_request(
    emulator: GongEmulator, tmp_path: Path
) -> None:
    path = write(tmp_path, f"{IDS[0]}\n{IDS[1]}x\n")

    run = run_tap(config(emulator, call_ids_file=path))

    assert run.returncode == 1
    assert run.stdout == ""
    assert emulator.requests == []
    assert "Traceback" not in run.stderr
    assert f"call_ids_file {path!r} line 2: '{IDS[1]}x' is not a Gong call id" in run.stderr
