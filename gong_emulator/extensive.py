"""The extensive data Gong holds for a call (§11), as a full contentSelector would return it.

`make_blocks(call)` derives `context`, `parties`, `content`, `interaction` and `collaboration`
from the call id (hash-seeded) and its metadata, on every request rather than once: thousands of
calls then cost no memory. selector.py cuts these blocks down to what a request asks for.
"""

from __future__ import annotations

import struct
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from .data import crm_id, gong_id, rng_for
from .parties import make_parties
from .protocol import Call, parse_time

if TYPE_CHECKING:
    import random

Blocks = dict[str, Any]

_TOPICS = ("Call Setup", "Small Talk", "Pricing", "Product Demo", "Next Steps", "Wrap-Up")
_TRACKERS = (
    ("Competitors", "KEYWORD", ("Globex", "Hooli")),
    ("Pricing", "KEYWORD", ("discount", "per seat", "budget")),
    ("Security", "SMART", ()),
    ("Next Steps", "SMART", ()),
    ("Objections", "SMART", ()),
)
_OUTCOMES = (
    ("MEETING_BOOKED", "Answered", "Meeting booked"),
    ("NOT_INTERESTED", "Answered", "Not interested"),
    ("VOICEMAIL", "Not answered", "Left voicemail"),
)
_VIDEO = ("Browser", "Presentation", "WebcamPrimaryUser", "WebcamNonCompany", "Webcam")


def make_blocks(call: Call) -> Blocks:
    call_id = str(call["id"])
    parties = make_parties(call)
    speaker_ids = [party["speakerId"] for party in parties if party["speakerId"]]
    return {
        "context": _crm_context(rng_for(call_id, "context")),
        "parties": parties,
        "content": _content(rng_for(call_id, "content"), call, speaker_ids),
        "interaction": _interaction(rng_for(call_id, "interaction"), call, parties),
        "collaboration": _collaboration(rng_for(call_id, "collaboration"), call),
    }


def _float32(value: float) -> float:
    # Gong's outline times are float32 widened to double (e.g. 8.949999809265137, §11).
    return float(struct.unpack("f", struct.pack("f", value))[0])


def _crm_context(rng: random.Random) -> list[Any]:
    if rng.random() < 0.25:
        return []
    account = {
        "objectType": "Account",
        "objectId": crm_id(rng, "001"),
        "fields": [
            {"name": "Name", "value": rng.choice(("Initech", "Globex", "Société Générale"))},
            {"name": "Website", "value": rng.choice((None, "https://initech.example"))},
            {"name": "Industry", "value": rng.choice(("Software", "Banking", None))},
            {"name": "NumberOfEmployees", "value": rng.choice((50, 1200, None))},
        ],
    }
    opportunity = {
        "objectType": "Opportunity",
        "objectId": crm_id(rng, "006"),
        "timing": "Now",
        "fields": [
            {"name": "Name", "value": "Initech - Platform"},
            {"name": "StageName", "value": rng.choice(("Discovery", "Negotiation", "Closed Won"))},
            {"name": "Probability", "value": rng.choice((0.0, 20.0, 75.0))},
            {"name": "Amount", "value": float(rng.randrange(0, 200_000, 500))},
            {"name": "CloseDate", "value": "2026-06-30"},
            {"name": "LeadSource", "value": rng.choice(("Web", None))},
            {"name": "IsDeleted", "value": "false"},
        ],
    }
    return [{"system": "Salesforce", "objects": [account, opportunity]}]


def _occurrences(rng: random.Random, speaker_ids: list[str], seconds: int, n: int) -> list[Any]:
    return [
        {"startTime": round(rng.uniform(0, seconds), 2), "speakerId": rng.choice(speaker_ids)}
        for _ in range(n)
    ]


def _tracker(
    rng: random.Random, spec: tuple[str, str, tuple[str, ...]], speaker_ids: list[str], seconds: int
) -> dict[str, Any]:
    name, kind, phrases = spec
    tracker: dict[str, Any] = {"id": gong_id(rng), "name": name, "count": 0, "type": kind}
    if phrases:
        tracker["phrases"] = [
            {"count": len(found), "occurrences": found, "phrase": phrase}
            for phrase in phrases
            for found in [_occurrences(rng, speaker_ids, seconds, rng.randint(0, 3))]
        ]
        occurrences = [o for p in tracker["phrases"] for o in p["occurrences"]]
    else:
        occurrences = _occurrences(rng, speaker_ids, seconds, rng.randint(0, 4))
    tracker["count"] = len(occurrences)
    tracker["occurrences"] = sorted(occurrences, key=lambda occurrence: occurrence["startTime"])
    return tracker


