"""The HTTP layer: a threading server and a handler running each request through the emulator."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from .faults import fault_reply
from .protocol import Reply, RequestRecord

if TYPE_CHECKING:
    from .emulator import GongEmulator


class Server(ThreadingHTTPServer):
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
    server: Server

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

    def date_time_string(self, timestamp: float | None = None) -> str:
        # The Date header is Gong's clock, which need not agree with the client's.
        now = time.time() + self.server.emulator.clock_offset_seconds
        return super().date_time_string(now if timestamp is None else timestamp)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the request log is emulator.requests; stderr noise would drown test output

    def _handle(self) -> None:
        emulator = self.server.emulator
        request = self._read_request()
        latency = emulator.latency_for(request.path)
        if latency > 0:
            time.sleep(latency)
        fault = emulator._take_fault(request)
        kind = fault.kind if fault else None
        if kind == "reset":
            emulator._record(dataclasses.replace(request, fault=kind))
            self.close_connection = True  # hang up without a byte: the client sees a dropped link
            return
        if fault is not None and kind == "slow":
            time.sleep(fault.delay)
        reply = fault_reply(fault) if fault else None
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

    def _send(self, reply: Reply, *, truncate: bool) -> None:
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
