"""Injected misbehaviour (§4): the Fault a test queues, the queue, and the canned replies.

`cursor_expired` (§16) answers only requests that carry a cursor (the query's on GET, the body's
top-level one on POST) with Gong's 400 for an expired cursor; a listing restarted without a
cursor goes through. `skip` lets that many matching requests through before a fault applies.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from typing import Final

from .protocol import CURSOR_EXPIRED, ApiError, Reply, RequestRecord, error_reply

FAULT_KINDS: Final = frozenset(
    {
        "status",
        "rate_limit",
        "reset",
        "truncated",
        "slow",
        "not_json",
        "json_body",
        "cursor_expired",
    }
)

# Kinds answered with a Gong error body of this status.
_ERROR_STATUS: Final = {"rate_limit": 429, "cursor_expired": 400}


@dataclass
class Fault:
    """A misbehaviour served instead of the real answer; see `GongEmulator.inject`."""

    kind: str
    path: str | None = None
    method: str | None = None
    times: int = 1
    status: int | None = None
    retry_after: str | None = None
    delay: float = 0.0
    body: str | None = None
    skip: int = 0  # matching requests let through untouched before the fault applies

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {FAULT_KINDS}")
        if self.times == 0 or self.times < -1:
            raise ValueError("times must be positive, or -1 for forever")
        if self.skip < 0:
            raise ValueError("skip must not be negative")

    def matches(self, request: RequestRecord) -> bool:
        return (
            (self.path is None or request.path.startswith(self.path))
            and (self.method is None or self.method.upper() == request.method)
            and (self.kind != "cursor_expired" or carries_cursor(request))
        )


def carries_cursor(request: RequestRecord) -> bool:
    """Whether the request sends a cursor where Gong reads it (§6)."""
    if request.method == "GET":
        return bool(request.query.get("cursor"))
    return isinstance(request.body, dict) and bool(request.body.get("cursor"))


class FaultQueue:
    """Faults waiting to be served; each request takes the first one matching it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def extend(self, faults: tuple[Fault, ...]) -> None:
        # Copies, so the test's Fault objects keep their `times` for reuse.
        with self._lock:
            self._faults.extend(dataclasses.replace(fault) for fault in faults)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, request: RequestRecord) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(request):
                    if fault.skip > 0:
                        fault.skip -= 1
                        continue
                    if fault.times > 0:
                        fault.times -= 1
                        if fault.times == 0:
                            self._faults.remove(fault)
                    return fault
        return None


def fault_reply(fault: Fault) -> Reply | None:
    """The canned answer of a fault, or None when the fault only alters the real answer."""
    if fault.kind == "status":
        status = fault.status or 500
        if fault.body is not None:
            return Reply(status, fault.body, "text/html; charset=utf-8", fault.retry_after)
        return error_reply(ApiError(status, retry_after=fault.retry_after))
    if fault.kind in _ERROR_STATUS:
        message = CURSOR_EXPIRED if fault.kind == "cursor_expired" else None
        return error_reply(ApiError(_ERROR_STATUS[fault.kind], message, fault.retry_after))
    if fault.kind == "not_json":
        return Reply(200, fault.body or "<html>oops</html>")
    if fault.kind == "json_body":
        return Reply(200, fault.body if fault.body is not None else "{}")
    return None
