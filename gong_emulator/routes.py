"""The endpoints: which scope each needs, its request checks, filters and the page it returns."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .paging import Window, body_filter, filter_hash, id_list, list_filter_time, paginate
from .protocol import (
    GONG_ID,
    PAGE_SIZE,
    SCOPE_BASIC,
    SCOPE_EXTENSIVE,
    SCOPE_MEDIA_URL,
    SCOPE_TRANSCRIPT,
    ApiError,
    Call,
    RequestRecord,
    start_time,
)
from .quirks import numeric_call, numeric_call_data, transcript_call_id
from .selector import Selector, check_selector, render, wants_media

if TYPE_CHECKING:
    from .store import CallStore

Endpoint = Callable[[RequestRecord], dict[str, Any]]


class Router:
    def __init__(
        self,
        store: CallStore,
        *,
        max_batch_ids: int,
        transcript_page_size: int,
        numeric_ids: bool = False,
    ) -> None:
        self.store = store
        self.max_batch_ids = max_batch_ids
        self.transcript_page_size = transcript_page_size
        self.numeric_ids = numeric_ids  # some ids as JSON integers (quirks.py, §16)

    def route(self, request: RequestRecord) -> tuple[tuple[str, ...], Endpoint]:
        """The scopes the request needs and the endpoint answering it (404 for no endpoint)."""
        method, path = request.method, request.path
        if method == "GET" and path == "/v2/calls":
            return (SCOPE_BASIC,), self.list_calls
        if method == "POST" and path == "/v2/calls/extensive":
            # Media URLs need a scope of their own on top of the extensive one (§2).
            media = (SCOPE_MEDIA_URL,) if wants_media(request.body) else ()
            return (SCOPE_EXTENSIVE, *media), self.extensive_calls
        if method == "POST" and path == "/v2/calls/transcript":
            return (SCOPE_TRANSCRIPT,), self.transcripts
        if method == "GET" and path.startswith("/v2/calls/") and path.count("/") == 3:
            return (SCOPE_BASIC,), self.get_call
        raise ApiError(404, f"No such endpoint: {method} {path}")

    def get_call(self, request: RequestRecord) -> dict[str, Any]:
        call_id = request.path.rsplit("/", 1)[1]
        if not GONG_ID.fullmatch(call_id):
            raise ApiError(400)
        call = self.store.get(call_id)
        if call is None:
            raise ApiError(404, f"Call ID {call_id} was not found")
        return {"call": self.basic(call)}

    def list_calls(self, request: RequestRecord) -> dict[str, Any]:
        params = {
            key: request.query.get(key) for key in ("fromDateTime", "toDateTime", "workspaceId")
        }
        window = Window(params["fromDateTime"], params["toDateTime"])
        matched = self.store.select(
            lambda call: window.contains(list_filter_time(call)), params["workspaceId"]
        )
        bound_to = filter_hash("GET /v2/calls", params)
        records, page = paginate(matched, request.query.get("cursor"), bound_to, PAGE_SIZE)
        return {"records": records, "calls": [self.basic(call) for call in page]}

    def extensive_calls(self, request: RequestRecord) -> dict[str, Any]:
        # Only the body cursor counts: a ?cursor= on this POST is ignored, as Gong does (§6).
        body, filters = body_filter(request)
        call_ids = id_list(filters.get("callIds"), self.max_batch_ids)
        user_ids = id_list(filters.get("primaryUserIds"))
        selector = check_selector(body.get("contentSelector"))
        window = Window(filters.get("fromDateTime"), filters.get("toDateTime"))

        def wanted(call: Call) -> bool:
            return (
                (call_ids is None or call.get("id") in call_ids)
                and (user_ids is None or call.get("primaryUserId") in user_ids)
                and window.contains(start_time(call))
            )

        matched = self.store.select(wanted, filters.get("workspaceId"))
        bound_to = filter_hash("POST /v2/calls/extensive", filters)
        records, page = paginate(matched, body.get("cursor"), bound_to, PAGE_SIZE)
        return {"records": records, "calls": [self.call_data(call, selector) for call in page]}

    def transcripts(self, request: RequestRecord) -> dict[str, Any]:
        body, filters = body_filter(request)
        call_ids = id_list(filters.get("callIds"), self.max_batch_ids)
        window = Window(filters.get("fromDateTime"), filters.get("toDateTime"))

        def wanted(call: Call) -> bool:
            # Ids and dates intersect (§7); calls still being analysed are left out silently (§12).
            return (
                (call_ids is None or call.get("id") in call_ids)
                and window.contains(start_time(call))
                and self.store.transcript_ready(str(call["id"]))
            )

        matched = self.store.select(wanted, filters.get("workspaceId"))
        bound_to = filter_hash("POST /v2/calls/transcript", filters)
        records, page = paginate(matched, body.get("cursor"), bound_to, self.transcript_page_size)
        transcripts = [self.call_transcript(call) for call in page]
        return {"records": records, "callTranscripts": transcripts}

    # -- what a call looks like on the wire ----------------------------------------------------

    def basic(self, call: Call) -> Call:
        return numeric_call(call) if self.numeric_ids else call

    def call_data(self, call: Call, selector: Selector) -> dict[str, Any]:
        data = render(call, self.store.blocks(call), selector)
        return numeric_call_data(data) if self.numeric_ids else data

    def call_transcript(self, call: Call) -> dict[str, Any]:
        call_id = str(call["id"])
        served_id = transcript_call_id(call_id) if self.numeric_ids else call_id
        return {"callId": served_id, "transcript": self.store.transcript(call) or []}
