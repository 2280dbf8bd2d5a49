"""Number settings read from environment variables (``--config ENV``): numbers, or one clear error.

singer-sdk reads an ``integer`` setting's variable with a bare ``int()`` (a traceback on ``2.5``
or ``fast``, naming no setting) and leaves a ``number`` setting's as text, which the JSON
Schema then refuses (``'2' is not of type 'number'``). sdk_overrides.py has singer-sdk read
both kinds as text; ``numbers_from_env`` turns that text into numbers: an integer setting
takes a whole number (``2``), a number setting a whole number or a fraction (``2``, ``2.5``,
``0.25``, ``1e3``). Text that is no such number is an error naming the setting, its variable and
its value. The bounds (``requests_per_second`` above 0, …) stay the JSON Schema's to check.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from singer_sdk.exceptions import ConfigValidationError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

INTEGER, NUMBER = "integer", "number"
_WHOLE = re.compile(r"[+-]?[0-9]+")
# No nan, inf or 1_000, which Python's float() would take.
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_AS_TEXT = {"type": ["string", "null"]}


def numeric_settings(schema: Mapping[str, Any]) -> dict[str, str]:
    """The settings of ``schema`` that are integers or numbers: name -> INTEGER or NUMBER."""
    kinds = {}
    for name, setting in schema.get("properties", {}).items():
        types: set[str] = set()
        for part in [setting, *setting.get("anyOf", [])]:
            declared = part.get("type", [])
            types.update([declared] if isinstance(declared, str) else declared)
        if INTEGER in types:
            kinds[name] = INTEGER
        elif NUMBER in types:
            kinds[name] = NUMBER
    return kinds


def numbers_from_env(
    schema: Mapping[str, Any],
    prefix: str,
    parse: Callable[[dict[str, Any], str], dict[str, Any]],
) -> dict[str, Any]:
    """The settings ``parse`` reads from ``prefix``-ed variables, numbers read here.

    ``parse(schema, prefix)`` is singer-sdk's reader; it is handed ``schema`` with the numeric
    settings as strings. Raises ConfigValidationError naming every variable that is no number.
    """
    kinds = numeric_settings(schema)
    properties = {**schema.get("properties", {}), **dict.fromkeys(kinds, _AS_TEXT)}
    config = parse({**schema, "properties": properties}, prefix)
    errors = []
    for name, kind in kinds.items():
        text = config.get(name)
        if not isinstance(text, str):
            continue
        try:
            config[name] = read_number(text, whole=kind == INTEGER)
        except ValueError:
            variable = prefix + name.upper().replace("-", "_")  # as singer-sdk names it
            errors.append(number_error(name, variable, text, whole=kind == INTEGER))
    if errors:
        raise ConfigValidationError("Config validation failed", errors=errors)
    return config


def read_number(text: str, *, whole: bool) -> int | float:
    """``text`` as an int (a whole number) or, unless ``whole``, a float; else ValueError."""
    text = text.strip()
    if _WHOLE.fullmatch(text):
        return int(text)
    if not whole and _DECIMAL.fullmatch(text):
        return float(text)
    raise ValueError(text)


def number_error(name: str, variable: str, text: str, *, whole: bool) -> str:
    """The one line that says a variable is no number, and what to give instead."""
    if whole:
        return f"{name}: {variable}={text!r} is not a whole number: set it to one, such as 2."
    return f"{name}: {variable}={text!r} is not a number: set it to one, such as 2 or 2.5."
