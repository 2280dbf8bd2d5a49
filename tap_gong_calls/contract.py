"""The record contract: what a record from Gong must hold to be emitted, and what only warns.

Gong's data drifts: enums grow, nested fields turn null, CRM values take any JSON type, fields
appear. Failing a whole run on such drift loses every other call, so only what the tap and the
targets cannot do without fails: the key properties (targets upsert on them) and the dates the
tap computes bookmarks from. Any other mismatch is logged once per field and the record is
emitted exactly as Gong sent it.

The schema is compiled once into one small function per schema node, because a generic
validator (jsonschema) cost three quarters of a run's CPU on 50 KB transcripts.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from tap_gong_calls.gong.errors import BadResponseError
from tap_gong_calls.numeric_ids import NUMERIC_ID_WARNING, id_paths, stringify
from tap_gong_calls.timestamps import parse_date_time

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    Checker = Callable[[Any], None]
    Report = Callable[[str, Any, str], None]

LOGGER: Final = logging.getLogger("tap_gong_calls")
KEY_DIGITS: Final = re.compile(r"[0-9]{1,20}")  # used with fullmatch: no trailing newline
_MISSING: Final = object()
# Lists this long or longer are checked in bulk (_Rows): below, building the sets costs more
# than the calls it saves.
BULK_FROM: Final = 16

# Python types of each JSON Schema type, as json.loads produces them. bool is not an int here.
_PYTHON_TYPES: Final[dict[str, tuple[type, ...]]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
    "array": (list,),
    "object": (dict,),
}


def _show(value: object) -> str:
    """A short, one-line rendering of a value for a log line."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class _Rows(NamedTuple):
    """How a list of objects of one schema is checked in bulk, a property at a time across
    all its elements (set comprehensions run far faster than a call per element): the types
    an element passes by without being an object; each leaf property's name and passing types
    (with ``object``, which ``get`` gives for an absent one through ``_MISSING``: no JSON value
    is a bare ``object``); and each list property's name, passing types other than a list, and
    the plan of its elements. A transcript is such a list: monologues of sentences."""

    settled: frozenset[type]
    columns: tuple[tuple[str, frozenset[type]], ...]
    nested: tuple[tuple[str, frozenset[type], _Rows], ...]


class _Compiled(NamedTuple):
    """A schema node compiled: ``settled`` are the Python types a value needs nothing more
    than its type to pass (a string without a format, a null), so the caller skips the call
    to ``check``; on a 50 KB transcript that is most values. ``rows``, for an object whose
    properties are leaves or lists of such objects, checks a list of them in bulk;
    ``item_rows``, for a list, is its elements' ``rows``."""

    settled: frozenset[type]
    check: Checker
    rows: _Rows | None = None
    item_rows: _Rows | None = None


def _compile(schema: dict[str, Any], path: str, report: Report) -> _Compiled | None:
    """``schema`` as a function checking a value (None when anything goes).

    It reports mismatches through ``report(path, value, expected)``, path written as
    ``context[].objects[].fields[].value``: warnings are per field, not per array index.
    """
    declared = schema.get("type")
    names = [declared] if isinstance(declared, str) else list(declared or ())
    allowed = frozenset(t for name in names for t in _PYTHON_TYPES.get(name, ()))
    integral_floats = "integer" in names and "number" not in names  # JSON: 1.0 is an integer
    expected = " or ".join(names)
    date_time = schema.get("format") == "date-time"
    compiled_children = {
        name: compiled
        for name, sub in (schema.get("properties") or {}).items()
        if (compiled := _compile(sub, f"{path}.{name}" if path else name, report)) is not None
    }
    children = [(name, c.settled, c.check) for name, c in compiled_children.items()]
    items = schema.get("items")
    item = _compile(items, f"{path}[]", report) if isinstance(items, dict) else None
    if not allowed and not children and item is None and not date_time:
        return None
    unsettled: set[type] = {dict} if children else set()
    unsettled |= {list} if item else set()
    unsettled |= {str} if date_time else set()

    def check(value: Any) -> None:
        kind = type(value)
        if (
            allowed
            and kind not in allowed
            and not (integral_floats and kind is float and value.is_integer())
        ):
            report(path, value, expected)
            return  # what is inside a value of the wrong type is not checked
        if kind is dict:
            for name, settled, check_child in children:
                child = value.get(name, _MISSING)
                if child is not _MISSING and type(child) not in settled:
                    check_child(child)
        elif kind is list and item is not None:
            # In bulk when it pays (a long list: a transcript); element by element when it
            # does not, or when the bulk check fails, to say where.
            if len(value) >= BULK_FROM and item.rows is not None and _rows_pass(value, item.rows):
                return
            for element in value:
                if type(element) not in item.settled:
                    item.check(element)
        elif date_time and kind is str and parse_date_time(value) is None:
            report(path, value, "an ISO-8601 date-time")

    rows = None
    if dict in allowed and children and item is None and not date_time:
        rows = _rows_of(schema, compiled_children, allowed - unsettled)
    return _Compiled(allowed - unsettled, check, rows, item.rows if item else None)


