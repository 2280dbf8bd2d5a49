"""The tap: its settings, their checks, and stream discovery."""

from __future__ import annotations

import ipaddress
import sys
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from singer_sdk import Tap
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.helpers.capabilities import PluginCapabilities, TapCapabilities

from tap_gong_calls.client import GongStream
from tap_gong_calls.streams import (
    CallDetailsStream,
    CallParticipantsStream,
    CallsStream,
    CallTranscriptsStream,
)
from tap_gong_calls.windows import parse_utc

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from collections.abc import Mapping
    from types import FrameType

GONG_ID = r"^[0-9]{1,20}$"
# Where plain http is allowed: the credentials never leave the machine.
LOOPBACK_HOSTS = ("localhost",)


class TapGongCalls(Tap):
    """Singer tap for Gong calls."""

    name = "tap-gong-calls"
    capabilities = [  # noqa: RUF012 (the SDK declares it a list)
        TapCapabilities.CATALOG,
        TapCapabilities.STATE,
        TapCapabilities.DISCOVER,
        PluginCapabilities.ABOUT,
        PluginCapabilities.STREAM_MAPS,
        PluginCapabilities.FLATTENING,
        PluginCapabilities.STRUCTURED_LOGGING,
    ]

    config_jsonschema = th.PropertiesList(
        th.Property(
            "access_key",
            th.StringType(nullable=False),
            secret=True,
            title="Access Key",
            description="Gong API access key (Basic auth, with access_key_secret). "
            "Set these two or access_token, not both.",
        ),
        th.Property(
            "access_key_secret",
            th.StringType(nullable=False),
            secret=True,
            title="Access Key Secret",
            description="Gong API access key secret (Basic auth, with access_key).",
        ),
        th.Property(
            "access_token",
            th.StringType(nullable=False),
            secret=True,
            title="Access Token",
            description="An OAuth bearer token, the alternative to access_key and "
            "access_key_secret. Use it with your tenant's api_url (api_base_url_for_customer).",
        ),
        th.Property(
            "api_url",
            th.StringType(nullable=False),
            default="https://api.gong.io",
            title="API URL",
            description="Base URL of Gong's API. Tenants have their own hosts "
            "(api_base_url_for_customer, e.g. https://us-12345.api.gong.io).",
        ),
        th.Property(
            "call_ids",
            th.ArrayType(th.StringType(nullable=False, pattern=GONG_ID), nullable=False),
            title="Call IDs",
            description="The calls to fetch, by Gong call id (1-20 digits each; duplicates "
            "are fetched once). When set, start_date and the bookmark are not used.",
            minItems=1,  # passed into the JSON Schema verbatim
        ),
        th.Property(
            "batch_call_ids",
            th.BooleanType(nullable=False),
            default=True,
            title="Batch Call IDs",
            description="Look call_ids up 100 at a time with POST /v2/calls/extensive "
            "(needs the api:calls:read:extensive scope; without it the tap warns once and "
            "falls back). false: one GET /v2/calls/{id} per id.",
        ),
        th.Property(
            "start_date",
            th.DateTimeType(nullable=False),
            title="Start Date",
            description="Date-range mode (when call_ids is not set): the earliest call time "
            "to extract, ISO-8601. Later runs start from the bookmark minus lookback_days.",
        ),
        th.Property(
            "end_date",
            th.DateTimeType(nullable=False),
            title="End Date",
            description="Date-range mode: extract calls before this time (exclusive). "
            "Default: now.",
        ),
        th.Property(
            "workspace_id",
            th.StringType(nullable=False, pattern=GONG_ID),
            title="Workspace ID",
            description="Date-range mode: only calls of this Gong workspace.",
        ),
        th.Property(
            "lookback_days",
            th.IntegerType(nullable=False, minimum=0),
            default=1,
            title="Lookback Days",
            description="Date-range mode: how many days before the bookmark each run "
            "re-reads, to pick up calls Gong makes visible late.",
        ),
        th.Property(
            "exclude_private_calls",
            th.BooleanType(nullable=False),
            default=False,
            title="Exclude Private Calls",
            description="Do not emit calls whose isPrivate is true.",
        ),
        th.Property(
            "requests_per_second",
            th.NumberType(nullable=False, exclusive_minimum=0),
            default=3,
            title="Requests Per Second",
            description="Client-side limit shared by every request of the run. Gong allows "
            "3 per second per company; lower it if other tools share your quota.",
        ),
        th.Property(
            "max_retry_after_seconds",
            th.NumberType(nullable=False, minimum=0),
            default=300,
            title="Max Retry-After Seconds",
            description="The longest Retry-After the tap waits out. A longer one means the "
            "daily quota (10,000 requests) is used up: the run stops with an error saying "
            "when to retry.",
        ),
        th.Property(
            "request_timeout_seconds",
            th.NumberType(nullable=False, exclusive_minimum=0),
            default=60,
            title="Request Timeout Seconds",
            description="How long to wait for Gong to answer one request before retrying it.",
        ),
        th.Property(
            "backoff_base_seconds",
            th.NumberType(nullable=False, exclusive_minimum=0),
            default=1,
            title="Backoff Base Seconds",
            description="First wait before retrying a transient fault (5xx, reset, timeout), "
            "doubled on each of up to 4 retries, with full jitter.",
        ),
    ).to_dict()

    @override
    def discover_streams(self) -> list[GongStream]:
        return [
            CallsStream(self),
            CallParticipantsStream(self),
            CallDetailsStream(self),
            CallTranscriptsStream(self),
        ]

    # singer-sdk marks this final for type checkers only; the CLI's --test calls it.
    @override  # type: ignore[misc]
    def run_connection_test(self) -> bool:
        # singer-sdk's test (what `--test` runs) is a dry-run sync of every stream: in
        # date-range mode that walks the windows from start_date, many requests. One list
        # request over the last minute proves the same (api_url answers, the credentials and
        # scope work) for one request. A failure raises the stream's own error (401/403 naming
        # the settings), which the CLI turns into exit 1.
        stream = self.streams["calls"]
        assert isinstance(stream, GongStream)  # for mypy: discover_streams makes GongStreams
        stream.check_access()
        self.logger.info(
            "Connection test passed: %s answered GET /v2/calls with these credentials.",
            stream.url_base,
        )
        return True

    @override
    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        # singer-sdk writes the last STATE, then exits 0: a run cut short is no success.
        try:
            super()._handle_termination(signum, frame)
        except SystemExit:
            raise SystemExit(128 + signum) from None

    @override
    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        # The schema cannot say "exactly one way to authenticate" or "start before end"
        # in words a user understands, so those checks are spelled out here.
        errors = super()._validate_config(raise_errors=False) + config_errors(self.config)
        if errors and raise_errors:
            raise ConfigValidationError(
                "Config validation failed", errors=errors, schema=self.config_jsonschema
            )
        return errors


