"""The people on a call (§11): `make_parties(call)`, derived from the call id.

Keys are absent on some parties as in real data; only id, affiliation, methods, context and
speakerId (possibly null) are always there. speakerIds join to transcripts, party ids to
interaction.speakers.
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING, Any

from .data import crm_id, gong_id, rng_for

if TYPE_CHECKING:
    import random

    from .protocol import Call

_FIRST = ("Rita", "Bo", "Ana", "Jürgen", "Chloé", "Sam", "Priya", "Kenji", "Zoë", "Omar")
_LAST = ("Rep", "Buyer", "Ng", "Müller", "Dubois", "Patel", "Tanaka", "O'Brien", "Søndergaard")
_TITLES = ("Account Executive", "VP Sales", "IT Director", "CFO", "Procurement Lead", "CTO")
_DOMAINS = ("initech.com", "globex.io", "umbrella.co", "hooli.xyz", "stark.example")


def make_parties(call: Call) -> list[dict[str, Any]]:
    """2 to 6 parties; the first is the host (the call's primaryUserId), and someone spoke."""
    rng = rng_for(str(call["id"]), "parties")
    domain = rng.choice(_DOMAINS)
    parties: list[dict[str, Any]] = []
    for index in range(rng.randint(2, 6)):
        host = index == 0
        affiliation = (
            "Internal" if host else rng.choices(("Internal", "External", "Unknown"), (3, 5, 1))[0]
        )
        party: dict[str, Any] = {"id": gong_id(rng)}
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        if affiliation == "Unknown":
            party["name"] = f"Phone Caller #{index}"
        else:
            party["emailAddress"] = f"{_ascii(first)}.{_ascii(last)}@" + (
                "acme.com" if affiliation == "Internal" else domain
            )
            if host or rng.random() < 0.9:
                party["name"] = f"{first} {last}"
            if rng.random() < 0.5:
                party["title"] = rng.choice(_TITLES)
        gong_user = affiliation == "Internal" and (host or rng.random() < 0.8)
        if gong_user:
            party["userId"] = (
                str(call.get("primaryUserId"))
                if host
                else str(234599484848400 + rng.randrange(20, 40))
            )
        party["speakerId"] = gong_id(rng) if rng.random() < (0.9 if host else 0.75) else None
        party["affiliation"] = affiliation
        if affiliation == "Unknown" or rng.random() < 0.3:
            party["phoneNumber"] = rng.choice(("+1415555", "(415) 555-", "+44 20 7946 ")) + str(
                rng.randrange(1000, 9999)
            )
        party["methods"] = rng.choice((["Attendee"], ["Invitee", "Attendee"], ["Invitee"]))
        party["context"] = _party_context(rng, affiliation, gong_user)
        parties.append(party)
    if not any(party["speakerId"] for party in parties):
        parties[-1]["speakerId"] = gong_id(rng)  # someone spoke, or there is no transcript
    return parties


def _party_context(rng: random.Random, affiliation: str, gong_user: bool) -> list[Any]:
    if affiliation == "Unknown":
        return []
    if gong_user:
        created = f"2019-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T09:21:59-05:00"
        user = {
            "objectType": "User",
            "objectId": crm_id(rng, "005"),
            "fields": [{"name": "CreatedDate", "value": created}],
        }
        return [{"system": "Salesforce", "objects": [user]}]
    if affiliation == "External":
        kind, prefix = rng.choice((("Contact", "003"), ("Lead", "00Q")))
        # Contacts come as bare links, without fields (§11).
        return [
            {
                "system": "Salesforce",
                "objects": [{"objectType": kind, "objectId": crm_id(rng, prefix)}],
            }
        ]
    return []


def _ascii(name: str) -> str:
    # Names keep their accents; mailbox names in practice do not.
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())
