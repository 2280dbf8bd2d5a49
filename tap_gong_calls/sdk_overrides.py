"""Where the tap goes beyond singer-sdk's public API, each place saying why.

singer-sdk 0.54 has no public hook for these, so they override private, final or CLI-level
methods. tests/test_sdk_overrides.py pins the signatures they rely on, so an upgrade that changes
one fails there, by name, instead of somewhere in a run. No other module of the tap touches
singer-sdk's internals.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
from collections import Counter
from typing import TYPE_CHECKING, Any

from singer_sdk import Stream, Tap
from singer_sdk.configuration._dict_config import parse_environment_config
from singer_sdk.exceptions import (
    AbortedSyncFailedException,
    AbortedSyncPausedException,
    ConfigValidationError,
    FatalAPIError,
)
from singer_sdk.helpers._classproperty import classproperty
from singer_sdk.io_base import SingerWriter
from singer_sdk.metrics import Point, get_metrics_logger
from singer_sdk.singerlib import RecordMessage
from singer_sdk.tap_base import CliTestOptionValue

from tap_gong_calls.env_numbers import numbers_from_env
from tap_gong_calls.state import StateError, state_file_problem

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from types import FrameType

    import click
    from singer_sdk.helpers.types import Context, Record
    from singer_sdk.singerlib import Message

# The context key of the syncs singer-sdk runs for a child stream, one per batch of calls.
BATCH_CONTEXT_KEY = "batch"


class CountingWriter(SingerWriter):
    """singer-sdk's writer, counting the records it wrote, and holding off a signal mid-line.

    The Summary must count what a target received, not what was fetched; and a signal that
    ended the process in the middle of a long line (a transcript can be a megabyte) would
    leave the target half a message.
    """

    def __init__(self) -> None:
        super().__init__()
        self.records: Counter[str] = Counter()
        self._writing = False
        self._deferred: Callable[[], None] | None = None

    def write_message(self, message: Message) -> None:
        self._writing = True
        try:
            super().write_message(message)
            if isinstance(message, RecordMessage):
                self.records[message.stream] += 1
        finally:
            self._writing = False
        if self._deferred is not None:
            self._deferred()

    def when_line_ends(self, action: Callable[[], None]) -> None:
        """Run ``action`` now, or right after the message being written, if one is."""
        if self._writing:
            self._deferred = action
        else:
            action()


class GongTapBase(Tap):
    """singer-sdk's Tap, with clear failures, a cheap ``--test`` and a prompt shutdown.

    Its records go through a CountingWriter, whose counts the run's summary reports.

    Subclasses fill in the public hooks: ``extra_config_errors``, ``config_warnings``,
    ``check_connection``, ``run_summary``.
    """

    message_writer_class = CountingWriter

    @property
    def records_written(self) -> Mapping[str, int]:
        """How many records of each stream reached stdout."""
        writer = self.message_writer
        return writer.records if isinstance(writer, CountingWriter) else {}

    def extra_config_errors(self, config: Mapping[str, Any]) -> list[str]:
        """Problems with ``config`` that its JSON Schema cannot state."""
        return []

    def config_warnings(self, config: Mapping[str, Any]) -> list[str]:
        """Things in ``config`` worth a warning that do not stop the run."""
        return []

    def check_connection(self) -> None:
        """Raise unless the credentials and ``api_url`` work (the ``--test`` check)."""

    def run_summary(self) -> str | None:
        """The closing line of a run, also of one cut short."""
        return None

    def before_last_state(self) -> None:
        """Bring the state up to date before the STATE of a run cut short is written."""

    @classproperty
    def _env_var_config(cls) -> dict[str, Any]:  # noqa: N805 (singer-sdk's classproperty)
        # `--config ENV`, which no public hook reads: singer-sdk reads integer settings with a
        # bare int() ("2.5": a traceback), number settings as text ("'2' is not of type 'number'").
        schema = cls.config_jsonschema
        cls.append_builtin_config(schema)
        return numbers_from_env(schema, cls._env_var_prefix, parse_environment_config)

    @override
    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        # The JSON Schema cannot say "exactly one way to authenticate" or "start before end"
        # in words a user understands; singer-sdk's only place to add checks is this one.
        errors = super()._validate_config(raise_errors=False)
        errors += self.extra_config_errors(self.config)
        for warning in self.config_warnings(self.config):
            self.logger.warning(warning)
        if errors and raise_errors:
            raise ConfigValidationError(
                "Config validation failed", errors=errors, schema=self.config_jsonschema
            )
        return errors

    @override
    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        # singer-sdk writes the last STATE, then exits 0, and only once every worker thread
        # has finished its request (seconds at a slow server). A run cut short is no success,
        # and a scheduler's SIGTERM wants the process gone: once the line being written is
        # whole, write the STATE and the summary, then leave at once. Nothing is lost: the
        # STATE only covers what was written.
        writer = self.message_writer
        if isinstance(writer, CountingWriter):
            writer.when_line_ends(lambda: self._exit_now(signum))
        else:
            self._exit_now(signum)

    def _exit_now(self, signum: int) -> None:
        try:
            self.before_last_state()
            self._state_writer.write_state(self.state)
            if (summary := self.run_summary()) is not None:
                self.logger.info(summary)
        finally:
            for stream in (sys.stdout, sys.stderr):
                stream.flush()
            os._exit(128 + signum)

    @classmethod
    @override
    def invoke(  # type: ignore[override]
        cls, *, state: io.TextIOBase | None = None, **kwargs: Any
    ) -> None:
        # singer-sdk parses --state with a bare json error ("Expecting value: line 1 column 1")
        # and turns every failure into a traceback; a user needs the file and the fix named.
        source = "the state"
        if state is not None:
            source = f"State file {getattr(state, 'name', '')}".strip()
            text = state.read()
            if (problem := state_file_problem(text, source)) is not None:
                cls._fail(problem)
            state = io.StringIO(text)
        try:
            super().invoke(state=state, **kwargs)
        except StateError as exc:
            cls._fail(f"{source} cannot be used: {exc}")
        except FatalAPIError as exc:
            cls._fail(str(exc))

    @classmethod
    @override
    def cb_test(cls, ctx: click.Context, param: click.Option, value: str) -> None:
        # singer-sdk's --test is a dry-run sync of every stream (in date-range mode, a walk
        # through the windows from start_date) and needs a full config. A connection check
        # needs only the credentials and api_url, and one request.
        if value != CliTestOptionValue.All.value:
            super().cb_test(ctx, param, value)
            return
        config = ctx.params["config"]
        try:
            tap = cls(
                config=config.config,
                parse_env_config=config.parse_env,
                validate_config=False,
                setup_mapper=False,
            )
            tap.check_connection()
        except (ConfigValidationError, FatalAPIError) as exc:
            errors = getattr(exc, "errors", None) or [str(exc)]
            for error in errors:
                cls.logger.error("Connection test failed: %s", error)  # noqa: TRY400 (no traceback)
            ctx.exit(1)
        ctx.exit()

    @classmethod
    def _fail(cls, message: str) -> None:
        cls.logger.error(message)
        sys.exit(1)


class WindowBookmarkedStream(Stream):
    """A stream whose bookmark the tap moves itself, a completed window at a time."""

    @override
    def _increment_stream_state(
        self, latest_record: Record, *, context: Context | None = None
    ) -> None:
        # singer-sdk would move the bookmark to each record's replication key value, comparing
        # Gong's mixed-offset timestamps as text, and past windows not yet complete.
        return

    def write_bookmark(self, entries: Mapping[str, Any]) -> None:
        """Set the stream's bookmark to ``entries``; the next STATE message carries it."""
        state = self.stream_state
        state.update(entries)
        # Public but "internal to the SDK": what promotes the new bookmark into the state.
        self.finalize_state_progress_markers(state)


