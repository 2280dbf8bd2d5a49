"""What the client needs of HTTP beside sending: authentication, and reading an answer."""

from __future__ import annotations

import email.utils
import re
from typing import TYPE_CHECKING, Any

from requests.auth import AuthBase, HTTPBasicAuth
from singer_sdk.exceptions import RetriableAPIError

from tap_gong_calls.gong.errors import BadResponseError, endpoint_of
from tap_gong_calls.timestamps import UTC

if TYPE_CHECKING:
    import datetime
    from collections.abc import Mapping

    import requests

JSONBody = dict[str, Any]


class BearerAuth(AuthBase):
    """``Authorization: Bearer <token>`` for an OAuth access token."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request


def authenticator(config: Mapping[str, Any]) -> AuthBase:
    if token := config.get("access_token"):
        return BearerAuth(token)
    return HTTPBasicAuth(config["access_key"], config["access_key_secret"])


def json_object(response: requests.Response) -> JSONBody:
    try:
        body = response.json()
    except ValueError as exc:
        raise RetriableAPIError(
            f"Gong answered {endpoint_of(response)} with HTTP {response.status_code} "
            f"but a body that is not JSON ({len(response.content)} bytes)",
            response,
        ) from exc
    if not isinstance(body, dict):
        raise BadResponseError(
            f"Gong answered {endpoint_of(response)} with JSON that is not an object"
        )
    return body


def tls_reason(exc: requests.exceptions.SSLError) -> str:
    """The OpenSSL reason (``[SSL: WRONG_VERSION_NUMBER] wrong version number``), if any."""
    found = re.search(r"\[SSL: [A-Z_]+\][^'\"()]*", str(exc))
    return found.group(0).strip() if found else type(exc).__name__


def server_time(response: requests.Response) -> datetime.datetime | None:
    try:
        when = email.utils.parsedate_to_datetime(response.headers.get("Date", ""))
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
