"""What the record contract (tap_gong_calls/contract.py) costs in CPU, all four streams.

The Gong emulator runs as a separate process (``python -m gong_emulator``, no rate
limit, ``--transcript-kb`` of transcript JSON per call), so this process's CPU is the tap's
alone. The tap runs here, in-process, in date-range mode with every stream selected, its
Singer output thrown away. ``RecordContract.check`` is wrapped to add up its own thread's CPU
time over every record the tap emits; the share is that sum over the process CPU of the whole
run. The same records are then validated with jsonschema (Draft 2020-12 with a format
checker, what the tap did before the contract) to show what the contract replaced.

    python -m benchmarks.validation               # 300 calls, 50 KB transcripts
    python -m benchmarks.validation --calls 50    # smoke run

Prints the figures and PASS/FAIL against the 10% budget; exits 1 on FAIL.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from tap_gong_calls.contract import RecordContract
from tap_gong_calls.tap import TapGongCalls

KEY, SECRET = "bench-key", "bench-secret"
START = datetime(2024, 1, 1, tzinfo=UTC)
SPACING_MINUTES = 30
BUDGET = 0.10


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def emulator(calls: int, transcript_kb: int) -> Any:
    """The emulator in its own process; yields its URL."""
    port = free_port()
    command = [
        *(sys.executable, "-m", "gong_emulator", "--port", str(port)),
        *("--calls", str(calls), "--start", START.isoformat().replace("+00:00", "Z")),
        *("--spacing-minutes", str(SPACING_MINUTES), "--rate-limit", "0"),
        *("--transcript-bytes", str(transcript_kb * 1000)),
        *("--access-key", KEY, "--access-key-secret", SECRET),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline() if process.stdout else ""
        if "listening" not in line:
            sys.exit(f"the emulator did not start: {line!r}")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


Checked = list[tuple[str, dict]]


def run_tap(url: str, calls: int) -> tuple[float, float, Checked, dict[str, dict]]:
    """Process CPU of one in-process run, CPU spent in the contract, the records it checked
    (by stream) and the streams' schemas."""
    checked: Checked = []
    spent = 0.0
    original = RecordContract.check

    def timed(self: RecordContract, record: dict, source: str) -> dict:
        nonlocal spent
        began = time.thread_time()
        emitted = original(self, record, source)
        spent += time.thread_time() - began
        checked.append((self.stream_name, record))
        return emitted

    end = START + timedelta(minutes=SPACING_MINUTES * calls)
    config = {
        "access_key": KEY,
        "access_key_secret": SECRET,
        "api_url": url,
        "requests_per_second": 1000,
        "start_date": (START - timedelta(days=1)).isoformat(),
        "end_date": (end + timedelta(days=1)).isoformat(),
    }
    tap = TapGongCalls(config=config, parse_env_config=False)  # no catalog: every stream
    RecordContract.check = timed  # type: ignore[method-assign]
    try:
        with Path(os.devnull).open("w") as sink, contextlib.redirect_stdout(sink):
            began = time.process_time()
            tap.sync_all()
            total = time.process_time() - began
    finally:
        RecordContract.check = original  # type: ignore[method-assign]
    return total, spent, checked, {name: s.schema for name, s in tap.streams.items()}


def jsonschema_seconds(checked: Checked, schemas: dict[str, dict]) -> float:
    """CPU jsonschema takes to validate the same records (the tap's check before contract.py)."""
    validators = {
        name: Draft202012Validator(schema, format_checker=FormatChecker())
        for name, schema in schemas.items()
    }
    began = time.process_time()
    for stream, record in checked:
        for _ in validators[stream].iter_errors(record):
            pass
    return time.process_time() - began


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--transcript-kb", type=int, default=50)
    args = parser.parse_args()

    with emulator(args.calls, args.transcript_kb) as url:
        total, spent, checked, schemas = run_tap(url, args.calls)
    records = Counter(stream for stream, _ in checked)
    old = jsonschema_seconds(checked, schemas)
    share = spent / total
    print(f"calls {args.calls}, transcripts ~{args.transcript_kb} KB, records {dict(records)}")
    print(f"tap CPU {total:.2f} s, of which RecordContract.check {spent:.3f} s: {share:.1%}")
    print(
        f"jsonschema on the same records: {old:.2f} s "
        f"({old / (total - spent + old):.0%} of a run that used it)"
    )
    passed = share <= BUDGET and records["calls"] == args.calls
    print(f"{'PASS' if passed else 'FAIL'}: contract share {share:.1%} <= {BUDGET:.0%}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
