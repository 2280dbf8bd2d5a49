"""A local emulator of Gong's v2 calls API, for the tests and benchmarks of tap-gong-calls.

It follows the project's Gong API notes (gong-api.md; "§n" below cites its sections): Basic and
Bearer auth with per-endpoint scopes, a leaky-bucket rate limit and a daily quota answering 429
with Retry-After, opaque cursors bound to their filter, fixed pages of 100, Gong's 404 texts for
empty results and unknown calls, and queued faults (errors, dropped or truncated replies).

    with GongEmulator(rate_limit_per_second=3) as emu:
        emu.add_calls(seed_calls(250))
        emu.inject(Fault("status", path="/v2/calls", status=500))
        ...  # point the tap at emu.url

Run it as a script for manual or benchmark use: ``python tests/gong_emulator.py --help``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import dataclasses
import email.utils
import hashlib
import json
import math
import re
import secrets
import signal
import socket
import string
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Final, TypeVar
from urllib.parse import parse_qsl, urlsplit

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

Call = dict[str, Any]
T = TypeVar("T")

PAGE_SIZE: Final = 100
SCOPE_BASIC: Final = "api:calls:read:basic"
SCOPE_EXTENSIVE: Final = "api:calls:read:extensive"
ALL_SCOPES: Final = frozenset({SCOPE_BASIC, SCOPE_EXTENSIVE})
NO_CALLS_FOUND: Final = "No calls found corresponding to the provided filters"
RATE_LIMITED: Final = "API request limit exceeded"
DEFAULT_WORKSPACE_ID: Final = "623457276584334"
SEED_ID_BASE: Final = 7_000_000_000_000_000_000
JSON_CONTENT_TYPE: Final = "application/json; charset=utf-8"
FAULT_KINDS: Final = frozenset(
    {"status", "rate_limit", "reset", "truncated", "slow", "not_json", "json_body"}
)
RETRY_AFTER_STYLES: Final = frozenset({"float", "int", "http-date", "none"})

_GONG_ID = re.compile(r"[0-9]{1,20}")
_REQUEST_ID_ALPHABET = string.digits + string.ascii_lowercase
_ERROR_MESSAGES = {
    400: "Malformed request",
    401: "Access denied",
    403: "Access denied",
    429: RATE_LIMITED,
    500: "Failed to complete the operation due to an unexpected error",
}
_EARLIEST = datetime.min.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class RequestRecord:
    """One request as the emulator saw it; `status` is 0 when a fault dropped the connection."""

    method: str
    path: str
    query: dict[str, str]
    body: Any | None
    authorization: str | None
    started_at: float
    status: int
    fault: str | None
    retry_after: str | None = None  # the Retry-After header sent, if any
    request_id: str | None = None  # the requestId (x-traceid) of the reply, if one was sent


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


def _new_request_id() -> str:
    return "".join(secrets.choice(_REQUEST_ID_ALPHABET) for _ in range(19))


@dataclass
class _Reply:
    status: int
    body: str
    content_type: str = JSON_CONTENT_TYPE
    retry_after: str | None = None
    request_id: str = dataclasses.field(default_factory=_new_request_id)


def _status_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:  # a fault may use any code, standard or not
        return "Error"


class _ApiError(Exception):
    """Raised anywhere while answering; becomes a Gong ErrorResponse."""

    def __init__(self, status: int, message: str | None = None, retry_after: str | None = None):
        self.status = status
        self.message = message or _ERROR_MESSAGES.get(status) or _status_phrase(status)
        self.retry_after = retry_after
        super().__init__(self.message)


def _json_reply(status: int, payload: dict[str, Any], retry_after: str | None = None) -> _Reply:
    reply = _Reply(status, "", retry_after=retry_after)
    # Gong puts requestId first and echoes it in x-traceid.
    reply.body = json.dumps({"requestId": reply.request_id, **payload}, separators=(",", ":"))
    return reply


def _error_reply(error: _ApiError) -> _Reply:
    return _json_reply(error.status, {"errors": [error.message]}, error.retry_after)


def _parse_time(value: object) -> datetime | None:
    """An aware datetime, or None for anything else (absent, junk, or without an offset)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _parse_bound(value: object) -> datetime | None:
    """Read a fromDateTime/toDateTime request value; absent or null means an open range."""
    if value is None:
        return None
    parsed = _parse_time(value)
    if parsed is None:
        # A bound without an offset is ambiguous; rejecting it catches taps that drop the zone.
        raise _ApiError(400)
    return parsed


