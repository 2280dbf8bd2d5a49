"""Gong's calls endpoints, as the extraction asks them: pages of calls or transcripts, one call.

A refusal (401/403) of extensive or transcript is explained as the missing scope it usually
is: one request that needs no extra scope tells the two apart.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from singer_sdk.exceptions import FatalAPIError

from tap_gong_calls.gong.api import BY_ID, EXTENSIVE, LISTING, TRANSCRIPT, call_id, callid_of
from tap_gong_calls.gong.errors import BadResponseError, GongAuthError, NotFoundError
from tap_gong_calls.gong.paging import paginate
from tap_gong_calls.timestamps import format_utc

if TYPE_CHECKING:
    import datetime
    from collections.abc import Iterator, Sequence

    from tap_gong_calls.gong.api import Endpoint
    from tap_gong_calls.gong.client import GongClient
    from tap_gong_calls.gong.paging import Item, JSONBody, Page


class ExtensiveRefusedError(Exception):
    """POST /v2/calls/extensive answered 401/403 where per-id lookups could stand in."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class CallsApi:
    """The calls endpoints through the run's client, for one workspace and one set of streams.

    ``content_selector``: what extensive exposes (None: metaData only); ``block_streams``: the
    selected streams only extensive serves, named when its scope is missing.
    """

    def __init__(
        self,
        client: GongClient,
        *,
        content_selector: dict[str, Any] | None = None,
        block_streams: Sequence[str] = (),
        workspace_id: str | None = None,
    ) -> None:
        self.client = client
        self.content_selector = content_selector
        self.block_streams = list(block_streams)
        self.workspace_id = workspace_id

    def range_filter(self, start: datetime.datetime, end: datetime.datetime) -> dict[str, str]:
        """The filter of the calls started in ``[start, end)`` (of the workspace, if one)."""
        filters = {"fromDateTime": format_utc(start), "toDateTime": format_utc(end)}
        if self.workspace_id:
            filters["workspaceId"] = self.workspace_id
        return filters

    def pages(self, endpoint: Endpoint, filters: dict[str, Any]) -> Iterator[Page]:
        """Each page of ``endpoint`` for ``filters``, its items checked for their ids.

        Listed calls come as extensive items (``{"metaData": call}``), and extensive asks for
        exactly the blocks the selected streams need.
        """
        if endpoint.cursor_in == "query":
            pages = paginate(self.client, endpoint, params=filters)
        else:
            body: JSONBody = {"filter": filters}
            if endpoint == EXTENSIVE and self.content_selector:
                body["contentSelector"] = self.content_selector
            pages = paginate(self.client, endpoint, body=body)
        try:
            for listed in pages:
                page = listed
                if endpoint == LISTING:
                    page = replace(page, items=[{"metaData": call} for call in page.items])
                for item in page.items:  # the shape, checked early, with a clear message
                    _ = callid_of(item) if endpoint == TRANSCRIPT else call_id(item, endpoint)
                yield page
        except GongAuthError as exc:
            if endpoint == LISTING:
                raise
            if endpoint == EXTENSIVE and not self.block_streams:
                raise ExtensiveRefusedError(exc.status) from None
            raise self._scope_error(exc, endpoint) from None

    def items(self, endpoint: Endpoint, filters: dict[str, Any]) -> list[Item]:
        """Every item of every page."""
        return [item for page in self.pages(endpoint, filters) for item in page.items]

    def transcripts(self, call_ids: Sequence[str]) -> tuple[list[Item], int]:
        """The transcripts Gong has of ``call_ids``, and the bytes of JSON they came in."""
        found: list[Item] = []
        size = 0
        if call_ids:
            for page in self.pages(TRANSCRIPT, {"callIds": list(call_ids)}):
                found.extend(page.items)
                size += page.size
        return found, size

    def get_call(self, call_id: str) -> JSONBody | None:
        """One call by id, or None when Gong says it does not exist (yet)."""
        path = BY_ID.path.format(id=call_id)
        try:
            body = self.client.request_json(BY_ID.method, path)
        except NotFoundError as exc:
            if BY_ID.says_empty(exc.gong_messages):
                return None
            raise FatalAPIError(
                f"{exc}: not Gong's answer for a missing call. Check api_url "
                f"({self.client.url_base})."
            ) from exc
        call = body.get("call")
        if not isinstance(call, dict):
            raise BadResponseError(f"Gong answered GET {path} without a 'call' object")
        return call

    def _scope_error(self, refusal: GongAuthError, endpoint: Endpoint) -> FatalAPIError:
        """The refusal of one endpoint, explained: a missing scope, or wrong credentials."""
        # If the check is refused too, its error (about the credentials) is the one to show.
        self.client.check_access()
        streams = self.block_streams if endpoint == EXTENSIVE else ["call_transcripts"]
        # Meltano's first `meltano select` replaces its default of every stream, and an
        # --exclude alone selects nothing (docs/meltano.md): the message says both ways.
        exclude = "; ".join(f"meltano select tap-gong-calls --exclude {n} '*'" for n in streams)
        return FatalAPIError(
            f"Gong refused {endpoint} (HTTP {refusal.status}) while the credentials work for "
            f"{LISTING}: the key lacks the {endpoint.scope} scope, which the selected "
            f"stream(s) {', '.join(streams)} need. Grant that scope to the key in Gong, or "
            f"deselect them: select the streams to keep (meltano select tap-gong-calls calls "
            f"'*'), or add {exclude} to a select list that has them; or selected: false in "
            f"the catalog."
        )
