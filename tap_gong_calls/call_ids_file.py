"""The ``call_ids_file`` setting's file: call ids one a line, or a JSON array of id strings.

It is for lists too long for ``call_ids``: Meltano passes each setting as one environment
variable, and Linux caps one at 128 KiB, about 5,900 ids (``Argument list too long``). The
file is read whole; every problem found is one line naming the file, the line (or the array
index) and what to fix.

- **One id a line**: surrounding whitespace and blank lines are ignored, and so are lines
  whose first character (after whitespace) is ``#``.
- **A JSON array of strings**, when the file's first character (after whitespace) is ``[``:
  ``["7782342274025937895", "7782342274025937896"]``. An id written as a JSON number is
  refused: many tools round numbers of 19 digits.

Every id is a Gong id (1-20 digits, nothing else), and there is at least one. Ids keep the
file's order, duplicates included (the ids mode fetches each once).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

_GONG_ID = re.compile(r"[0-9]{1,20}")
# The bad ids reported one by one; the rest are counted in one more line.
MAX_ID_ERRORS = 5
FORMATS = "one id a line, or a JSON array of id strings"


def read_call_ids_file(path: str) -> tuple[list[str], list[str]]:
    """The ids in the file at ``path``, and the problems that make it unusable (one a line)."""
    where = f"call_ids_file {path!r}"
    text, problem = _text(path, where)
    if problem:
        return [], [problem]
    if text.lstrip().startswith("["):
        ids, errors = _json_ids(text, where)
    else:
        ids, errors = _line_ids(text, where)
    if not errors and not ids:
        errors = [f"{where} holds no call ids: write {FORMATS}, or unset call_ids_file."]
    return ids, errors


def _text(path: str, where: str) -> tuple[str, str | None]:
    """The file's text, or why it cannot be read."""
    if not path.strip():
        return "", "call_ids_file is empty: set it to the path of a file of call ids."
    file = Path(path).expanduser()
    try:
        return file.read_bytes().decode("utf-8-sig"), None  # a BOM (Windows editors) is fine
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        return "", f"{where} line {line}: not UTF-8 text: save the file as UTF-8 ({FORMATS})."
    except OSError as exc:
        return "", f"{where} {_unreadable(exc, file)}"


def _unreadable(exc: OSError, file: Path) -> str:
    if isinstance(exc, FileNotFoundError):
        relative = "" if file.is_absolute() else f" (read from {Path.cwd()})"
        return f"does not exist{relative}: check the path."
    if isinstance(exc, IsADirectoryError):
        return "is a directory: set call_ids_file to a file of call ids in it."
    if isinstance(exc, PermissionError):
        return "cannot be read (permission denied): let the tap's user read it."
    return f"cannot be read ({exc.strerror or exc}): check the path."


def _line_ids(text: str, where: str) -> tuple[list[str], list[str]]:
    """One id a line; blank lines and ``#`` lines skipped."""
    ids: list[str] = []
    bad: list[str] = []
    for number, line in enumerate(text.split("\n"), start=1):
        value = line.strip()
        if not value or value.startswith("#"):
            continue
        if _GONG_ID.fullmatch(value):
            ids.append(value)
        else:
            bad.append(
                f"{where} line {number}: {value!r} is not a Gong call id (1-20 digits, nothing "
                f"else): fix the line, remove it, or start it with # to skip it."
            )
    return ids, _capped(bad, where)


def _json_ids(text: str, where: str) -> tuple[list[str], list[str]]:
    """A JSON array of id strings."""
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        place = f"line {exc.lineno} column {exc.colno}"
        return [], [f"{where} {place}: not valid JSON ({exc.msg}): fix it, or write one id a line."]
    except ValueError as exc:  # e.g. a number of thousands of digits
        return [], [f"{where}: not a JSON array of id strings ({exc}): write ids in quotes."]
    ids: list[str] = []
    bad: list[str] = []
    for index, item in enumerate(items):
        if isinstance(item, str) and _GONG_ID.fullmatch(item):
            ids.append(item)
        elif isinstance(item, str):
            bad.append(
                f"{where} index {index}: {item!r} is not a Gong call id (1-20 digits, nothing "
                f"else): fix or remove it."
            )
        else:
            bad.append(
                f"{where} index {index}: {json.dumps(item)} is not a string: write each id in "
                f'quotes, such as "7782342274025937895".'
            )
    return ids, _capped(bad, where)


def _capped(errors: list[str], where: str) -> list[str]:
    """The first MAX_ID_ERRORS errors, and a line counting the rest."""
    if len(errors) <= MAX_ID_ERRORS:
        return errors
    rest = len(errors) - MAX_ID_ERRORS
    return [*errors[:MAX_ID_ERRORS], f"{where}: {rest} more entries are not call ids either."]
