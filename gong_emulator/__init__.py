"""A local emulator of Gong's v2 calls API, for the tests and benchmarks of tap-gong-calls.

It models the Gong behaviour written down in docs/gong-api-behaviour.md ("§n" in the modules
cites its sections): Basic and Bearer auth with per-endpoint scopes (§2), a leaky-bucket rate
limit and a daily quota answering 429 with Retry-After (§8), opaque cursors bound to their
filter and fixed pages (§6), Gong's 404 texts for empty results and unknown calls (§5), queued
faults (errors, dropped or truncated replies; §4), and for each call the extensive blocks and
transcript Gong would hold, generated from its id (§10-§12).

    with GongEmulator(rate_limit_per_second=3, transcript_bytes=50_000) as emu:
        emu.add_calls(seed_calls(250))
        emu.set_transcript_ready(str(SEED_ID_BASE), False)
        emu.inject(Fault("status", path="/v2/calls", status=500))
        ...  # point the tap at emu.url; compare its records with emu.extensive_of(call_id)

Modules: protocol (constants, records, error replies), data (call metadata), parties,
extensive and transcript (generated content), variety (with ``GongEmulator(variety=True)``:
undocumented enum values, nested nulls, CRM values of every JSON type), selector
(contentSelector rules), store (the calls and per-call settings), paging (filters, cursors),
routes (endpoints), rate_limit, faults, server (HTTP), emulator (GongEmulator), cli.

Run it for manual or benchmark use, from the repository root:
``python -m gong_emulator --help``.
"""

from .cli import main
from .data import ABSENT, make_call, seed_calls
from .emulator import GongEmulator
from .faults import FAULT_KINDS, Fault
from .protocol import (
    ALL_SCOPES,
    CURSOR_EXPIRED,
    DEFAULT_WORKSPACE_ID,
    NO_CALLS_FOUND,
    PAGE_SIZE,
    SCOPE_BASIC,
    SCOPE_EXTENSIVE,
    SCOPE_MEDIA_URL,
    SCOPE_TRANSCRIPT,
    SEED_ID_BASE,
    RequestRecord,
)
from .quirks import LONE_SURROGATE, NUL, NUL_CRM_FIELD, carries_odd_text, sends_numeric_ids
from .rate_limit import RETRY_AFTER_STYLES
from .selector import FULL_SELECTOR
from .transcript import DEFAULT_TRANSCRIPT_BYTES
from .variety import CRM_VALUES, NEW_ENUM_VALUES

__all__ = [
    "ABSENT",
    "ALL_SCOPES",
    "CRM_VALUES",
    "CURSOR_EXPIRED",
    "DEFAULT_TRANSCRIPT_BYTES",
    "DEFAULT_WORKSPACE_ID",
    "FAULT_KINDS",
    "FULL_SELECTOR",
    "LONE_SURROGATE",
    "NEW_ENUM_VALUES",
    "NO_CALLS_FOUND",
    "NUL",
    "NUL_CRM_FIELD",
    "PAGE_SIZE",
    "RETRY_AFTER_STYLES",
    "SCOPE_BASIC",
    "SCOPE_EXTENSIVE",
    "SCOPE_MEDIA_URL",
    "SCOPE_TRANSCRIPT",
    "SEED_ID_BASE",
    "Fault",
    "GongEmulator",
    "RequestRecord",
    "carries_odd_text",
    "main",
    "make_call",
    "seed_calls",
    "sends_numeric_ids",
]
