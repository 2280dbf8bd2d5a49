"""Tombstones: what each stream emits for a call that was made private in Gong.

With ``exclude_private_calls`` a private call must leave the warehouse, not only stop being
loaded: its copy loaded before it turned private would otherwise stay, a privacy leak. So the
run emits, in every selected stream, a record holding the keys and ``_sdc_deleted_at`` and
nothing else. The record contract fills every other top-level property with null, which is
what makes an upserting target (target-postgres merges on the key) blank the row.

Participants are tombstoned party by party, from the parties the listing carried: Gong only
sends them when ``call_participants`` is selected, which is exactly when they are needed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable

    from tap_gong_calls.endpoints import Item

DELETED_AT = "_sdc_deleted_at"
Record = dict[str, Any]


def call_tombstones(private: Iterable[Item], deleted_at: str) -> list[Record]:
    """The ``calls`` tombstones of the private calls."""
    return [{"id": item["metaData"]["id"], DELETED_AT: deleted_at} for item in private]


def per_call_tombstones(private: Iterable[Item], deleted_at: str) -> list[Record]:
    """The tombstones of a stream keyed on ``callId`` alone (details, transcripts)."""
    return [{"callId": item["metaData"]["id"], DELETED_AT: deleted_at} for item in private]


def party_tombstones(private: Iterable[Item], deleted_at: str) -> list[Record]:
    """One ``call_participants`` tombstone per party of each private call: the keys only."""
    return [
        {"callId": item["metaData"]["id"], "id": party.get("id"), DELETED_AT: deleted_at}
        for item in private
        for party in item.get("parties") or ()
        if isinstance(party, dict)
    ]
