"""The command line: serve seeded calls, users, settings and reviews until interrupted
(`python -m gong_emulator`)."""

from __future__ import annotations

import argparse
import contextlib
import signal
import time
from datetime import timedelta
from typing import TYPE_CHECKING

from .data import seed_calls
from .emulator import GongEmulator
from .protocol import ALL_SCOPES, DEFAULT_COMPANY_TIME_ZONE, SCOPE_EXTENSIVE, SCOPE_TRANSCRIPT
from .rate_limit import RETRY_AFTER_STYLES
from .transcript import DEFAULT_TRANSCRIPT_BYTES

if TYPE_CHECKING:
    from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m gong_emulator", description="Serve an emulated Gong calls API."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--calls", type=int, default=300, help="number of calls to seed")
    parser.add_argument("--users", type=int, default=40, help="users to seed (40 cover the calls)")
    parser.add_argument("--avatars", type=int, default=0, help="avatar users to seed")
    parser.add_argument("--reviews", type=int, default=0, help="answered scorecards to seed")
    parser.add_argument("--seed", type=int, default=0, help="varies users, settings, reviews")
    parser.add_argument(
        "--company-time-zone", default=DEFAULT_COMPANY_TIME_ZONE, help="days of the stats filters"
    )
    parser.add_argument("--start", default="2024-01-01T00:00:00Z", help="first call's start")
    parser.add_argument("--spacing-minutes", type=float, default=30.0)
    parser.add_argument("--rate-limit", type=float, default=3.0, help="per second; 0 = none")
    parser.add_argument("--daily-quota", type=int, default=None)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per request")
    parser.add_argument("--access-key", default="key")
    parser.add_argument("--access-key-secret", default="secret")
    parser.add_argument("--access-token", default=None)
    parser.add_argument("--retry-after-style", choices=sorted(RETRY_AFTER_STYLES), default="float")
    parser.add_argument("--no-extensive-scope", action="store_true")
    parser.add_argument("--no-transcript-scope", action="store_true")
    parser.add_argument(
        "--transcript-bytes", type=int, default=DEFAULT_TRANSCRIPT_BYTES, help="per call, about"
    )
    parser.add_argument(
        "--variety", action="store_true", help="new enum values, nulls, any CRM JSON"
    )
    parser.add_argument(
        "--nul-characters", action="store_true", help="NULs, lone surrogates in even calls' text"
    )
    parser.add_argument(
        "--numeric-ids", action="store_true", help="odd calls' ids as JSON integers"
    )
    args = parser.parse_args(argv)
    if args.reviews and not (args.users and args.calls):
        parser.error("--reviews needs --users and --calls above 0")

    scopes = set(ALL_SCOPES)
    if args.no_extensive_scope:
        scopes.discard(SCOPE_EXTENSIVE)
    if args.no_transcript_scope:
        scopes.discard(SCOPE_TRANSCRIPT)
    emulator = GongEmulator(
        access_key=args.access_key,
        access_key_secret=args.access_key_secret,
        access_token=args.access_token,
        scopes=frozenset(scopes),
        rate_limit_per_second=args.rate_limit or None,
        retry_after_style=args.retry_after_style,
        daily_quota=args.daily_quota,
        latency_seconds=args.latency,
        transcript_bytes=args.transcript_bytes,
        variety=args.variety,
        nul_characters=args.nul_characters,
        numeric_ids=args.numeric_ids,
        company_time_zone=args.company_time_zone,
        host=args.host,
        port=args.port,
    )
    emulator.add_calls(seed_calls(args.calls, args.start, timedelta(minutes=args.spacing_minutes)))
    emulator.seed_company(args.users, avatars=args.avatars, reviews=args.reviews, seed=args.seed)

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # Explicit for SIGINT too: shells start background jobs with SIGINT ignored.
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    with emulator, contextlib.suppress(KeyboardInterrupt):
        print(f"Gong emulator listening on {emulator.url}", flush=True)
        while True:
            # Short naps, not one long wait: Python runs signal handlers only in the main
            # thread, and only once it wakes, while the OS may deliver the signal elsewhere.
            time.sleep(0.1)
    return 0
