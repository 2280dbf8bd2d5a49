"""GongEmulator: the public face. Configuration, lifecycle, test controls, and the pipeline each
request takes: log -> queued fault -> daily quota and rate limit -> auth -> routing -> scope ->
endpoint."""

from __future__ import annotations

import base64
import secrets
import threading
from typing import TYPE_CHECKING, Any

from .faults import Fault, FaultQueue
from .org_controls import OrgControls
from .org_routes import OrgRouter
from .org_store import OrgStore
from .protocol import (
    ALL_SCOPES,
    DEFAULT_COMPANY_TIME_ZONE,
    ApiError,
    Call,
    Reply,
    RequestRecord,
    error_reply,
    json_reply,
)
from .rate_limit import Admission
from .routes import Router
from .selector import FULL_SELECTOR, check_selector
from .server import Server
from .store import CallStore
from .transcript import DEFAULT_TRANSCRIPT_BYTES, Transcript

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping


class GongEmulator(OrgControls):
    """Serves Gong's /v2/calls endpoints over real HTTP from an in-memory set of calls, and the
    users, workspaces, settings and answered scorecards beside them (org_controls.py, §17-§21).

    All public methods are thread-safe and usable while serving. Every client with valid
    credentials (see `add_client`) shares one rate limit and one daily quota, as a company does
    (§8). `variety=True` serves data drifting from the documentation (variety.py, §13);
    `nul_characters=True` puts NULs and lone surrogates into the text of even-numbered calls, and
    `numeric_ids=True` sends the ids of odd-numbered calls as JSON integers (quirks.py, §16).
    `company_time_zone` is the zone whose days the answered-scorecard filters read (§21).
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
        latency_by_path: Mapping[str, float] | None = None,
        max_batch_ids: int = 100,
        transcript_page_size: int = 100,
        transcript_bytes: int = DEFAULT_TRANSCRIPT_BYTES,
        variety: bool = False,
        nul_characters: bool = False,
        numeric_ids: bool = False,
        company_time_zone: str = DEFAULT_COMPANY_TIME_ZONE,
        host: str = "127.0.0.1",
        port: int = 0,
        clock_offset_seconds: float = 0.0,
    ) -> None:
        if scope_denied_status not in (401, 403):
            raise ValueError("scope_denied_status must be 401 or 403")
        if transcript_page_size < 1:
            raise ValueError("transcript_page_size must be at least 1")
        self._admission = Admission(
            rate_limit_per_second, daily_quota, quota_retry_after, retry_after_style
        )
        self.access_key, self.access_key_secret = access_key, access_key_secret
        self.access_token = access_token
        self.scopes = frozenset(scopes)
        self.scope_denied_status = scope_denied_status
        self.latency_seconds = latency_seconds
        self.latency_by_path = dict(latency_by_path or {})
        self.host, self.port = host, port
        # Added to the Date header of every reply: a server clock behind (or ahead of) ours.
        self.clock_offset_seconds = clock_offset_seconds
        self._clients: dict[str, str] = {}
        self._lock = threading.Lock()
        self._log: list[RequestRecord] = []
        self._faults = FaultQueue()
        self._store = CallStore(transcript_bytes, variety=variety, nul_characters=nul_characters)
        self._router = Router(
            self._store,
            max_batch_ids=max_batch_ids,
            transcript_page_size=transcript_page_size,
            numeric_ids=numeric_ids,
        )
        self._org = OrgStore(company_time_zone)
        self._org_router = OrgRouter(self._org)
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    # -- settings that tests change while serving ----------------------------------------------

    @property
    def daily_quota(self) -> int | None:
        return self._admission.daily_quota

    @daily_quota.setter
    def daily_quota(self, value: int | None) -> None:
        self._admission.daily_quota = value

    @property
    def retry_after_style(self) -> str:
        return self._admission.retry_after_style

    @property
    def max_batch_ids(self) -> int:
        return self._router.max_batch_ids

    @property
    def transcript_page_size(self) -> int:
        return self._router.transcript_page_size

    def latency_for(self, path: str) -> float:
        """Seconds to wait before answering `path`: its latency_by_path entry, else the default."""
        return self.latency_by_path.get(path, self.latency_seconds)

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> GongEmulator:
        if self._server is not None:
            raise RuntimeError("emulator already started")
        self._server = Server((self.host, self.port), self)
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

    # -- calls and what the server holds about them --------------------------------------------

    def add_call(self, call: Call) -> None:
        self._store.add(call)

    def add_calls(self, calls: Iterable[Call]) -> None:
        for call in calls:
            self.add_call(call)

    def remove_call(self, call_id: str) -> None:
        self._store.remove(call_id)

    @property
    def calls(self) -> dict[str, Call]:
        return self._store.copy()

    def set_transcript_ready(self, call_id: str, ready: bool) -> None:
        """A call whose transcript is not ready is left out of transcript answers silently."""
        self._store.set_transcript_ready(call_id, ready)

    def set_transcript_bytes(self, call_id: str, size: int | None) -> None:
        """Generate this call's transcript at about `size` bytes (None: the emulator default)."""
        self._store.set_transcript_bytes(call_id, size)

    def set_extensive(self, call_id: str, blocks: Mapping[str, Any] | None) -> None:
        """Serve these blocks (context, parties, content, interaction, collaboration) for the
        call instead of generated ones; a block left out is absent even when requested.
        None goes back to generated blocks."""
        self._store.set_blocks(call_id, None if blocks is None else dict(blocks))

    def set_transcript(self, call_id: str, transcript: Transcript | None) -> None:
        """Serve this transcript for the call instead of a generated one (None: generated)."""
        self._store.set_transcript(call_id, transcript)

    def extensive_of(
        self, call_id: str, content_selector: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """The CallData the server sends for the call under `content_selector` (default: every
        block, context Extended), ids as integers where `numeric_ids` sends them so. Media URLs
        are re-signed per request, so never compare them."""
        call = self._store.get(call_id)
        if call is None:
            raise KeyError(call_id)
        selector = check_selector(dict(content_selector or FULL_SELECTOR))
        return self._router.call_data(call, selector)

    def transcript_of(self, call_id: str) -> Transcript | None:
        """The transcript the server sends for the call; None if unknown or not ready."""
        call = self._store.get(call_id)
        return None if call is None else self._store.transcript(call)

    # -- clients, faults, log ------------------------------------------------------------------

    def add_client(self, access_key: str, access_key_secret: str) -> None:
        """Accept another API key of the same company: it shares the rate limit and quota."""
        with self._lock:
            self._clients[access_key] = access_key_secret

    def inject(self, *faults: Fault) -> None:
        """Queue faults; each request takes the first queued fault matching its method and path."""
        self._faults.extend(faults)

    def clear_faults(self) -> None:
        self._faults.clear()

    @property
    def requests(self) -> list[RequestRecord]:
        # Records are written when answered; sorting restores arrival order under concurrency.
        with self._lock:
            return sorted(self._log, key=lambda record: record.started_at)

    def reset_log(self) -> None:
        with self._lock:
            self._log.clear()

    # -- request pipeline (called from handler threads) ----------------------------------------

    def _record(self, record: RequestRecord) -> None:
        with self._lock:
            self._log.append(record)

    def _take_fault(self, request: RequestRecord) -> Fault | None:
        return self._faults.take(request)

    def _answer(self, request: RequestRecord, *, enforce_access: bool = True) -> Reply:
        try:
            if enforce_access:
                self._admission.admit()
                self._authenticate(request.authorization)
            scopes, endpoint = self._org_router.route(request) or self._router.route(request)
            if enforce_access:
                self._check_scopes(scopes)
            return json_reply(200, endpoint(request))
        except ApiError as error:
            return error_reply(error)

    def _check_scopes(self, needed: tuple[str, ...]) -> None:
        if not self.scopes.issuperset(needed):
            raise ApiError(self.scope_denied_status)

    def _authenticate(self, header: str | None) -> None:
        scheme, _, credentials = (header or "").partition(" ")
        given = credentials.strip().encode()
        if scheme.lower() == "bearer":
            valid = self.access_token is not None and secrets.compare_digest(
                given, self.access_token.encode()
            )
        elif scheme.lower() == "basic":
            with self._lock:
                pairs = [(self.access_key, self.access_key_secret), *self._clients.items()]
            valid = any(
                secrets.compare_digest(given, base64.b64encode(f"{k}:{s}".encode()))
                for k, s in pairs
            )
        else:
            valid = False
        if not valid:
            raise ApiError(401)
