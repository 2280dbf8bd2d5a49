"""Realistic call metadata: `make_call` (one CallBasicData) and `seed_calls` (a dated series).

Everything is derived from the call id by hashing, so the same id always yields the same call;
the extensive blocks (extensive.py) and transcripts (transcript.py) follow the same rule.
"""

from __future__ import annotations

import base64
import hashlib
import random
import string
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Final, TypeVar

from .protocol import DEFAULT_WORKSPACE_ID, SEED_ID_BASE, Call, parse_time

if TYPE_CHECKING:
    from collections.abc import Sequence

T = TypeVar("T")

ABSENT: Final = object()
"""Pass as a make_call override to drop that key from the call entirely."""

_CONFERENCE_SYSTEMS = {
    "Zoom": "https://zoom.us/j/{n}",
    "WebEx": "https://acme.webex.com/meet/{n}",
    "Google Meet": "https://meet.google.com/{n}",
}


def rng_for(call_id: str, salt: str) -> random.Random:
    """A generator seeded from the call id, so generated data is the same on every request."""
    digest = hashlib.sha256(f"{call_id}:{salt}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def gong_id(rng: random.Random) -> str:
    """A 19-digit id, as Gong's party, tracker and comment ids are."""
    return str(rng.randrange(10**18, 10**19))


def crm_id(rng: random.Random, prefix: str) -> str:
    """An 18-character Salesforce id with its object prefix (001 Account, 003 Contact, ...)."""
    return prefix + "".join(rng.choices(string.ascii_letters + string.digits, k=15))


class _CallMaker:
    """`make_call(call_id, started, **overrides)`: a full CallBasicData (all 20 fields of §9).

    Deterministic from `call_id`. Overrides are applied last: a value of None keeps the key with
    null, `make_call.ABSENT` (same object as `ABSENT`) removes the key. An object rather than a
    function only so that `make_call.ABSENT` type-checks.
    """

    ABSENT: Final = ABSENT

    def __call__(self, call_id: str, started: str, **overrides: Any) -> Call:
        digest = hashlib.sha256(call_id.encode()).digest()

        def pick(options: Sequence[T], salt: int) -> T:
            return options[digest[salt] % len(options)]

        number = str(int.from_bytes(digest[8:16], "big"))[:11]
        direction = pick(("Inbound", "Outbound", "Conference", "Unknown"), 0)
        conference = direction == "Conference"
        system = (
            pick(tuple(_CONFERENCE_SYSTEMS), 1)
            if conference
            else pick(("Outreach", "Salesloft", "Aircall"), 1)
        )
        company = pick(("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark Industries"), 2)
        purpose = pick((None, "Demo Call", "Discovery", "Renewal", "Pricing"), 3)
        call: Call = {
            "id": call_id,
            "url": f"https://app.gong.io/call?id={call_id}",
            "title": f"{purpose or 'Intro'} with {company}",
            "scheduled": started,
            "started": started,
            "duration": 60 + int.from_bytes(digest[4:6], "big") % 3540,
            "primaryUserId": str(234599484848400 + digest[5] % 20),
            "direction": direction,
            "system": system,
            "scope": pick(("External", "External", "Internal", "Unknown"), 6),
            "media": "Video" if conference else "Audio",
            "language": pick(("eng", "eng", "eng", "fre", "ger", "und"), 7),
            "workspaceId": DEFAULT_WORKSPACE_ID,
            "sdrDisposition": pick((None, "Got the gatekeeper", "Left voicemail", "Connected"), 16),
            "clientUniqueId": base64.b32encode(digest[17:29]).decode()[:19],
            "customData": pick((None, "Conference Call", '{"campaign":"Q1","source":"web"}'), 29),
            "purpose": purpose,
            "meetingUrl": _CONFERENCE_SYSTEMS[system].format(n=number) if conference else None,
            "isPrivate": False,
            "calendarEventId": f"{digest[20:30].hex()}@google.com" if conference else None,
        }
        for key, value in overrides.items():
            if value is ABSENT:
                call.pop(key, None)
            else:
                call[key] = value
        return call


make_call = _CallMaker()

# Cycle through the timestamp shapes Gong emits (§3), so taps must compare instants, not strings.
_SEED_TIME_STYLES: Final = (
    (timedelta(0), "seconds"),
    (timedelta(hours=-8), "seconds"),
    (timedelta(hours=5, minutes=30), "milliseconds"),
    (timedelta(0), "milliseconds"),
)


def seed_calls(
    n: int,
    start: str | datetime = "2024-01-01T00:00:00Z",
    spacing: timedelta = timedelta(minutes=30),
) -> list[Call]:
    """`n` calls with ids SEED_ID_BASE + i, call i starting at start + i * spacing.

    Millisecond-styled timestamps add under a second, so a call never leaves a window whose
    bounds lie on the start + k * spacing grid.
    """
    origin = parse_time(start) if isinstance(start, str) else start
    if origin is None or origin.tzinfo is None:
        raise ValueError(f"unparsable start {start!r}")
    calls = []
    for i in range(n):
        offset, timespec = _SEED_TIME_STYLES[i % len(_SEED_TIME_STYLES)]
        instant = origin + i * spacing
        if timespec == "milliseconds":
            instant += timedelta(milliseconds=(i * 137) % 1000)
        text = instant.astimezone(timezone(offset)).isoformat(timespec=timespec)
        calls.append(make_call(str(SEED_ID_BASE + i), text.replace("+00:00", "Z")))
    return calls