class _Window:
    def __init__(self, start: object, end: object) -> None:
        self.start, self.end = _parse_bound(start), _parse_bound(end)

    def contains(self, moment: datetime | None) -> bool:
        if moment is None:
            return self.start is None and self.end is None
        return (self.start is None or moment >= self.start) and (
            self.end is None or moment < self.end
        )


def _list_filter_time(call: Call) -> datetime | None:
    # GET /v2/calls dates web-conference calls by their scheduled time, others by start (§4).
    if call.get("meetingUrl") and call.get("scheduled"):
        return _parse_time(call["scheduled"])
    return _parse_time(call.get("started"))


def _start_time(call: Call) -> datetime | None:
    return _parse_time(call.get("started"))


def _filter_hash(endpoint: str, params: object) -> str:
    canonical = json.dumps([endpoint, params], sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _encode_cursor(offset: int, filter_hash: str) -> str:
    raw = json.dumps({"offset": offset, "filter": filter_hash}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: object, filter_hash: str) -> int:
    # Binding the cursor to the filter catches clients that change inputs between pages,
    # which Gong forbids ("All other request inputs should remain the same").
    if not isinstance(cursor, str):
        raise _ApiError(400)
    try:
        state = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        offset, bound_to = state["offset"], state["filter"]
    except (ValueError, TypeError, KeyError):
        raise _ApiError(400) from None
    if bound_to != filter_hash or not isinstance(offset, int) or offset < 0:
        raise _ApiError(400)
    return offset


def _paginate(
    matched: list[Call], cursor: object, filter_hash: str
) -> tuple[dict[str, Any], list[Call]]:
    offset = _decode_cursor(cursor, filter_hash) if cursor else 0
    page = matched[offset : offset + PAGE_SIZE]
    if not page:
        raise _ApiError(404, NO_CALLS_FOUND)
    records: dict[str, Any] = {
        "totalRecords": len(matched),
        "currentPageSize": len(page),
        "currentPageNumber": offset // PAGE_SIZE,
    }
    if offset + len(page) < len(matched):
        records["cursor"] = _encode_cursor(offset + len(page), filter_hash)
    return records, page


def _id_list(value: object, limit: int | None = None) -> set[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(
        isinstance(item, str) and _GONG_ID.fullmatch(item) for item in value
    ):
        raise _ApiError(400)
    if limit is not None and len(value) > limit:
        raise _ApiError(400, f"Too many call IDs: at most {limit} are allowed per request")
    return set(value)


class _LeakyBucket:
    """Admits `rate` requests per second with a burst of max(1, rate).

    Refused requests take nothing from the bucket, as with Gong, so a client that waits the
    advertised Retry-After is let through.
    """

    def __init__(self, rate: float) -> None:
        self._rate = rate
        self._capacity = max(1.0, rate)
        self._tokens = self._capacity
        self._updated = time.monotonic()

    def take(self) -> float:
        """Take a token and return 0.0, or return the seconds until one will be available."""
        now = time.monotonic()
        self._tokens = min(self._capacity, self._tokens + (now - self._updated) * self._rate)
        self._updated = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self._rate


class GongEmulator:
    """Serves Gong's /v2/calls endpoints over real HTTP from an in-memory set of calls.

    Each request goes through: log -> queued fault -> daily quota and rate limit -> auth ->
    routing -> scope -> endpoint. All public methods are thread-safe and usable while serving.
    """

    def __init__(
        self,
        access_key: str = "key",
        access_key_secret: str = "secret",
        *,
        access_token: str | None = None,
        scopes: frozenset[str] = ALL_SCOPES,
        scope_denied_status: int = 403,
        rate_limit_per_second: float | None = None,
        retry_after_style: str = "float",
        daily_quota: int | None = None,
        quota_retry_after: float = 4 * 3600,
        latency_seconds: float = 0.0,
        max_batch_ids: int = 100,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if scope_denied_status not in (401, 403):
            raise ValueError("scope_denied_status must be 401 or 403")
        if retry_after_style not in RETRY_AFTER_STYLES:
            raise ValueError(f"retry_after_style must be one of {sorted(RETRY_AFTER_STYLES)}")
        if rate_limit_per_second is not None and rate_limit_per_second <= 0:
            raise ValueError("rate_limit_per_second must be positive (or None for no limit)")
        self.access_key, self.access_key_secret = access_key, access_key_secret
        self.access_token = access_token
        self.scopes = frozenset(scopes)
        self.scope_denied_status = scope_denied_status
        self.retry_after_style = retry_after_style
        self.daily_quota, self.quota_retry_after = daily_quota, quota_retry_after
        self.latency_seconds = latency_seconds
        self.max_batch_ids = max_batch_ids
        self.host, self.port = host, port
        self._lock = threading.Lock()
        self._calls: dict[str, Call] = {}
        self._faults: list[Fault] = []
        self._log: list[RequestRecord] = []
        self._bucket = _LeakyBucket(rate_limit_per_second) if rate_limit_per_second else None
        self._admitted = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> GongEmulator:
        if self._server is not None:
            raise RuntimeError("emulator already started")
        self._server = _Server((self.host, self.port), self)
        # A short poll interval keeps stop() prompt.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="gong-emulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.drop_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> GongEmulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("emulator not started")
        return f"http://{self.host}:{self._server.server_port}"

    # -- test controls -----------------------------------------------------------------------

    def add_call(self, call: Call) -> None:
        with self._lock:
            self._calls[str(call["id"])] = dict(call)

    def add_calls(self, calls: Iterable[Call]) -> None:
        for call in calls:
            self.add_call(call)

    def remove_call(self, call_id: str) -> None:
        with self._lock:
            self._calls.pop(call_id, None)

    @property
    def calls(self) -> dict[str, Call]:
        with self._lock:
            return {call_id: dict(call) for call_id, call in self._calls.items()}

    def inject(self, *faults: Fault) -> None:
        """Queue faults; each request takes the first queued fault matching its method and path."""
        with self._lock:
            self._faults.extend(dataclasses.replace(fault) for fault in faults)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def requests(self) -> list[RequestRecord]:
        # Records are written when answered; sorting restores arrival order under concurrency.
        with self._lock:
            return sorted(self._log, key=lambda record: record.started_at)

    def reset_log(self) -> None:
        with self._lock:
            self._log.clear()

    # -- request pipeline (called from handler threads) --------------------------------------

    def _record(self, record: RequestRecord) -> None:
        with self._lock:
            self._log.append(record)

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    if fault.times > 0:
                        fault.times -= 1
                        if fault.times == 0:
                            self._faults.remove(fault)
                    return fault
        return None

    @staticmethod
    def _fault_reply(fault: Fault) -> _Reply | None:
        """The canned answer of a fault, or None when the fault only alters the real answer."""
        if fault.kind == "status":
            status = fault.status or 500
            if fault.body is not None:
                return _Reply(status, fault.body, "text/html; charset=utf-8", fault.retry_after)
            return _error_reply(_ApiError(status, retry_after=fault.retry_after))
        if fault.kind == "rate_limit":
            return _error_reply(_ApiError(429, retry_after=fault.retry_after))
        if fault.kind == "not_json":
            return _Reply(200, fault.body or "<html>oops</html>")
        if fault.kind == "json_body":
            return _Reply(200, fault.body if fault.body is not None else "{}")
        return None

    def _answer(self, request: RequestRecord, *, enforce_access: bool = True) -> _Reply:
        try:
            if enforce_access:
                self._admit()
                self._authenticate(request.authorization)
            scope, endpoint = self._route(request)
            if enforce_access:
                self._check_scope(scope)
            return _json_reply(200, endpoint(request))
        except _ApiError as error:
            return _error_reply(error)

    def _admit(self) -> None:
        with self._lock:
            if self.daily_quota is not None and self._admitted >= self.daily_quota:
                raise _ApiError(429, retry_after=self._retry_after(self.quota_retry_after))
            wait = self._bucket.take() if self._bucket else 0.0
            if wait > 0:
                raise _ApiError(429, retry_after=self._retry_after(wait))
            self._admitted += 1

    def _retry_after(self, seconds: float) -> str | None:
        # Always round up: a client that waits exactly this long must find a free slot.
        if self.retry_after_style == "none":
            return None
        if self.retry_after_style == "int":
            return str(max(1, math.ceil(seconds)))
        if self.retry_after_style == "http-date":
            return email.utils.formatdate(math.ceil(time.time() + seconds), usegmt=True)
        return f"{max(0.001, math.ceil(seconds * 1000) / 1000):.3f}"

    def _authenticate(self, header: str | None) -> None:
        scheme, _, credentials = (header or "").partition(" ")
        credentials = credentials.strip()
        expected: str | None = None
        if scheme.lower() == "basic":
            pair = f"{self.access_key}:{self.access_key_secret}".encode()
            expected = base64.b64encode(pair).decode()
        elif scheme.lower() == "bearer":
            expected = self.access_token
        if expected is None or not secrets.compare_digest(credentials.encode(), expected.encode()):
            raise _ApiError(401)

    def _check_scope(self, scope: str) -> None:
        if scope not in self.scopes:
            raise _ApiError(self.scope_denied_status)

    def _route(
        self, request: RequestRecord
    ) -> tuple[str, Callable[[RequestRecord], dict[str, Any]]]:
        method, path = request.method, request.path
        if method == "GET" and path == "/v2/calls":
            return SCOPE_BASIC, self._list_calls
        if method == "POST" and path == "/v2/calls/extensive":
            return SCOPE_EXTENSIVE, self._extensive_calls
        if method == "GET" and path.startswith("/v2/calls/") and path.count("/") == 3:
            return SCOPE_BASIC, self._get_call
        raise _ApiError(404, f"No such endpoint: {method} {path}")

    # -- endpoints ---------------------------------------------------------------------------

    def _get_call(self, request: RequestRecord) -> dict[str, Any]:
        call_id = request.path.rsplit("/", 1)[1]
        if not _GONG_ID.fullmatch(call_id):
            raise _ApiError(400)
        with self._lock:
            call = self._calls.get(call_id)
        if call is None:
            raise _ApiError(404, f"Call ID {call_id} was not found")
        return {"call": call}

    def _list_calls(self, request: RequestRecord) -> dict[str, Any]:
        params = {
            key: request.query.get(key) for key in ("fromDateTime", "toDateTime", "workspaceId")
        }
        window = _Window(params["fromDateTime"], params["toDateTime"])
        matched = self._select(lambda call: window.contains(_list_filter_time(call)), params)
        filter_hash = _filter_hash("GET /v2/calls", params)
        records, page = _paginate(matched, request.query.get("cursor"), filter_hash)
        return {"records": records, "calls": page}

    def _extensive_calls(self, request: RequestRecord) -> dict[str, Any]:
        # Only the body cursor counts: a ?cursor= on this POST is ignored, as Gong does (§5).
        body = request.body
        if not isinstance(body, dict) or not isinstance(body.get("filter"), dict):
            raise _ApiError(400)
        filters: dict[str, Any] = body["filter"]
        call_ids = _id_list(filters.get("callIds"), self.max_batch_ids)
        user_ids = _id_list(filters.get("primaryUserIds"))
        selector = body.get("contentSelector") or {}
        if not isinstance(selector, dict) or (
            selector.get("contextTiming") and selector.get("context") != "Extended"
        ):
            raise _ApiError(400)  # contextTiming is only allowed with context=Extended (§5)
        window = _Window(filters.get("fromDateTime"), filters.get("toDateTime"))

        def wanted(call: Call) -> bool:
            return (
                (call_ids is None or call.get("id") in call_ids)
                and (user_ids is None or call.get("primaryUserId") in user_ids)
                and window.contains(_start_time(call))
            )

        matched = self._select(wanted, filters)
        filter_hash = _filter_hash("POST /v2/calls/extensive", filters)
        records, page = _paginate(matched, body.get("cursor"), filter_hash)
        return {"records": records, "calls": [{"metaData": call} for call in page]}

    def _select(self, wanted: Callable[[Call], bool], filters: dict[str, Any]) -> list[Call]:
        workspace_id = filters.get("workspaceId")
        with self._lock:
            calls = list(self._calls.values())
        matched = [
            call
            for call in calls
            if (workspace_id is None or call.get("workspaceId") == workspace_id) and wanted(call)
        ]
        # Oldest first by real instant, not by string: calls carry mixed UTC offsets.
        matched.sort(key=lambda call: (_start_time(call) or _EARLIEST, str(call.get("id"))))
        return matched


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], emulator: GongEmulator) -> None:
        self.emulator = emulator
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def track(self, connection: socket.socket, is_open: bool) -> None:
        with self._connections_lock:
            if is_open:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up mid-reply (read timeouts, closed pools) are routine, not errors.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def drop_connections(self) -> None:
        # Idle keep-alive connections would otherwise keep being served after stop().
        with self._connections_lock:
            for connection in self._connections:
                with contextlib.suppress(OSError):  # already closed by the client
                    connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every reply carries a Content-Length
    server_version = "cloudflare"  # what real Gong responses show
    sys_version = ""
    # Headers and body go out in two writes; with Nagle's algorithm the body would wait for the
    # client's delayed ACK (~40 ms), and a 429 would reach the tap that much after it was sent.
    disable_nagle_algorithm = True
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def parse_request(self) -> bool:
        self._started_at = time.monotonic()
        return super().parse_request()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the request log is emulator.requests; stderr noise would drown test output

    def _handle(self) -> None:
        emulator = self.server.emulator
        request = self._read_request()
        if emulator.latency_seconds > 0:
            time.sleep(emulator.latency_seconds)
        fault = emulator._take_fault(request.method, request.path)
        kind = fault.kind if fault else None
        if kind == "reset":
            emulator._record(dataclasses.replace(request, fault=kind))
            self.close_connection = True  # hang up without a byte: the client sees a dropped link
            return
        if fault is not None and kind == "slow":
            time.sleep(fault.delay)
        reply = emulator._fault_reply(fault) if fault else None
        if reply is None:
            reply = emulator._answer(request, enforce_access=kind != "truncated")
        if kind == "truncated":
            reply.status = 200
        # Log before replying, so a client that just got its answer always finds it logged.
        emulator._record(
            dataclasses.replace(
                request,
                status=reply.status,
                fault=kind,
                retry_after=reply.retry_after,
                request_id=reply.request_id,
            )
        )
        self._send(reply, truncate=kind == "truncated")

    # BaseHTTPRequestHandler dispatches on these names; every method takes the same pipeline.
    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle  # noqa: N815

    def _read_request(self) -> RequestRecord:
        """The request as a record with no outcome yet (status 0); `_handle` fills that in."""
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        url = urlsplit(self.path)
        return RequestRecord(
            method=self.command,
            path=url.path,
            query=dict(parse_qsl(url.query, keep_blank_values=True)),
            body=body,
            authorization=self.headers.get("Authorization"),
            started_at=self._started_at,
            status=0,
            fault=None,
        )

    def _send(self, reply: _Reply, *, truncate: bool) -> None:
        self.send_response(reply.status)
        payload = reply.body.encode()
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-traceid", reply.request_id)
        self.send_header("x-gong-service-version", "PublicApiServer:emulator")
        if reply.retry_after is not None:
            self.send_header("Retry-After", reply.retry_after)
        self.end_headers()
        if truncate:
            # Promise the whole body, deliver half, hang up: an IncompleteRead for the client.
            payload = payload[: len(payload) // 2]
            self.close_connection = True
        self.wfile.write(payload)


# -- realistic data ------------------------------------------------------------------------


ABSENT: Final = object()
"""Pass as a make_call override to drop that key from the call entirely."""

_CONFERENCE_SYSTEMS = {
    "Zoom": "https://zoom.us/j/{n}",
    "WebEx": "https://acme.webex.com/meet/{n}",
    "Google Meet": "https://meet.google.com/{n}",
}


class _CallMaker:
    """`make_call(call_id, started, **overrides)`: a full CallBasicData (all 20 fields of §3).

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

# Cycle through the timestamp shapes Gong emits (§2), so taps must compare instants, not strings.
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
    origin = _parse_time(start) if isinstance(start, str) else start
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


# -- command line --------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve an emulated Gong calls API.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--calls", type=int, default=300, help="number of calls to seed")
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
    args = parser.parse_args(argv)

    emulator = GongEmulator(
        access_key=args.access_key,
        access_key_secret=args.access_key_secret,
        access_token=args.access_token,
        scopes=frozenset({SCOPE_BASIC}) if args.no_extensive_scope else ALL_SCOPES,
        rate_limit_per_second=args.rate_limit or None,
        retry_after_style=args.retry_after_style,
        daily_quota=args.daily_quota,
        latency_seconds=args.latency,
        host=args.host,
        port=args.port,
    )
    emulator.add_calls(seed_calls(args.calls, args.start, timedelta(minutes=args.spacing_minutes)))

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


if __name__ == "__main__":
    sys.exit(main())
