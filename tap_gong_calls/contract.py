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

from tap_gong_calls.errors import BadResponseError
from tap_gong_calls.timestamps import from_iso

if TYPE_CHECKING:
    import datetime
    from collections.abc import Callable, Sequence

    Checker = Callable[[Any], None]
    Report = Callable[[str, Any, str], None]

LOGGER: Final = logging.getLogger("tap_gong_calls")
KEY_DIGITS: Final = re.compile(r"[0-9]{1,20}")  # used with fullmatch: no trailing newline
_MISSING: Final = object()

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


def parse_date_time(value: object) -> datetime.datetime | None:
    """``value`` as a date-time if it is an ISO-8601 string (``Z`` included), else None."""
    if not isinstance(value, str):
        return None
    try:
        return from_iso(value)
    except ValueError:
        return None


def _show(value: object) -> str:
    """A short, one-line rendering of a value for a log line."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class _Compiled(NamedTuple):
    """A schema node compiled: ``settled`` are the Python types a value needs nothing more
    than its type to pass (a string without a format, a null), so the caller skips the call
    to ``check``; on a 50 KB transcript that is most values. ``columns``, for an object whose
    every property is settled by its type alone (a transcript sentence), is each property's
    name and passing types, so a list of such objects is checked a column at a time."""

    settled: frozenset[type]
    check: Checker
    columns: tuple[tuple[str, frozenset[type]], ...] | None = None


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
    children = [
        (name, compiled.settled, compiled.check)
        for name, sub in (schema.get("properties") or {}).items()
        if (compiled := _compile(sub, f"{path}.{name}" if path else name, report)) is not None
    ]
    items = schema.get("items")
    item = _compile(items, f"{path}[]", report) if isinstance(items, dict) else None
    rows = item.columns if item is not None else None
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
            item_settled, check_item = item.settled, item.check
            for element in value:
                element_kind = type(element)
                if element_kind in item_settled:
                    continue
                if rows is not None and element_kind is dict:
                    # A flat object (a transcript sentence): its properties checked here, not
                    # in a call per element; the call only for one that fails, to report it.
                    for name, ok in rows:
                        if type(element.get(name, _MISSING)) not in ok:
                            check_item(element)
                            break
                    continue
                check_item(element)
        elif date_time and kind is str and parse_date_time(value) is None:
            report(path, value, "an ISO-8601 date-time")

    columns = None
    if dict in allowed and children and not item and all(_is_leaf(sub) for sub in _subs(schema)):
        # Every property settled by its type: a value passes where its type is one of those,
        # or where it is absent (``get`` gives _MISSING, an ``object``: no JSON value is one).
        columns = tuple((name, settled | {object}) for name, settled, _ in children)
    return _Compiled(allowed - unsettled, check, columns)


def _subs(schema: dict[str, Any]) -> list[dict[str, Any]]:
    return list((schema.get("properties") or {}).values())


def _is_leaf(schema: dict[str, Any]) -> bool:
    """Whether a value of ``schema`` passes by its type alone (nothing inside it to check)."""
    return not (schema.get("properties") or schema.get("items") or schema.get("format"))


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
        for key in self.key_properties:
            self._check_key(record, key, source)
        for name in self.critical_date_times:
            value = record.get(name, _MISSING)
            if parse_date_time(value) is None:
                problem = (
                    f"'{name}' is a required property"
                    if value is _MISSING
                    else f"{name} is {_show(value)}, not an ISO-8601 date-time"
                )
                raise self._error(source, problem)
        self._source = source
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
        for key in self.key_properties:
            self._check_key(record, key, source)
        return {**self._nulls, **record}

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

    def _mismatch(self, path: str, value: Any, expected: str) -> None:
        if path in self._warned:
            return
        self._warned.add(path)
        self.warnings += 1
        self._logger.warning(
            "Gong sent %s whose %s is %s, not %s (schema %s): emitted as sent; "
            "further mismatches of this field are not logged",
            self._source,
            path,
            _show(value),
            expected,
            self.stream_name,
        )
