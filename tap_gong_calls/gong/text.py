"""Text no target can refuse: U+0000 removed, lone UTF-16 surrogates replaced, at any depth.

PostgreSQL stores no NUL in text (``PostgreSQL text fields cannot contain NUL (0x00) bytes``)
nor ``\\u0000`` in JSON columns, and no UTF-8 target can store a lone surrogate (``\\ud800``
alone). One such character in a title or a transcript sentence would stop every load of that
call for good: the run fails before its STATE, and the next run fails on the same call. So the
client cleans Gong's answers as they arrive, keys and values, and counts what it changed per
field; the Summary and one warning per stream and field say so.

Only answers whose raw bytes hold such an escape are walked: JSON can carry these characters
only as ``\\u0000`` and ``\\udXXX`` escapes, and a search of the bytes costs far less than a
walk of every string of a transcript.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import logging

NUL = "\x00"
REPLACEMENT = "\ufffd"
_SUSPECT = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
_SURROGATE = re.compile("[\ud800-\udfff]")
Counts = Counter[tuple[str, str]]  # (JSON path, "NUL" or "surrogate") -> characters


class TextCleaner:
    """Cleans parsed answers in place; counts and reports what it changed, once per field."""

    def __init__(self, *, remove_nul: bool, logger: logging.Logger) -> None:
        self.remove_nul = remove_nul
        self.logger = logger
        self.removed = 0  # NUL characters
        self.replaced = 0  # lone surrogates
        self._told: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def clean(self, body: dict[str, Any], raw: bytes, where: str, stream_of: StreamOf) -> None:
        """Clean ``body`` (parsed from ``raw``, Gong's answer to ``where``) in place."""
        if not _SUSPECT.search(raw):
            return
        counts: Counts = Counter()
        _clean_object(body, "", counts, remove_nul=self.remove_nul)
        if not counts:
            return
        with self._lock:
            for (path, kind), count in counts.items():
                if kind == "NUL":
                    self.removed += count
                else:
                    self.replaced += count
                stream = stream_of(path)
                if (stream, path) in self._told:
                    continue
                self._told.add((stream, path))
                self.logger.warning(
                    "%s %d %s in %s of Gong's answer to %s (stream %s); further ones in this "
                    "field are counted in the Summary.",
                    "Removed" if kind == "NUL" else "Replaced",
                    count,
                    "NUL character(s)" if kind == "NUL" else "lone UTF-16 surrogate(s) with U+FFFD",
                    path,
                    where,
                    stream,
                )


class StreamOf:
    """Which stream a JSON path of an answer feeds: the longest matching prefix of ``table``."""

    def __init__(self, table: dict[str, str], default: str = "?") -> None:
        self.prefixes = sorted(table.items(), key=lambda item: -len(item[0]))
        self.default = default

    def __call__(self, path: str) -> str:
        for prefix, stream in self.prefixes:
            if path == prefix or path.startswith((f"{prefix}.", f"{prefix}[")):
                return stream
        return self.default


def _clean_object(value: Any, path: str, counts: Counts, *, remove_nul: bool) -> Any:
    """``value`` cleaned (containers in place), its changes counted by path."""
    if isinstance(value, str):
        return _clean_text(value, path, counts, remove_nul=remove_nul)
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, (str, list, dict)):
                value[index] = _clean_object(item, f"{path}[]", counts, remove_nul=remove_nul)
        return value
    if isinstance(value, dict):
        for key in list(value):
            item = value[key]
            clean_key = _clean_text(
                key, f"{path}.{key}" if path else key, counts, remove_nul=remove_nul
            )
            child = f"{path}.{clean_key}" if path else clean_key
            if isinstance(item, (str, list, dict)):
                item = _clean_object(item, child, counts, remove_nul=remove_nul)
            if clean_key != key:
                del value[key]
            value[clean_key] = item
        return value
    return value


def _clean_text(text: str, path: str, counts: Counts, *, remove_nul: bool) -> str:
    if remove_nul and NUL in text:
        counts[path, "NUL"] += text.count(NUL)
        text = text.replace(NUL, "")
    if _SURROGATE.search(text):
        found = _SURROGATE.findall(text)
        counts[path, "surrogate"] += len(found)
        text = _SURROGATE.sub(REPLACEMENT, text)
    return text