def config_errors(config: Mapping[str, Any]) -> list[str]:
    """Problems the JSON Schema cannot state, each naming the settings to fix."""
    get = config.get
    errors = []
    has_key = bool(get("access_key")) or bool(get("access_key_secret"))
    if has_key and get("access_token"):
        errors.append(
            "Both access_key/access_key_secret and access_token are set: configure exactly "
            "one way to authenticate."
        )
    elif has_key and not (get("access_key") and get("access_key_secret")):
        missing = "access_key_secret" if get("access_key") else "access_key"
        errors.append(f"{missing} is not set: Basic auth needs access_key and access_key_secret.")
    elif not has_key and not get("access_token"):
        errors.append("No credentials: set access_key and access_key_secret, or access_token.")
    errors += _api_url_errors(str(get("api_url") or ""))
    if get("call_ids") is None and not get("start_date"):
        errors.append(
            "Nothing to extract: set call_ids (calls by id) or start_date (date-range mode)."
        )
    dates = {}
    for setting in ("start_date", "end_date"):
        if get(setting):
            try:
                dates[setting] = parse_utc(str(get(setting)))
            except ValueError:
                errors.append(f"{setting} {get(setting)!r} is not an ISO-8601 date-time.")
    if len(dates) == 2 and dates["start_date"] >= dates["end_date"]:
        errors.append("start_date must be before end_date.")
    return errors


def _api_url_errors(value: str) -> list[str]:
    try:
        url = urlparse(value)
        host = url.hostname or ""
    except ValueError:  # e.g. an unclosed [ of an IPv6 address
        url, host = urlparse(""), ""
    if url.scheme not in ("http", "https") or not host:
        return [f"api_url {value!r} is not an http(s) URL such as https://api.gong.io."]
    if url.scheme == "http" and not _is_loopback(host):
        # Basic auth and bearer tokens travel in a header: over http, in clear text.
        return [
            f"api_url {value!r} uses http, which would send the credentials in clear text: "
            "use https (plain http is allowed only for localhost, 127.0.0.0/8 and ::1)."
        ]
    return []


def _is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name
        return False


if __name__ == "__main__":
    TapGongCalls.cli()
