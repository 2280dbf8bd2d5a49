"""The company's settings (§18-§20): `seed_workspaces`, `seed_trackers`, `seed_scorecards`.

Deterministic from their arguments. Workspace and tracker ids are numeric strings; scorecard,
question and option ids are JSON integers, as Gong's reference types them (§20).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from .people import USER_ID_BASE, iso
from .protocol import DEFAULT_WORKSPACE_ID

Record = dict[str, Any]

SCORECARD_ID_BASE: Final = 6_843_152_929_075_440_000
TRACKER_ID_BASE: Final = 6_840_000_929_075_400_000

_WORKSPACES = (
    ("Sales", "New business and expansion"),
    ("Customer Success", "Renewals and onboarding"),
    ("Partners", None),
)
# (name, keywords, affiliation, saidAt, saidAtInterval, saidAtUnit, saidInTopics)
_TrackerSpec = tuple[str, list[str], str, str, int | None, str | None, list[str]]
_TRACKERS: tuple[_TrackerSpec, ...] = (
    ("Competitors", ["Globex", "Hooli"], "Anyone", "Anytime", None, None, []),
    ("Pricing", ["discount", "per seat", "budget"], "NonCompany", "Anytime", None, None, []),
    ("Security", ["SSO", "SOC 2", "pen test"], "NonCompany", "Last", 10, "minutes", ["Pricing"]),
    ("Call Setup", ["can you hear me", "share my screen"], "Company", "First", 5, "percent", []),
)
_EPOCH: Final = datetime(2021, 6, 1, 14, 30, tzinfo=UTC)


def seed_workspaces(n: int = 2, *, seed: int = 0) -> list[Record]:
    """`n` workspaces (at most 3); the first is DEFAULT_WORKSPACE_ID, where seeded calls live."""
    return [
        {
            "id": str(int(DEFAULT_WORKSPACE_ID) + index * 1_000 + (seed if index else 0)),
            "name": name,
            "description": description,
        }
        for index, (name, description) in enumerate(_WORKSPACES[:n])
    ]


def seed_trackers(
    workspace_ids: tuple[str, ...] = (DEFAULT_WORKSPACE_ID,), *, seed: int = 0
) -> list[Record]:
    """The keyword trackers of each workspace. The first is built in (no creator or updater)."""
    trackers = []
    for w, workspace_id in enumerate(workspace_ids):
        for t, spec in enumerate(_TRACKERS):
            name, keywords, affiliation, said_at, interval, unit, topics = spec
            index = w * len(_TRACKERS) + t
            built_in = t == 0
            created = _EPOCH + timedelta(days=17 * index, hours=seed)
            author = None if built_in else str(USER_ID_BASE + (index + seed) % 20)
            terms = {"type": "CallDirection", "terms": ["OUTBOUND"]}
            trackers.append(
                {
                    "trackerId": str(TRACKER_ID_BASE + seed * 100 + index),
                    "trackerName": name,
                    "workspaceId": workspace_id,
                    "languageKeywords": [
                        {"language": "eng", "keywords": [*keywords], "includeRelatedForms": t != 1},
                        *([{"language": "mul", "keywords": keywords[:1]}] if t == 1 else []),
                    ],
                    "affiliation": affiliation,
                    "partOfQuestion": t == 2,
                    "saidAt": said_at,
                    "saidAtInterval": interval,
                    "saidAtUnit": unit,
                    "saidInTopics": [*topics],
                    "saidInCallParts": [],
                    "filterQuery": json.dumps({"type": "And", "filters": [terms]})
                    if t == 3
                    else None,
                    "created": iso(created, timedelta(hours=-3)),
                    "creatorUserId": author,
                    "updated": iso(created + timedelta(days=40), timedelta(hours=-3)),
                    "updaterUserId": author,
                }
            )
    return trackers


def _question(
    scorecard: int, position: int, text: str, kind: str, *, overall: bool = False
) -> Record:
    question_id = SCORECARD_ID_BASE // 1000 + scorecard * 100 + position
    options = None
    if kind in ("SINGLE_SELECT", "MULTI_SELECT"):
        labels = ("Yes", "No", "Partly") if kind == "SINGLE_SELECT" else ("Demo", "Pilot", "Quote")
        options = [{"id": i + 1, "text": label} for i, label in enumerate(labels)]
    return {
        "questionId": question_id,
        "questionRevisionId": question_id * 10 + 1,
        "questionText": text,
        "isOverall": overall,
        "questionType": kind,
        "answerGuide": "Listen to the first ten minutes" if position == 1 else None,
        "minRange": 1 if kind == "RANGE" else None,
        "maxRange": 5 if kind == "RANGE" else None,
        "answerOptions": options,
    }


def seed_scorecards(workspace_id: str = DEFAULT_WORKSPACE_ID, *, seed: int = 0) -> list[Record]:
    """Four scorecards: two manual, one automatic (AI-reviewed), one disabled manual."""
    specs = (
        ("SDR Call Scorecard", "MANUAL", True),
        ("Discovery Call", "MANUAL", True),
        ("AI Call Review", "AUTOMATIC", True),
        ("Legacy Demo Scorecard", "MANUAL", False),
    )
    scorecards = []
    for k, (name, method, enabled) in enumerate(specs):
        number = seed * 10 + k
        created = _EPOCH + timedelta(days=60 * k)
        scorecards.append(
            {
                "scorecardId": SCORECARD_ID_BASE + number * 37,
                "scorecardName": name,
                "workspaceId": int(workspace_id),
                "enabled": enabled,
                "updaterUserId": USER_ID_BASE + (k + seed) % 20,
                "created": iso(created),
                "updated": iso(created + timedelta(days=90, minutes=7)),
                "reviewMethod": method,
                "questions": [
                    _question(number, 0, "How did the rep do overall?", "RANGE", overall=True),
                    _question(number, 1, "Did the rep confirm the budget?", "SINGLE_SELECT"),
                    _question(number, 2, "Which next steps were agreed?", "MULTI_SELECT"),
                    _question(number, 3, "What should the rep do differently?", "TEXT"),
                ],
            }
        )
    return scorecards