def _content(rng: random.Random, call: Call, speaker_ids: list[str]) -> dict[str, Any]:
    seconds = int(call.get("duration") or 600)
    content: dict[str, Any] = {}
    if rng.random() < 0.05:  # documented, yet absent in every real sample (§11): keep it rare
        content["structure"] = [{"name": "Agenda", "duration": seconds // 3}]
    cuts = sorted(rng.randint(0, seconds) for _ in range(len(_TOPICS) - 1))
    bounds = [0, *cuts, seconds]
    content["topics"] = [  # every topic, 0-second ones included
        {"name": name, "duration": bounds[i + 1] - bounds[i] if rng.random() < 0.7 else 0}
        for i, name in enumerate(_TOPICS)
    ]
    chosen = rng.sample(_TRACKERS, rng.randint(0, 4))
    content["trackers"] = [_tracker(rng, spec, speaker_ids, seconds) for spec in chosen]
    if rng.random() < 0.85:
        content["brief"] = "Rita walked the buyer through pricing tiers; IT will review SSO."
    if rng.random() < 0.8:
        start = _float32(rng.uniform(0, seconds / 2))
        content["outline"] = [
            {
                "section": rng.choice(_TOPICS),
                "startTime": start,
                "duration": _float32(rng.uniform(0, seconds / 2)),
                "items": [{"text": "Buyer asked about volume discounts.", "startTime": start}],
            }
        ]
    if rng.random() < 0.6:
        times = [round(rng.uniform(0, seconds), 1)]
        content["highlights"] = [
            {
                "title": "Next steps",
                "items": [{"text": "Send the questionnaire", "startTimes": times}],
            }
        ]
    if rng.random() < 0.8:
        content["keyPoints"] = [{"text": "Budget approved for Q3"}, {"text": "Décision en juin"}]
    outcome = rng.random()
    if outcome < 0.6:
        code, category, name = rng.choice(_OUTCOMES)
        content["callOutcome"] = {"id": code, "category": category, "name": name}
    elif outcome < 0.8:
        content["callOutcome"] = None
    return content


def _interaction(rng: random.Random, call: Call, parties: list[dict[str, Any]]) -> dict[str, Any]:
    seconds = int(call.get("duration") or 600)
    interaction: dict[str, Any] = {}
    # Internal Gong users who spoke, keyed by party id, not speakerId (§11).
    speakers = [
        {"id": p["id"], "userId": p["userId"], "talkTime": round(rng.uniform(0, seconds), 2)}
        for p in parties
        if p["affiliation"] == "Internal" and "userId" in p and p["speakerId"]
    ]
    if speakers:
        interaction["speakers"] = speakers
    interaction["interactionStats"] = [
        {"name": "Talk Ratio", "value": round(rng.random(), 2)},
        {"name": "Longest Monologue", "value": rng.randint(5, 300)},
        {"name": "Longest Customer Story", "value": rng.randint(0, 120)},
        {"name": "Interactivity", "value": round(rng.uniform(0, 10), 2)},
        {"name": "Patience", "value": round(rng.uniform(0, 3), 2)},
    ]
    if call.get("media") == "Video":
        interaction["video"] = [
            {
                "name": name,
                "duration": round(rng.uniform(0, seconds), 1) if rng.random() < 0.6 else 0.0,
            }
            for name in _VIDEO
        ]
    interaction["questions"] = {
        "companyCount": rng.randint(0, 20),
        "nonCompanyCount": rng.randint(0, 12),
    }
    return interaction


def _collaboration(rng: random.Random, call: Call) -> dict[str, Any]:
    started = parse_time(call.get("started"))
    if started is None or rng.random() >= 0.3:
        return {}  # no comments: Gong sends an empty object, not publicComments: [] (§11)
    seconds = int(call.get("duration") or 600)
    comments: list[dict[str, Any]] = []
    for index in range(rng.randint(1, 3)):
        at = round(rng.uniform(0, seconds), 2)
        posted = started + timedelta(seconds=seconds + rng.randint(60, 86_400))
        comments.append(
            {
                "id": gong_id(rng),
                "audioStartTime": at,
                "audioEndTime": round(at + rng.uniform(1, 30), 2),
                "commenterUserId": str(234599484848400 + rng.randrange(20)),
                "comment": rng.choice(("Nice save 👍", "@[Rita Rep](234599484848401) follow up")),
                "posted": posted.isoformat(timespec="seconds"),
                "inReplyTo": comments[0]["id"] if index and rng.random() < 0.5 else None,
                "duringCall": rng.random() < 0.3,
            }
        )
    return {"publicComments": comments}
