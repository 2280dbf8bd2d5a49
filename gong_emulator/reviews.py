"""Answered scorecards (§21): one review of one call, `make_answered_scorecard` and
`seed_answered_scorecards`.

Ids are JSON integers as Gong's reference types them (§20). A review names a real call (its
`callId` and `callStartTime`), the scorecard it answers, the user it reviews (the call's host
when that is a user) and, for a manual review, the reviewer (the reviewed user's manager when
there is one). `reviewTime` is written in the company's time zone, whose days the filters use.
"""

from __future__ import annotations

import hashlib
import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo

from .company import seed_scorecards
from .people import iso
from .protocol import DEFAULT_COMPANY_TIME_ZONE, parse_time

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from .protocol import Call

Review = dict[str, Any]

ANSWERED_ID_BASE: Final = 563_515_258_450_000
REVIEW_METHODS: Final = ("MANUAL", "AUTOMATIC")
VISIBILITY_TYPES: Final = ("PUBLIC", "PRIVATE", "OPT_IN_USERS")
_REMARKS = ("Great discovery questions.", "Talked over the buyer twice.", "Clear next steps 👍")


def _rng(answered_id: int) -> random.Random:
    digest = hashlib.sha256(f"review:{answered_id}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _answer(rng: random.Random, question: Mapping[str, Any]) -> dict[str, Any]:
    kind = question.get("questionType")
    not_applicable = not question.get("isOverall") and rng.random() < 0.1
    answer: dict[str, Any] = {
        "questionId": question["questionId"],
        "questionRevisionId": question["questionRevisionId"],
        "isOverall": bool(question.get("isOverall")),
        "score": None,
        "answerText": None,
        "notApplicable": not_applicable,
        "selectedOptions": None,
    }
    if not_applicable:
        return answer
    options = [str(option["id"]) for option in question.get("answerOptions") or []]
    if kind == "RANGE":
        answer["score"] = rng.randint(question.get("minRange") or 1, question.get("maxRange") or 5)
    elif kind == "SINGLE_SELECT" and options:
        answer["selectedOptions"] = [rng.choice(options)]
    elif kind == "MULTI_SELECT" and options:
        answer["selectedOptions"] = sorted(rng.sample(options, rng.randint(1, len(options))))
    else:
        answer["answerText"] = rng.choice(_REMARKS)
    return answer


def make_answered_scorecard(
    call: Call,
    scorecard: Mapping[str, Any],
    *,
    answered_scorecard_id: int,
    review_time: str | datetime,
    reviewed_user_id: str | None = None,
    reviewer_user_id: str | None = None,
    visibility_type: str = "PUBLIC",
    editor_user_id: str | None = None,
    time_zone: str = DEFAULT_COMPANY_TIME_ZONE,
) -> Review:
    """A review of `call` answering `scorecard`, with answers derived from its id.

    `reviewed_user_id` defaults to the call's host. The review method is the scorecard's; a
    manual review needs a `reviewer_user_id`, an automatic one has none. A datetime
    `review_time` is written in `time_zone`, a string as given.
    """
    method = scorecard.get("reviewMethod") or "MANUAL"
    if method == "MANUAL" and reviewer_user_id is None:
        raise ValueError("a manual review needs a reviewer_user_id")
    if isinstance(review_time, datetime):
        local = review_time.astimezone(ZoneInfo(time_zone))
        offset = local.utcoffset() or timedelta(0)
        review_time = iso(local, offset)
    if parse_time(review_time) is None:
        raise ValueError(f"review_time needs a date, time and offset: {review_time!r}")
    reviewed = reviewed_user_id or call.get("primaryUserId")
    reviewer = reviewer_user_id if method == "MANUAL" else None
    rng = _rng(answered_scorecard_id)
    return {
        "answeredScorecardId": answered_scorecard_id,
        "scorecardId": scorecard["scorecardId"],
        "scorecardName": scorecard.get("scorecardName"),
        "callId": int(str(call["id"])),
        "callStartTime": call.get("started"),
        "reviewedUserId": int(reviewed) if reviewed else None,
        "reviewerUserId": int(reviewer) if reviewer else None,
        "reviewMethod": method,
        "editorUserId": int(editor_user_id) if editor_user_id else None,
        "reviewTime": review_time,
        "visibilityType": visibility_type,
        "answers": [_answer(rng, question) for question in scorecard.get("questions") or []],
    }


def seed_answered_scorecards(
    calls: Iterable[Call],
    users: Iterable[Mapping[str, Any]],
    n: int,
    scorecards: Iterable[Mapping[str, Any]] | None = None,
    *,
    time_zone: str = DEFAULT_COMPANY_TIME_ZONE,
    seed: int = 0,
) -> list[Review]:
    """`n` reviews of the given calls by the given users, published 1 hour to 3 weeks after the
    call. Every fifth uses an automatic scorecard when there is one; the others are manual.
    `scorecards` defaults to `seed_scorecards()`. The same arguments give the same reviews."""
    dated = [call for call in calls if parse_time(call.get("started")) is not None]
    ordered = sorted(dated, key=lambda call: str(call["id"]))
    people = {str(user["id"]): user for user in users}
    cards = seed_scorecards() if scorecards is None else list(scorecards)
    enabled = [card for card in cards if card.get("enabled", True)]
    manual = [card for card in enabled if card.get("reviewMethod", "MANUAL") == "MANUAL"]
    automatic = [card for card in enabled if card.get("reviewMethod") == "AUTOMATIC"]
    if n and not (ordered and people and manual):
        raise ValueError("reviews need calls, users and an enabled manual scorecard")
    ids = sorted(people)
    reviews = []
    for index in range(n):
        answered_id = ANSWERED_ID_BASE + seed * 1_000_000 + index
        rng = _rng(answered_id)
        call = rng.choice(ordered)
        host = str(call.get("primaryUserId"))
        reviewed = host if host in people else rng.choice(ids)
        manager = people[reviewed].get("managerId")
        others = [user_id for user_id in ids if user_id != reviewed] or ids
        reviewer = manager if manager in people else rng.choice(others)
        card = rng.choice(automatic if automatic and index % 5 == 4 else manual)
        started = parse_time(call.get("started"))
        assert started is not None  # calls without a start were left out above
        published = started + timedelta(minutes=rng.randint(60, 21 * 24 * 60))
        reviews.append(
            make_answered_scorecard(
                call,
                card,
                answered_scorecard_id=answered_id,
                review_time=published,
                reviewed_user_id=reviewed,
                reviewer_user_id=reviewer,
                visibility_type=rng.choices(VISIBILITY_TYPES, (6, 2, 1))[0],
                editor_user_id=rng.choice(ids) if rng.random() < 0.1 else None,
                time_zone=time_zone,
            )
        )
    return reviews