class VersionedStream(Stream):
    """A stream whose RECORDs carry a table version of the tap's choosing, activated at will.

    singer-sdk only versions FULL_TABLE streams, under ``emit_activate_version_messages``, and
    sends ACTIVATE_VERSION at the start of every sync: for a child synced once per batch,
    before each batch, which would mark every row but the batch's deleted, and in any case
    before the records, so that a run failing midway would leave the table marked deleted.
    The tap sends it itself, after the last record of a complete full re-import
    (extract/reimport.py).
    """

    @property
    def emit_activate_version_messages(self) -> bool:
        # Never singer-sdk's own ACTIVATE_VERSION, even if a config sets the flag.
        return False

    @property
    def run_version(self) -> int:
        """The table version of this run: when the tap started, in epoch milliseconds (later
        runs have higher versions; milliseconds tell apart two re-imports of one second)."""
        return self._initialized_at

    def use_version(self, version: int) -> None:
        """Stamp ``version`` on every RECORD this stream writes from now on."""
        # singer-sdk writes _stream_version into each RecordMessage's "version".
        self._stream_version = version

    def activate_version(self) -> None:
        """Write ACTIVATE_VERSION for the version in use (under the stream-map aliases)."""
        if self._stream_version is not None:
            self._write_activate_version_message(self._stream_version)


class BatchFedStream(Stream):
    """A child stream synced once per batch of calls its parent hands it, not once per call.

    singer-sdk would write its SCHEMA and a few log lines on every sync: here the SCHEMA goes
    out once per run, and the per-batch lines only at DEBUG.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._schema_sent = False
        self.logger.addFilter(_per_batch_lines)
        metrics = get_metrics_logger()
        if _per_batch_lines not in metrics.filters:
            metrics.addFilter(_per_batch_lines)

    def sync_batch(self, number: int) -> None:
        """Write this stream's records of batch ``number`` (what get_records yields now)."""
        if not self.selected:
            return
        # As singer-sdk's own loop over children does: a child stopped at a record limit (a
        # dry run, --test=…) does not stop its siblings or its parent.
        with contextlib.suppress(AbortedSyncFailedException, AbortedSyncPausedException):
            self.sync(context={BATCH_CONTEXT_KEY: number})

    @override
    def _write_schema_message(self) -> None:
        if not self._schema_sent:
            super()._write_schema_message()
            self._schema_sent = True


def _per_batch_lines(record: logging.LogRecord) -> bool:
    """False for singer-sdk's per-batch INFO lines of a child stream's sync, at INFO."""
    if record.levelno > logging.INFO or logging.getLogger(record.name).isEnabledFor(logging.DEBUG):
        return True
    args = record.args if isinstance(record.args, tuple) else ()
    if args and isinstance(args[0], Point):  # METRIC lines carry the sync's context
        context = args[0].tags.get("context") or {}
        return BATCH_CONTEXT_KEY not in context
    return not str(record.msg).startswith("Beginning sync of")
