"""Ids Gong sends as JSON numbers, written as the strings the schemas promise, exactly.

Gong's ids are up to 19 digits, beyond what a float holds (2^53), so the schemas type them as
strings and Gong sends strings; but other extractors report some ids arriving as JSON numbers.
Python reads a JSON integer exactly, so ``str`` of it is the id to the digit. Which fields are
ids is read from the schema: a property named ``id`` or ``…Id`` typed as a string, at any
depth (``parties[].userId``, ``transcript[].speakerId``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

Path = tuple[str, ...]  # property names, "[]" for each element of a list
LIST = "[]"
# Logged once per stream and field (contract.py): the record, the field, the number, the
# stream, the string written.
NUMERIC_ID_WARNING = (
    "Gong sent %s whose %s is the JSON number %d, not a string (schema %s): written as the "
    "string %r, exactly; further such ids of this field are not logged"
)


def id_paths(schema: dict[str, Any], path: Path = ()) -> list[Path]:
    """The paths of the id properties of ``schema``."""
    found: list[Path] = []
    for name, sub in (schema.get("properties") or {}).items():
        if not isinstance(sub, dict):
            continue
        types = sub.get("type")
        types = {types} if isinstance(types, str) else set(types or ())
        if (name == "id" or name.endswith("Id")) and "string" in types and "integer" not in types:
            found.append((*path, name))
        if sub.get("properties"):
            found += id_paths(sub, (*path, name))
        items = sub.get("items")
        if isinstance(items, dict) and items.get("properties"):
            found += id_paths(items, (*path, name, LIST))
    return found


def stringify(value: Any, path: Path, seen: Callable[[str, int], None], where: str = "") -> None:
    """Turn the JSON integers at ``path`` below ``value`` into strings, in place; call
    ``seen(field, integer)`` for each."""
    if not path:
        return
    head, rest = path[0], path[1:]
    if head == LIST:
        if isinstance(value, list):
            for element in value:
                stringify(element, rest, seen, f"{where}[]")
        return
    if not isinstance(value, dict) or head not in value:
        return
    field = f"{where}.{head}" if where else head
    child = value[head]
    if not rest:
        if type(child) is int:  # not bool, not float: a float is no exact id
            value[head] = str(child)
            seen(field, child)
        return
    stringify(child, rest, seen, field)
