"""Gong's v2 endpoints as data: what each one is called, where its records and cursor go.

A new endpoint is one row. The facts come from docs/gong-api-behaviour.md: cursor placement
(§6), the 404s that mean "nothing" (§5), scopes (§2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from tap_gong_calls.gong.errors import BadResponseError

BATCH_SIZE = 100  # ids per request, as validated against live Gong on both endpoints

BASIC_SCOPE = "api:calls:read:basic"
EXTENSIVE_SCOPE = "api:calls:read:extensive"
TRANSCRIPT_SCOPE = "api:calls:read:transcript"
USERS_SCOPE = "api:users:read"
WORKSPACES_SCOPE = "api:workspaces:read"
TRACKERS_SCOPE = "api:settings:trackers:read"
SCORECARDS_SCOPE = "api:settings:scorecards:read"
ANSWERED_SCORECARDS_SCOPE = "api:stats:scorecards"

# Gong's 404 for a filter that matched no call (no final period).
NO_CALLS_FOUND = "No calls found corresponding to the provided filters"
# ... and for a filter that matched no review (with a final period, matched without it; §21).
NO_ANSWERED_SCORECARDS = "No answered scorecards found corresponding to the provided filters"
NO_USERS_FOUND = "No users found corresponding to the provided filters"  # §17

# Every content flag but the deprecated pointsOfInterest, which Gong no longer fills.
CONTENT_FLAGS = (
    "structure",
    "topics",
    "trackers",
    "trackerOccurrences",
    "brief",
    "outline",
    "highlights",
    "keyPoints",
    "callOutcome",
)
INTERACTION_FLAGS = ("speakers", "video", "personInteractionStats", "questions")


@dataclass(frozen=True)
class Endpoint:
    """One Gong endpoint, as the Airbyte manifest would state it."""

    method: Literal["GET", "POST"]
    path: str  # may hold {id}
    records_key: str | None  # the list each page carries; None: one object
    cursor_in: Literal["query", "body"] | None  # where the next page's cursor goes; None: one
    scope: str
    # Texts of a 404 that mean "nothing here" (an empty result, a call not there yet).
    empty_404: tuple[str, ...] = ()

    def __str__(self) -> str:  # "POST /v2/calls/extensive", as in every message
        return f"{self.method} {self.path}"

    def says_empty(self, messages: list[str]) -> bool:
        """Whether a 404 with Gong's ``messages`` means "nothing" on this endpoint."""
        return any(text in message for text in self.empty_404 for message in messages)


LISTING = Endpoint("GET", "/v2/calls", "calls", "query", BASIC_SCOPE, (NO_CALLS_FOUND,))
BY_ID = Endpoint(
    "GET", "/v2/calls/{id}", None, "query", BASIC_SCOPE, ("was not found", "not ready")
)
EXTENSIVE = Endpoint(
    "POST", "/v2/calls/extensive", "calls", "body", EXTENSIVE_SCOPE, (NO_CALLS_FOUND,)
)
# The company's tables beside the calls (§17 to §21); all but users and reviews come whole.
USERS = Endpoint("GET", "/v2/users", "users", "query", USERS_SCOPE, (NO_USERS_FOUND,))
WORKSPACES = Endpoint("GET", "/v2/workspaces", "workspaces", None, WORKSPACES_SCOPE)
TRACKERS = Endpoint("GET", "/v2/settings/trackers", "keywordTrackers", None, TRACKERS_SCOPE)
SCORECARDS = Endpoint("GET", "/v2/settings/scorecards", "scorecards", None, SCORECARDS_SCOPE)
ANSWERED_SCORECARDS = Endpoint(
    "POST",
    "/v2/stats/activity/scorecards",
    "answeredScorecards",
    "body",
    ANSWERED_SCORECARDS_SCOPE,
    (NO_ANSWERED_SCORECARDS,),
)
TRANSCRIPT = Endpoint(
    "POST", "/v2/calls/transcript", "callTranscripts", "body", TRANSCRIPT_SCOPE, (NO_CALLS_FOUND,)
)

# Which stream each part of an answer feeds: what a field the client cleaned is reported under
# (text.py), by the longest matching prefix of its JSON path.
STREAM_OF_PATH = {
    "call": "calls",  # GET /v2/calls/{id}
    "calls": "calls",  # the listing
    "calls[].metaData": "calls",  # extensive
    "calls[].parties": "call_participants",
    "calls[].content": "call_details",
    "calls[].interaction": "call_details",
    "calls[].collaboration": "call_details",
    "calls[].context": "call_details",
    "callTranscripts": "call_transcripts",
    "users": "users",
    "workspaces": "workspaces",
    "keywordTrackers": "trackers",
    "scorecards": "scorecards",
    "answeredScorecards": "answered_scorecards",
}


def call_id(item: dict[str, Any], endpoint: Endpoint) -> str:
    """The id of an extensive item (or a listed call as one), or a clear error."""
    meta = item.get("metaData")
    if not isinstance(meta, dict) or not meta.get("id"):
        name = "metaData.id" if endpoint == EXTENSIVE else "id"
        raise BadResponseError(
            f"Gong answered {endpoint} with a call that has no {name}; the response does not "
            f"have the documented shape"
        )
    return str(meta["id"])


def callid_of(transcript: dict[str, Any]) -> str:
    """The call id of a transcript item, or a clear error."""
    if not transcript.get("callId"):
        raise BadResponseError(f"Gong answered {TRANSCRIPT} with a transcript that has no callId")
    return str(transcript["callId"])
