"""contentSelector (§10): check it, and cut a call's blocks down to what it asks for.

A block appears only when requested; inside it, a key only when requested and available.
`pointsOfInterest` is accepted but never served, as Gong has done since its 2026 deprecation.
"""

from __future__ import annotations

import secrets
import time
from typing import Any, Final

from .protocol import ApiError, Call

Selector = dict[str, Any]

CONTENT_KEYS: Final = (
    "structure",
    "topics",
    "trackers",
    "brief",
    "outline",
    "highlights",
    "callOutcome",
    "keyPoints",
)
# Request flag -> response key; personInteractionStats answers as interactionStats (§10).
INTERACTION_KEYS: Final = {
    "speakers": "speakers",
    "personInteractionStats": "interactionStats",
    "video": "video",
    "questions": "questions",
}
_CONTEXT_LEVELS: Final = ("None", "Basic", "Extended")
_TIMINGS: Final = ("Now", "TimeOfCall")
_CONTENT_FLAGS: Final = (*CONTENT_KEYS, "trackerOccurrences", "pointsOfInterest")

FULL_SELECTOR: Final[Selector] = {
    "context": "Extended",
    "exposedFields": {
        "parties": True,
        "content": dict.fromkeys(_CONTENT_FLAGS, True),
        "interaction": dict.fromkeys(INTERACTION_KEYS, True),
        "collaboration": {"publicComments": True},
    },
}


def check_selector(value: object) -> Selector:
    """The selector, or a 400 for one Gong would refuse."""
    selector = value or {}
    if not isinstance(selector, dict) or not isinstance(selector.get("exposedFields") or {}, dict):
        raise ApiError(400)
    context = selector.get("context") or "None"
    timing = selector.get("contextTiming")
    if context not in _CONTEXT_LEVELS:
        raise ApiError(400)
    if timing and context != "Extended":
        raise ApiError(400)  # contextTiming is only allowed with context=Extended (§10)
    if timing is not None and (
        not isinstance(timing, list) or not all(item in _TIMINGS for item in timing)
    ):
        raise ApiError(400)
    return selector


def wants_media(body: object) -> bool:
    """Whether a body asks for media URLs (which need their own scope); never raises."""
    if not isinstance(body, dict) or not isinstance(body.get("contentSelector"), dict):
        return False
    exposed = body["contentSelector"].get("exposedFields")
    return isinstance(exposed, dict) and bool(exposed.get("media"))


def _flags(exposed: dict[str, Any], block: str) -> dict[str, Any]:
    flags = exposed.get(block)
    return flags if isinstance(flags, dict) else {}


def render(call: Call, blocks: dict[str, Any], selector: Selector) -> dict[str, Any]:
    """One CallData: metaData plus the requested, available parts of `blocks`."""
    exposed = selector.get("exposedFields") or {}
    data: dict[str, Any] = {"metaData": call}
    context = selector.get("context") or "None"
    if context != "None" and "context" in blocks:
        timings = selector.get("contextTiming") or ["Now"]
        data["context"] = _context(
            blocks["context"], extended=context == "Extended", timings=timings
        )
    if exposed.get("parties") and "parties" in blocks:
        data["parties"] = blocks["parties"]
    flags = _flags(exposed, "content")
    if any(flags.get(flag) for flag in _CONTENT_FLAGS) and "content" in blocks:
        data["content"] = _content(blocks["content"], flags)
    flags = _flags(exposed, "interaction")
    if any(flags.get(flag) for flag in INTERACTION_KEYS) and "interaction" in blocks:
        stored = blocks["interaction"]
        data["interaction"] = {
            key: stored[key]
            for flag, key in INTERACTION_KEYS.items()
            if flags.get(flag) and key in stored
        }
    if _flags(exposed, "collaboration").get("publicComments") and "collaboration" in blocks:
        data["collaboration"] = blocks["collaboration"]
    if exposed.get("media"):
        data["media"] = media_urls(call)
    return data


def _content(stored: dict[str, Any], flags: dict[str, Any]) -> dict[str, Any]:
    content: dict[str, Any] = {
        key: stored[key] for key in CONTENT_KEYS if flags.get(key) and key in stored
    }
    if "trackers" in content and not flags.get("trackerOccurrences"):
        content["trackers"] = [_without_occurrences(tracker) for tracker in content["trackers"]]
    return content


def _without_occurrences(tracker: dict[str, Any]) -> dict[str, Any]:
    # Occurrences are opt-in (trackerOccurrences), for the tracker and for each of its phrases.
    trimmed = {key: value for key, value in tracker.items() if key != "occurrences"}
    if "phrases" in trimmed:
        trimmed["phrases"] = [
            {key: value for key, value in phrase.items() if key != "occurrences"}
            for phrase in trimmed["phrases"]
        ]
    return trimmed


def _context(systems: list[Any], *, extended: bool, timings: list[str]) -> list[Any]:
    rendered = []
    for system in systems:
        objects = []
        for obj in system.get("objects", []):
            if not extended:
                objects.append({key: value for key, value in obj.items() if key != "fields"})
            elif "timing" in obj:
                # Timed objects (opportunities) come once per requested timing.
                objects.extend({**obj, "timing": timing} for timing in timings)
            else:
                objects.append(obj)
        rendered.append({**system, "objects": objects})
    return rendered


def media_urls(call: Call) -> dict[str, str]:
    """Pre-signed S3 URLs, re-signed on every request as Gong does (§11)."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    base = f"https://gong-call-media.s3.amazonaws.com/{call.get('workspaceId')}/{call['id']}"
    query = (
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date={stamp}&X-Amz-SignedHeaders=host"
        "&X-Amz-Expires=28799&X-Amz-Credential=AKIAEMULATOR%2F{day}%2Fus-east-1%2Fs3%2Faws4_request"
        "&X-Amz-Signature={signature}"
    )
    urls = {}
    for key, name in (("audioUrl", "audio.mp3"), ("videoUrl", "video.mp4")):
        if key == "videoUrl" and call.get("media") != "Video":
            continue
        signed = query.format(stamp=stamp, day=stamp[:8], signature=secrets.token_hex(32))
        urls[key] = f"{base}/{name}?{signed}"
    return urls