def _rows_of(
    schema: dict[str, Any], compiled: dict[str, _Compiled], settled: frozenset[type]
) -> _Rows | None:
    """The bulk plan of a list of objects of ``schema``, if its properties allow one."""
    columns: list[tuple[str, frozenset[type]]] = []
    nested: list[tuple[str, frozenset[type], _Rows]] = []
    for name, sub in (schema.get("properties") or {}).items():
        node = compiled.get(name)
        if node is None:  # anything goes
            continue
        if not (sub.get("properties") or sub.get("items") or sub.get("format")):
            columns.append((name, node.settled | {object}))
        elif node.item_rows is not None and not sub.get("properties"):
            nested.append((name, node.settled | {object}, node.item_rows))
        else:
            return None
    return _Rows(settled, tuple(columns), tuple(nested))


def _rows_pass(values: list[Any], rows: _Rows) -> bool:
    """Whether every element of ``values`` passes (see _Rows); False sends the caller the
    element-by-element way, which says what failed."""
    kinds = {type(value) for value in values}
    if not kinds <= rows.settled | {dict}:
        return False
    objects = values if kinds <= {dict} else [v for v in values if type(v) is dict]
    for name, ok in rows.columns:
        if not {type(o.get(name, _MISSING)) for o in objects} <= ok:
            return False
    for name, ok, inner in rows.nested:
        if not {type(o.get(name, _MISSING)) for o in objects} <= ok | {list}:
            return False
        elements = [e for o in objects if type(found := o.get(name)) is list for e in found]
        if not _rows_pass(elements, inner):
            return False
    return True


