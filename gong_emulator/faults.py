"""Injected misbehaviour (§4): the Fault a test queues, the queue, and the canned replies."""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from typing import Final

from .protocol import ApiError, Reply, error_reply

FAULT_KINDS: Final = frozenset(
    {"status", "rate_limit", "reset", "truncated", "slow", "not_json", "json_body"}
)


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

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {FAULT_KINDS}")
        if self.times == 0 or self.times < -1:
            raise ValueError("times must be positive, or -1 for forever")

    def matches(self, method: str, path: str) -> bool:
        return (self.path is None or path.startswith(self.path)) and (
            self.method is None or self.method.upper() == method
        )


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

    def take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
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
    if fault.kind == "rate_limit":
        return error_reply(ApiError(429, retry_after=fault.retry_after))
    if fault.kind == "not_json":
        return Reply(200, fault.body or "<html>oops</html>")
    if fault.kind == "json_body":
        return Reply(200, fault.body if fault.body is not None else "{}")
    return None
