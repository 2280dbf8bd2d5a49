"""The tap: its settings, its streams, and the checks and hooks of a run."""

from __future__ import annotations

import sys
from functools import cached_property
from typing import TYPE_CHECKING, Any

from singer_sdk import Stream
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.helpers.capabilities import PluginCapabilities, TapCapabilities

from tap_gong_calls.bookmark import STREAM, check_state, read_bookmark
from tap_gong_calls.budget import read_usage
from tap_gong_calls.client import GongClient
from tap_gong_calls.sdk_seam import GongTapBase
from tap_gong_calls.settings import (
    GONG_ID_PATTERN,
    config_errors,
    connection_errors,
    unknown_settings,
)
from tap_gong_calls.streams import (
    CallDetailsStream,
    CallParticipantsStream,
    CallsStream,
    CallTranscriptsStream,
)
from tap_gong_calls.timestamps import utc_now

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from collections.abc import Mapping


class TapGongCalls(GongTapBase):
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
            th.ArrayType(th.StringType(nullable=False, pattern=GONG_ID_PATTERN), nullable=False),
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
            th.StringType(nullable=False, pattern=GONG_ID_PATTERN),
            title="Workspace ID",
            description="Date-range mode: only calls of this Gong workspace.",
        ),
        th.Property(
            "lookback_days",
            th.IntegerType(nullable=False, minimum=0, maximum=365),
            default=1,
            title="Lookback Days",
            description="Date-range mode: how many days before the bookmark each run "
            "re-reads, to pick up calls Gong makes visible late (0-365).",
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
            th.NumberType(nullable=False, exclusive_minimum=0, maximum=1000),
            default=3,
            title="Requests Per Second",
            description="Client-side limit shared by every request of the run. Gong allows "
            "3 per second per company; lower it if other tools share your quota (at most 1000).",
        ),
        th.Property(
            "max_retry_after_seconds",
            th.NumberType(nullable=False, minimum=0, maximum=86400),
            default=300,
            title="Max Retry-After Seconds",
            description="The longest Retry-After the tap waits out. A longer one means the "
            "daily quota (10,000 requests) is used up: the run stops with an error saying "
            "when to retry (at most 86400, a day).",
        ),
        th.Property(
            "daily_request_budget",
            th.IntegerType(nullable=False, minimum=1, maximum=1_000_000),
            default=5000,
            title="Daily Request Budget",
            description="The most requests the tap sends in any 24 hours, counted across runs "
            "in the state. Gong allows 10,000 a day per company, shared by every integration: "
            "the default leaves half to the others. A run that reaches it stops cleanly (exit "
            "0) with a STATE the next run resumes from (1-1000000).",
        ),
        th.Property(
            "request_timeout_seconds",
            th.NumberType(nullable=False, exclusive_minimum=0, maximum=3600),
            default=60,
            title="Request Timeout Seconds",
            description="How long to wait for Gong to answer one request before retrying it "
            "(at most 3600).",
        ),
        th.Property(
            "backoff_base_seconds",
            th.NumberType(nullable=False, exclusive_minimum=0, maximum=60),
            default=1,
            title="Backoff Base Seconds",
            description="First wait before retrying a transient fault (5xx, reset, timeout), "
            "doubled on each of up to 4 retries, with full jitter (at most 60).",
        ),
    ).to_dict()

    @cached_property
    def client(self) -> GongClient:
        """The run's one HTTP client: every request of every stream goes through it."""
        return GongClient(self.config, self.logger)

    @override
    def discover_streams(self) -> list[Stream]:
        return [
            CallsStream(self, self.client, written=self.records_written),
            CallParticipantsStream(self),
            CallDetailsStream(self),
            CallTranscriptsStream(self),
        ]

    @override
    def extra_config_errors(self, config: Mapping[str, Any]) -> list[str]:
        return config_errors(config)

    @override
    def config_warnings(self, config: Mapping[str, Any]) -> list[str]:
        unknown = unknown_settings(config, self.config_jsonschema["properties"])
        if not unknown:
            return []
        return [
            f"Ignoring unknown setting(s) {', '.join(unknown)}: check their spelling against "
            f"`tap-gong-calls --about`."
        ]

    @override
    def load_state(self, state: dict[str, Any]) -> None:
        # A state the tap cannot read must stop the run here, before any request: taken for
        # "no state", it would re-read everything; taken as is, it could skip calls.
        check_state(state)
        stream_state = state.get("bookmarks", {}).get(STREAM, {})
        if self.config.get("call_ids") is None:
            read_bookmark(stream_state, now=utc_now())
        read_usage(stream_state)  # the requests of earlier runs, in both modes
        super().load_state(state)

    @override
    def check_connection(self) -> None:
        errors = connection_errors(self.config)
        if errors:
            raise ConfigValidationError("Config validation failed", errors=errors)
        # One list request over the last minute proves that api_url answers and the
        # credentials work, for one request. A failure raises the stream's own error
        # (401/403 naming the settings).
        self.client.check_access()
        self.logger.info(
            "Connection test passed: %s answered GET /v2/calls with these credentials.",
            self.client.url_base,
        )

    @override
    def before_last_state(self) -> None:
        stream = self.streams["calls"]
        if isinstance(stream, CallsStream):
            stream.record_usage()

    @override
    def run_summary(self) -> str | None:
        stream = self.streams["calls"]
        return stream.summary() if isinstance(stream, CallsStream) else None


if __name__ == "__main__":
    TapGongCalls.cli()
