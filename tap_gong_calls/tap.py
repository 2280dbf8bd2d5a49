"""The tap: its settings, its streams, and the checks and hooks of a run."""

from __future__ import annotations

import sys
from functools import cached_property
from typing import TYPE_CHECKING, Any

from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.helpers.capabilities import PluginCapabilities, TapCapabilities

from tap_gong_calls.company_streams import (
    AnsweredScorecardsStream,
    ScorecardsStream,
    TrackersStream,
    UsersStream,
    WorkspacesStream,
)
from tap_gong_calls.config_checks import (
    config_errors,
    connection_errors,
    deprecation_warnings,
    unknown_settings,
)
from tap_gong_calls.extract.run import SharedBudget, check_state
from tap_gong_calls.gong.client import GongClient
from tap_gong_calls.progress import RunStats
from tap_gong_calls.sdk_overrides import GongTapBase
from tap_gong_calls.settings import CONFIG_SCHEMA
from tap_gong_calls.state import STREAM
from tap_gong_calls.state import check_state as check_envelope
from tap_gong_calls.stream_base import RunClosing
from tap_gong_calls.streams import (
    CallDetailsStream,
    CallParticipantsStream,
    CallsStream,
    CallTranscriptsStream,
)

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from collections.abc import Mapping

    from singer_sdk import Stream


class TapGongCalls(GongTapBase):
    """Singer tap for Gong calls."""

    name = "tap-gong-calls"
    capabilities = [  # noqa: RUF012 (the SDK declares it a list)
        TapCapabilities.CATALOG,
        TapCapabilities.STATE,
        TapCapabilities.DISCOVER,
        TapCapabilities.ACTIVATE_VERSION,  # a full re-import's (extract/reimport.py)
        PluginCapabilities.ABOUT,
        PluginCapabilities.STREAM_MAPS,
        PluginCapabilities.FLATTENING,
        PluginCapabilities.STRUCTURED_LOGGING,
    ]

    config_jsonschema = CONFIG_SCHEMA

    @cached_property
    def stats(self) -> RunStats:
        """This run's counters: progress, the Summary."""
        return RunStats(rate=float(self.config.get("requests_per_second") or 0) or None)

    @cached_property
    def client(self) -> GongClient:
        """The run's one HTTP client: every request of every stream goes through it."""
        return GongClient(self.config, self.logger, self.stats)

    @cached_property
    def budget(self) -> SharedBudget:
        """The run's one daily request budget, shared by every stream."""
        return SharedBudget(
            self.client,
            self.config,
            self.stats,
            # The calls stream's state, where the run's usage is kept (created if none yet).
            lambda: self.state.setdefault("bookmarks", {}).setdefault(STREAM, {}),
        )

    @cached_property
    def closing(self) -> RunClosing:
        """The run's Summary line, once the last selected stream synced."""
        return RunClosing(
            lambda: {
                name
                for name, stream in self.streams.items()
                if stream.selected and stream.parent_stream_type is None
            },
            lambda: self.run_summary() or "",
            self.logger,
        )

    @override
    def discover_streams(self) -> list[Stream]:
        client, budget, closing = self.client, self.budget, self.closing
        return [
            CallsStream(
                self,
                client,
                stats=self.stats,
                budget=budget,
                closing=closing,
                written=self.records_written,
            ),
            CallParticipantsStream(self),
            CallDetailsStream(self),
            CallTranscriptsStream(self),
            UsersStream(self, client, budget, closing),
            WorkspacesStream(self, client, budget, closing),
            TrackersStream(self, client, budget, closing),
            ScorecardsStream(self, client, budget, closing),
            AnsweredScorecardsStream(self, client, budget, closing),
        ]

    @override
    def extra_config_errors(self, config: Mapping[str, Any]) -> list[str]:
        return config_errors(config)

    @override
    def config_warnings(self, config: Mapping[str, Any]) -> list[str]:
        warnings = deprecation_warnings(config)
        if unknown := unknown_settings(config, self.config_jsonschema["properties"]):
            warnings.append(
                f"Ignoring unknown setting(s) {', '.join(unknown)}: check their spelling "
                f"against `tap-gong-calls --about`."
            )
        return warnings

    @override
    def load_state(self, state: dict[str, Any]) -> None:
        # A state the tap cannot read must stop the run here, before any request: taken for
        # "no state", it would re-read everything; taken as is, it could skip calls.
        check_envelope(state)
        check_state(state.get("bookmarks", {}), self.config)
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