class RecordContract:
    """Checks one stream's records: a broken key fails the run, anything else only warns.

    ``warnings`` counts the distinct field paths that have been warned about (each is logged
    once per stream), not every mismatched value: a field Gong changed type for is one warning
    however many calls carry it.
    """

    def __init__(
        self,
        stream_name: str,
        schema: dict[str, Any],
        key_properties: Sequence[str],
        *,
        critical_date_times: Sequence[str] = (),
        logger: logging.Logger = LOGGER,
    ) -> None:
        self.stream_name = stream_name
        self.key_properties = tuple(key_properties)
        self.critical_date_times = tuple(critical_date_times)
        self.warnings = 0
        self._logger = logger
        self._warned: set[str] = set()
        self._source = ""
        properties: dict[str, Any] = schema.get("properties") or {}
        # Every top-level property, so stream maps and targets see the same shape each time.
        self._nulls: dict[str, None] = dict.fromkeys(properties)
        self._id_paths = id_paths(schema)
        strict = {*self.key_properties, *self.critical_date_times}
        self._checkers = [
            (name, compiled.settled, compiled.check)
            for name, sub in properties.items()
            if name not in strict and (compiled := _compile(sub, name, self._mismatch)) is not None
        ]

    def check(self, record: dict[str, Any], source: str) -> dict[str, Any]:
        """The record to emit: a new dict with every top-level schema property (None where
        Gong left one out) and Gong's values untouched.

        ``source`` names the record for messages (e.g. "a call (id '123')"). Raises
        BadResponseError, naming the stream, the record and the field, on a broken key or an
        unparseable critical date-time.
        """
        self._source = source
        self._strings_for_numbers(record)
        for key in self.key_properties:
            self._check_key(record, key, source)
        for name in self.critical_date_times:
            value = record.get(name, _MISSING)
            if (moment := parse_date_time(value)) is None:
                problem = (
                    f"'{name}' is a required property"
                    if value is _MISSING
                    else f"{name} is {_show(value)}, not an ISO-8601 date-time"
                )
                raise self._error(source, problem)
            if moment.tzinfo is None:  # 2024-03-01: no instant, only guessed
                self._no_instant(name, str(value))
        for name, settled, check_value in self._checkers:
            value = record.get(name, _MISSING)
            if value is not _MISSING and type(value) not in settled:
                check_value(value)
        return {**self._nulls, **record}

    def tombstone(self, record: dict[str, Any], source: str) -> dict[str, Any]:
        """A tombstone to emit: its keys checked, every other top-level property null.

        No critical date is required of it (a private call's tombstone has no ``started``),
        and nothing but the keys and ``_sdc_deleted_at`` may come through.
        """
        self._source = source
        self._strings_for_numbers(record)
        for key in self.key_properties:
            self._check_key(record, key, source)
        return {**self._nulls, **record}

    def _strings_for_numbers(self, record: dict[str, Any]) -> None:
        """Ids Gong sent as JSON numbers, made the strings the schema promises (numeric_ids.py)."""
        for path in self._id_paths:
            stringify(record, path, self._numeric_id)

    def _numeric_id(self, field: str, value: int) -> None:
        key, source, stream = f"{field} (a number)", self._source, self.stream_name
        self._warn_once(key, NUMERIC_ID_WARNING, source, field, value, stream, str(value))

    def _check_key(self, record: dict[str, Any], key: str, source: str) -> None:
        value = record.get(key, _MISSING)
        if value is _MISSING:
            raise self._error(source, f"'{key}' is a required property")
        if not isinstance(value, str) or not KEY_DIGITS.fullmatch(value):
            raise self._error(source, f"{key} is {_show(value)}, not a string of 1-20 digits")

    def _error(self, source: str, problem: str) -> BadResponseError:
        return BadResponseError(
            f"Gong sent {source} that does not match the {self.stream_name} schema: {problem}"
        )

    def _no_instant(self, field: str, value: str) -> None:
        """A critical date-time without a time of day (``2024-03-01``) or an offset warns, and
        the record is written: Gong's filter places the call in its window and the bookmark is
        a window's end (state.py), so no call is lost or read twice; the tap reads the value
        only as a hint (a full page's span, the late-transcript wait), as UTC."""
        self._warn_once(
            f"{field} (no instant)",
            "Gong sent %s whose %s is %r, with no %s (schema %s: a date-time): emitted as "
            "sent, read as UTC where the tap compares it; further such values of this field "
            "are not logged",
            self._source,
            field,
            value,
            "time of day" if len(value) <= 10 else "UTC offset",  # 2024-03-01, 20240301
            self.stream_name,
        )

    def _warn_once(self, key: str, message: str, *args: object) -> None:
        """Log ``message`` the first time ``key`` (a field, or a field and a problem) comes."""
        if key not in self._warned:
            self._warned.add(key)
            self.warnings += 1
            self._logger.warning(message, *args)

    def _mismatch(self, path: str, value: Any, expected: str) -> None:
        self._warn_once(
            path,
            "Gong sent %s whose %s is %s, not %s (schema %s): emitted as sent; "
            "further mismatches of this field are not logged",
            self._source,
            path,
            _show(value),
            expected,
            self.stream_name,
        )
