"""Data as real accounts drift from the documentation (§13): `GongEmulator(variety=True)`.

Gong's documented enums grow (a `direction`, `scope`, `media` or `system` never listed),
nested fields arrive null (a party's `userId` and `speakerId`, a transcript's `speakerId` and
`topic`, content fields), and CRM field values take every JSON type (string, numbers, booleans,
null, lists, objects). With `variety=True` the store passes each call, its blocks and its
transcript through the functions below. They are deterministic: the call id picks the new enum
values (consecutive ids cycle through all of them), and every varied call carries one CRM field
per entry of `CRM_VALUES` on the call and on its first parties, so a handful of calls covers it
all.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from .extensive import Blocks
    from .protocol import Call
    from .transcript import Transcript

# Values Gong does not document (yet); calls cycle through them by id.
NEW_ENUM_VALUES: Final[dict[str, tuple[str, ...]]] = {
    "direction": ("Internal", "Mixed", "Screen"),
    "scope": ("Mixed", "Screen", "Internal"),
    "media": ("Screen", "Mixed", "Internal"),
    "system": ("Gong Engage", "Microsoft Teams", "Dialpad"),
}

# One CRM field per JSON type (and shape) a CRM can hold; names are the field names sent.
CRM_VALUES: Final[dict[str, Any]] = {
    "Text__c": "Société Générale",
    "Count__c": 42,
    "Huge__c": 123456789012345678901234567890,  # beyond int64
    "Ratio__c": 1.5,
    "IsActive__c": True,
    "IsDeleted__c": False,
    "Empty__c": None,
    "Regions__c": ["EMEA", "APAC"],
    "Matrix__c": [[1, 2], ["x", None]],
    "Address__c": {"city": "Zürich", "zip": "8001", "geo": {"lat": 47.37, "lon": 8.54}},
    "NoValues__c": [],
    "NoFields__c": {},
}


def crm_fields() -> list[dict[str, Any]]:
    """A fresh `fields` list holding every entry of `CRM_VALUES`."""
    return [{"name": name, "value": copy.deepcopy(value)} for name, value in CRM_VALUES.items()]


def vary_call(call: Call) -> Call:
    """The call with a new value in each of `direction`, `scope`, `media` and `system`."""
    turn = int(call["id"]) % 3 if str(call["id"]).isdigit() else 0
    return {**call, **{key: values[turn] for key, values in NEW_ENUM_VALUES.items()}}


def vary_blocks(blocks: Blocks) -> Blocks:
    """Blocks with nested nulls and every CRM JSON type (changed in place and returned)."""
    crm = {"objectType": "Account", "objectId": None, "fields": crm_fields()}
    blocks["context"] = [*(blocks.get("context") or []), {"system": "HubSpot", "objects": [crm]}]
    parties = blocks.get("parties") or []
    for index, party in enumerate(parties):
        if index == 0:  # the host is a Gong user whose id Gong lost
            party["userId"] = None
            party["title"] = None
        if index == 1:  # a speaker nobody could identify, and a CRM contact with values
            party["speakerId"] = None
            party["context"] = [{"system": "Generic", "objects": [{**crm, "fields": crm_fields()}]}]
        party["affiliation"] = party["affiliation"] if index < 2 else "Partner"
    content = blocks.setdefault("content", {})
    content.update(brief=None, callOutcome=None, keyPoints=[{"text": None}])
    content["topics"] = [*content.get("topics", []), {"name": None, "duration": None}]
    for tracker in content.get("trackers", []):
        for occurrence in tracker.get("occurrences", [])[:1]:
            occurrence["speakerId"] = None
    speakers = (blocks.get("interaction") or {}).get("speakers") or []
    for speaker in speakers[:1]:
        speaker["userId"] = None
    return blocks


def vary_transcript(transcript: Transcript) -> Transcript:
    """The transcript with an unknown speaker and no topic on its first monologue."""
    if transcript:
        transcript[0]["speakerId"] = None
        transcript[0]["topic"] = None
    return transcript
