"""The company's Gong users (§17): `make_user`, `seed_users` and `seed_avatars`.

Seeded user i has id `USER_ID_BASE + i`, the ids the generated calls already name: hosts
(`primaryUserId`) and commenters are users 0-19, other internal parties users 20-39, so
`seed_users(40)` covers every user a seeded call refers to. Users form one manager tree: user 0
has `managerId` null, every other user reports to a user with a smaller index. Everything is
derived from (`seed`, index), so the same arguments give the same users.
"""

from __future__ import annotations

import hashlib
import random
import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Final

from .protocol import parse_time

User = dict[str, Any]

USER_ID_BASE: Final = 234_599_484_848_400
AVATAR_ID_BASE: Final = 234_599_484_849_900
"""Avatars (Gong's staff acting in the account, §17) get ids from here."""

_FIRST = ("Rita", "Bo", "Ana", "Jürgen", "Chloé", "Sam", "Priya", "Kenji", "Zoë", "Omar")
_LAST = ("Rep", "Ng", "Müller", "Dubois", "Patel", "Tanaka", "O'Brien", "Søndergaard", "Okafor")
_TITLES = (
    "Account Executive",
    "Enterprise Account Executive",
    "Sales Development Representative",
    "Sales Manager",
    "Customer Success Manager",
    "Solutions Engineer",
    None,
)
_LANGUAGES = ("en-US", "en-GB", "de-DE", "fr-FR", "es-ES", "ja-JP")
_SETTINGS = (
    "webConferencesRecorded",
    "preventWebConferenceRecording",
    "telephonyCallsImported",
    "emailsImported",
    "preventEmailImport",
    "nonRecordedMeetingsImported",
    "gongConnectEnabled",
)
# Created times alternate between UTC and an offset, as Gong's timestamps do (§3).
_OFFSETS: Final = (timedelta(0), timedelta(hours=-8))


def _rng(seed: int, kind: str, index: int) -> random.Random:
    digest = hashlib.sha256(f"{seed}:{kind}:{index}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _ascii(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def iso(moment: datetime, offset: timedelta = timedelta(0)) -> str:
    """An ISO-8601 string with `Z` for UTC, else the offset (`-08:00`)."""
    text = moment.astimezone(timezone(offset)).isoformat(timespec="seconds")
    return text.replace("+00:00", "Z")


def make_user(
    index: int,
    created: datetime,
    manager_id: str | None,
    *,
    seed: int = 0,
    user_id: str | None = None,
    **overrides: Any,
) -> User:
    """One user with every documented field, deterministic from (`seed`, `index`)."""
    rng = _rng(seed, "user", index)
    first = _FIRST[index % len(_FIRST)]
    last = _LAST[(index // len(_FIRST) + seed) % len(_LAST)]
    handle = f"{_ascii(first)}.{_ascii(last)}"
    if index >= len(_FIRST) * len(_LAST):
        handle += str(index)  # names repeat; addresses must not
    email = f"{handle}@acme.com"
    languages = rng.sample(_LANGUAGES, rng.choice((1, 1, 2)))
    user: User = {
        "id": user_id or str(USER_ID_BASE + index),
        "emailAddress": email,
        "created": iso(created, _OFFSETS[index % len(_OFFSETS)]),
        "active": index % 9 != 8,
        "emailAliases": [f"{handle}@acme.io"] if rng.random() < 0.3 else [],
        "trustedEmailAddress": email if rng.random() < 0.8 else None,
        "firstName": first,
        "lastName": last,
        "title": rng.choice(_TITLES),
        "phoneNumber": f"+1 415-555-{rng.randrange(1000, 10000)}" if rng.random() < 0.7 else None,
        "extension": str(rng.randrange(100, 1000)) if rng.random() < 0.2 else None,
        "personalMeetingUrls": (
            [f"https://zoom.us/j/{rng.randrange(10**9, 10**10)}"] if rng.random() < 0.6 else []
        ),
        "settings": {name: rng.random() < 0.7 for name in _SETTINGS},
        "managerId": manager_id,
        "meetingConsentPageUrl": (
            f"https://join.gong.io/acme/{handle}?tkn={rng.randbytes(12).hex()}"
            if rng.random() < 0.5
            else None
        ),
        "spokenLanguages": [
            {"language": language, "primary": position == 0}
            for position, language in enumerate(languages)
        ],
    }
    user.update(overrides)
    return user


def seed_users(
    n: int,
    start: str | datetime = "2019-01-07T09:00:00Z",
    spacing: timedelta = timedelta(days=3),
    *,
    seed: int = 0,
) -> list[User]:
    """`n` users with ids USER_ID_BASE + i, user i created at start + i * spacing, in one manager
    tree rooted at user 0."""
    origin = parse_time(start) if isinstance(start, str) else start
    if origin is None or origin.tzinfo is None:
        raise ValueError(f"unparsable start {start!r}")
    users: list[User] = []
    for index in range(n):
        # A manager with a smaller index, chosen among the first quarter: a tree, no cycles.
        boss = _rng(seed, "manager", index).randrange(max(1, (index + 3) // 4))
        manager = users[boss]["id"] if index else None
        users.append(make_user(index, origin + index * spacing, manager, seed=seed))
    return users


def seed_avatars(n: int, *, seed: int = 0) -> list[User]:
    """`n` avatars: Gong staff (CSMs, support) as synthetic users, ids AVATAR_ID_BASE + i."""
    origin = datetime(2020, 3, 2, 15, 0, tzinfo=UTC)
    return [
        make_user(
            1000 + index,
            origin + timedelta(days=30 * index),
            None,
            seed=seed,
            user_id=str(AVATAR_ID_BASE + index),
            emailAddress=f"support.{index}@gong.io",
            firstName="Gong",
            lastName=f"Support {index + 1}",
            title="Customer Success Manager",
            emailAliases=[],
            trustedEmailAddress=None,
            personalMeetingUrls=[],
            meetingConsentPageUrl=None,
        )
        for index in range(n)
    ]
