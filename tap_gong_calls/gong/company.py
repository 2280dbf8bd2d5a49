"""The company's tables beside the calls: users, workspaces, trackers, scorecards, reviews.

Each is one endpoint of the table in api.py, read a page at a time (or whole, when Gong does not
page it). A refusal (401/403) is explained as the missing scope it usually is, naming the
stream that needs it, as the calls endpoints do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from singer_sdk.exceptions import FatalAPIError

from tap_gong_calls.gong.api import LISTING
from tap_gong_calls.gong.errors import GongAuthError, NotFoundError
from tap_gong_calls.gong.paging import paginate, records_in

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tap_gong_calls.gong.api import Endpoint
    from tap_gong_calls.gong.client import GongClient
    from tap_gong_calls.gong.paging import Item, JSONBody


class CompanyApi:
    """The table endpoints through the run's client."""

    def __init__(self, client: GongClient) -> None:
        self.client = client

    def pages(
        self,
        endpoint: Endpoint,
        stream: str,
        *,
        params: dict[str, str] | None = None,
        body: JSONBody | None = None,
    ) -> Iterator[list[Item]]:
        """The records of each page of ``endpoint``, which serves ``stream``."""
        try:
            if endpoint.cursor_in is None:
                yield self._whole(endpoint, params)
                return
            for page in paginate(self.client, endpoint, params=params, body=body):
                yield page.items
        except GongAuthError as exc:
            raise self._scope_error(exc, endpoint, stream) from None

    def _whole(self, endpoint: Endpoint, params: dict[str, str] | None) -> list[Item]:
        try:
            answer = self.client.request_json(endpoint.method, endpoint.path, params=params)
        except NotFoundError as exc:
            if endpoint.says_empty(exc.gong_messages):
                return []
            raise
        return records_in(answer, endpoint)

    def _scope_error(self, refusal: GongAuthError, endpoint: Endpoint, stream: str) -> Exception:
        """The refusal explained: a missing scope, or (if the check fails too) credentials."""
        self.client.check_access()
        return FatalAPIError(
            f"Gong refused {endpoint} (HTTP {refusal.status}) while the credentials work for "
            f"{LISTING}: the key lacks the {endpoint.scope} scope, which the selected stream "
            f"{stream} needs. Grant that scope to the key in Gong, or deselect it (meltano "
            f"select tap-gong-calls --exclude {stream} '*'; or selected: false in the catalog)."
        )
