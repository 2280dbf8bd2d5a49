"""A local emulator of Gong's v2 calls API, and the endpoints beside it, for the tests and
benchmarks of tap-gong-calls.

It models the Gong behaviour written down in docs/gong-api-behaviour.md ("§n" in the modules
cites its sections): Basic and Bearer auth with per-endpoint scopes (§2), a leaky-bucket rate
limit and a daily quota answering 429 with Retry-After (§8), opaque cursors bound to their
filter and fixed pages (§6), Gong's 404 texts for empty results and unknown calls (§5), queued
faults (errors, dropped or truncated replies; §4), and for each call the extensive blocks and
transcript Gong would hold, generated from its id (§10-§12). Options add the text and id quirks
strict consumers trip on (§16). Beside the calls it serves users, workspaces, keyword trackers,
scorecards and answered scorecards (§17-§21), with days in the company's time zone.

    with GongEmulator(rate_limit_per_second=3, transcript_bytes=50_000) as emu:
        emu.add_calls(seed_calls(250))
        emu.set_transcript_ready(str(SEED_ID_BASE), False)
        emu.inject(Fault("status", path="/v2/calls", status=500))
        emu.seed_company(users=40, reviews=120)  # workspaces, trackers, scorecards, users, reviews
        ...  # point the tap at emu.url; compare its records with emu.extensive_of(call_id)

Modules: protocol (constants, records, error replies), data (call metadata), parties,
extensive and transcript (generated content), variety (with ``GongEmulator(variety=True)``:
undocumented enum values, nested nulls, CRM values of every JSON type), selector
(contentSelector rules), store (the calls and per-call settings), paging (filters, cursors),
routes (endpoints), quirks (NULs, lone surrogates, numeric ids), rate_limit, faults, server
(HTTP), emulator (GongEmulator), cli. Beside the calls: people (users), company (workspaces,
trackers, scorecards), reviews (answered scorecards), org_store, org_routes, org_controls
(GongEmulator's methods for them).

Run it for manual or benchmark use, from the repository root:
``python -m gong_emulator --help``.
"""

from .cli import main
from .company import SCORECARD_ID_BASE, seed_scorecards, seed_trackers, seed_workspaces
from .data import ABSENT, make_call, seed_calls
from .emulator import GongEmulator
from .faults import FAULT_KINDS, Fault
from .people import AVATAR_ID_BASE, USER_ID_BASE, make_user, seed_avatars, seed_users
from .protocol import (
    ALL_SCOPES,
    CURSOR_EXPIRED,
    DEFAULT_COMPANY_TIME_ZONE,
    DEFAULT_WORKSPACE_ID,
    NO_ANSWERED_SCORECARDS,
    NO_CALLS_FOUND,
    NO_USERS_FOUND,
    PAGE_SIZE,
    SCOPE_BASIC,
    SCOPE_EXTENSIVE,
    SCOPE_MEDIA_URL,
    SCOPE_SCORECARDS,
    SCOPE_STATS_SCORECARDS,
    SCOPE_TRACKERS,
    SCOPE_TRANSCRIPT,
    SCOPE_USERS,
    SCOPE_WORKSPACES,
    SEED_ID_BASE,
    WORKSPACE_NOT_FOUND,
    RequestRecord,
)
from .quirks import LONE_SURROGATE, NUL, NUL_CRM_FIELD, carries_odd_text, sends_numeric_ids
from .rate_limit import RETRY_AFTER_STYLES
from .reviews import (
    ANSWERED_ID_BASE,
    REVIEW_METHODS,
    VISIBILITY_TYPES,
    make_answered_scorecard,
    seed_answered_scorecards,
)
from .selector import FULL_SELECTOR
from .transcript import DEFAULT_TRANSCRIPT_BYTES
from .variety import CRM_VALUES, NEW_ENUM_VALUES

__all__ = [
    "ABSENT",
    "ALL_SCOPES",
    "ANSWERED_ID_BASE",
    "AVATAR_ID_BASE",
    "CRM_VALUES",
    "CURSOR_EXPIRED",
    "DEFAULT_COMPANY_TIME_ZONE",
    "DEFAULT_TRANSCRIPT_BYTES",
    "DEFAULT_WORKSPACE_ID",
    "FAULT_KINDS",
    "FULL_SELECTOR",
    "LONE_SURROGATE",
    "NEW_ENUM_VALUES",
    "NO_ANSWERED_SCORECARDS",
    "NO_CALLS_FOUND",
    "NO_USERS_FOUND",
    "NUL",
    "NUL_CRM_FIELD",
    "PAGE_SIZE",
    "RETRY_AFTER_STYLES",
    "REVIEW_METHODS",
    "SCOPE_BASIC",
    "SCOPE_EXTENSIVE",
    "SCOPE_MEDIA_URL",
    "SCOPE_SCORECARDS",
    "SCOPE_STATS_SCORECARDS",
    "SCOPE_TRACKERS",
    "SCOPE_TRANSCRIPT",
    "SCOPE_USERS",
    "SCOPE_WORKSPACES",
    "SCORECARD_ID_BASE",
    "SEED_ID_BASE",
    "USER_ID_BASE",
    "VISIBILITY_TYPES",
    "WORKSPACE_NOT_FOUND",
    "Fault",
    "GongEmulator",
    "RequestRecord",
    "carries_odd_text",
    "main",
    "make_answered_scorecard",
    "make_call",
    "make_user",
    "seed_answered_scorecards",
    "seed_avatars",
    "seed_calls",
    "seed_scorecards",
    "seed_trackers",
    "seed_users",
    "seed_workspaces",
    "sends_numeric_ids",
]
