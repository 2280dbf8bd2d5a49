"""UTC instants: Gong sends local offsets (``-08:00``, ``+05:30``, ``Z``); the tap compares
instants, never strings, and writes every moment it sends or bookmarks in UTC."""

from __future__ import annotations

import datetime

UTC = datetime.UTC


def from_iso(value: str) -> datetime.datetime:
    """An ISO-8601 date-time as written (``Z`` or any offset, optional fraction); ValueError
    if it is none. Python 3.10's ``fromisoformat`` does not read ``Z``."""
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))


def parse_date_time(value: object) -> datetime.datetime | None:
    """``value`` as a date-time if it is an ISO-8601 string (``Z`` included), else None; naive
    when it has no offset (a date alone included: midnight)."""
    if not isinstance(value, str):
        return None
    try:
        return from_iso(value)
    except ValueError:
        return None


def parse_utc(value: str) -> datetime.datetime:
    """Parse an ISO-8601 date-time (``Z``, any offset, optional fraction) to aware UTC.

    A value without an offset is taken as UTC, as singer-sdk does for ``start_date``.
    """
    parsed = from_iso(value.strip())
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_utc(moment: datetime.datetime) -> str:
    """``2024-01-02T03:04:05Z`` (fractions kept when present): what bookmarks and Gong get."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def utc_now() -> datetime.datetime:
    """Now, in UTC, to the second (what Gong's filters and the bookmark resolve)."""
    return datetime.datetime.now(UTC).replace(microsecond=0)
