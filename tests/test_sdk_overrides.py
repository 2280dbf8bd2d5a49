"""The singer-sdk internals tap_gong_calls/sdk_overrides.py relies on, pinned by name and signature.

An upgrade of singer-sdk that renames, removes or reshapes one of them fails here, naming it,
rather than somewhere in a run.
"""

from __future__ import annotations

import datetime
import inspect
from collections import Counter
from typing import TYPE_CHECKING

import pytest
from singer_sdk import Stream, Tap, metrics
from singer_sdk.configuration._dict_config import parse_environment_config
from singer_sdk.helpers._classproperty import classproperty
from singer_sdk.io_base import SingerWriter
from singer_sdk.plugin_base import PluginBase
from singer_sdk.singerlib import RecordMessage
from singer_sdk.tap_base import CliTestOptionValue

from gong_emulator import GongEmulator, seed_calls
from tap_gong_calls import sdk_overrides
from tap_gong_calls.sdk_overrides import CountingWriter
from tap_gong_calls.tap import TapGongCalls
from tests.tap_runner import ALL_STREAMS, CREDENTIALS, run_tap

if TYPE_CHECKING:
    from collections.abc import Callable

# (owner, name, the parameters after self/cls, in order)
PINNED: list[tuple[type, str, list[str]]] = [
    (Tap, "_validate_config", ["raise_errors"]),
    (Tap, "_handle_termination", ["signum", "frame"]),
    (Tap, "invoke", ["about", "about_format", "config", "state", "catalog"]),
    (Tap, "cb_test", ["ctx", "param", "value"]),
    (Tap, "load_state", ["state"]),
    (SingerWriter, "write_message", ["message"]),
    (Stream, "_increment_stream_state", ["latest_record", "context"]),
    (Stream, "_write_schema_message", []),
    (Stream, "sync", ["context"]),
    (Stream, "finalize_state_progress_markers", ["state"]),
    (Stream, "_write_activate_version_message", ["full_table_version"]),
]


def test_records_carry_the_stream_version_the_seam_sets() -> None:
    # VersionedStream stamps RECORDs through _stream_version and reads the tap's start time.
    assert "version=self._stream_version" in inspect.getsource(Stream._generate_record_messages)
    assert "self._initialized_at" in inspect.getsource(Stream.__init__)
    assert isinstance(Stream.emit_activate_version_messages, property)


def _parameters(function: Callable[..., object]) -> list[str]:
    names = list(inspect.signature(function).parameters)
    return [name for name in names if name not in ("self", "cls")]


@pytest.mark.parametrize(
    ("owner", "name", "parameters"), PINNED, ids=[f"{o.__name__}.{n}" for o, n, _ in PINNED]
)
def test_the_sdk_still_has_what_the_seam_overrides(
    owner: type, name: str, parameters: list[str]
) -> None:
    assert hasattr(owner, name), f"singer-sdk {owner.__name__}.{name} is gone"
    assert _parameters(getattr(owner, name)) == parameters


def test_the_environment_is_read_where_the_seam_reads_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # GongTapBase._env_var_config replaces the class property the constructor reads for
    # `--config ENV`, and hands parse_environment_config a schema whose numeric settings are
    # strings, to get their text.
    assert isinstance(inspect.getattr_static(PluginBase, "_env_var_config"), classproperty)
    assert "config_dict.update(self._env_var_config)" in inspect.getsource(PluginBase.__init__)
    assert _parameters(parse_environment_config) == ["config_schema", "prefix", "dotenv_path"]
    assert TapGongCalls._env_var_prefix == "TAP_GONG_CALLS_"
    monkeypatch.setenv("X_RATE", "2.5")
    monkeypatch.setenv("X_IDS", '["1"]')
    schema = {
        "properties": {
            "rate": {"type": ["string", "null"]},
            "ids": {"type": "array", "items": {"type": "string"}},
        }
    }
    assert parse_environment_config(schema, "X_") == {"rate": "2.5", "ids": ["1"]}


def test_the_termination_handler_is_what_singer_sdk_installs() -> None:
    source = inspect.getsource(Tap._setup_signal_handlers)
    assert "self._handle_termination" in source


def test_the_tap_writes_state_through_its_state_writer() -> None:
    # _exit_now writes the last STATE the way singer-sdk's own handler does.
    source = inspect.getsource(Tap._handle_termination)
    assert "self._state_writer.write_state(self.state)" in source


def test_the_per_batch_lines_are_what_the_seam_quiets() -> None:
    # sdk_overrides._per_batch_lines drops these, by their text and by the METRIC point's context.
    assert "Beginning sync of" in inspect.getsource(Stream.sync)
    assert inspect.getsource(metrics.log).count('"METRIC: %s", point') == 1
    assert "context" in inspect.getsource(Stream._sync_records)


def test_a_child_stopped_at_a_record_limit_is_what_the_sdk_forgives() -> None:
    assert "AbortedSyncFailedException" in inspect.getsource(Stream._sync_children)


def test_the_test_option_values_are_unchanged() -> None:
    assert CliTestOptionValue.All.value == "all"
    assert CliTestOptionValue.Disabled.value == "disabled"


def test_the_tap_writes_through_the_counting_writer() -> None:
    tap = TapGongCalls(config={}, parse_env_config=False, validate_config=False)
    assert isinstance(tap.message_writer, CountingWriter)
    assert tap.records_written is tap.message_writer.records


def test_the_counting_writer_counts_records_per_stream(capsys: pytest.CaptureFixture[str]) -> None:
    writer = CountingWriter()
    for stream in ("calls", "calls", "call_details"):
        writer.write_message(RecordMessage(stream=stream, record={"id": "1"}))

    assert dict(writer.records) == {"calls": 2, "call_details": 1}
    assert len(capsys.readouterr().out.splitlines()) == 3


def test_a_signal_during_a_write_waits_for_the_line_to_end(
    capsys: pytest.CaptureFixture[str],
) -> None:
    writer = CountingWriter()
    ran: list[int] = []

    class Interrupting(RecordMessage):
        def to_dict(self) -> dict[str, object]:
            # What a signal handler does when it lands while the line is being written.
            writer.when_line_ends(lambda: ran.append(len(capsys.readouterr().out)))
            assert ran == [], "the action ran before the line was written"
            return super().to_dict()

    writer.write_message(Interrupting(stream="calls", record={"id": "1"}))

    assert len(ran) == 1
    assert ran[0] > 0  # the whole line was out before the action ran
    assert writer.records["calls"] == 1


def test_every_private_sdk_name_the_tap_uses_is_in_the_seam() -> None:
    from pathlib import Path

    package = Path(sdk_overrides.__file__).parent
    private = (
        "_validate_config",
        "_handle_termination",
        "_state_writer",
        "cb_test",
        "_sync_children",
        "_increment_stream_state",
        "_write_schema_message",
        "finalize_state_progress_markers",
        "run_connection_test",
        "_stream_version",
        "_write_activate_version_message",
        "_initialized_at",
        "emit_activate_version_messages",
        "_env_var_config",
        "_env_var_prefix",
        "parse_environment_config",
        "_dict_config",
        "_classproperty",
    )
    offenders = [
        f"{path.name}: {name}"
        for path in package.rglob("*.py")
        if path.name != "sdk_overrides.py"
        for name in private
        if name in path.read_text()
    ]
    assert offenders == []


@pytest.mark.slow
def test_a_run_of_many_batches_writes_each_schema_once_and_few_log_lines() -> None:
    calls = seed_calls(1000, "2024-01-01T00:00:00Z", datetime.timedelta(minutes=5))
    with GongEmulator(**CREDENTIALS, transcript_bytes=2000) as emu:
        emu.add_calls(calls)
        run = run_tap(
            {
                **CREDENTIALS,
                "api_url": emu.url,
                "requests_per_second": 500,
                "start_date": "2024-01-01T00:00:00Z",
                "end_date": "2024-01-05T00:00:00Z",
            },
            streams=ALL_STREAMS,
        )

    assert run.returncode == 0, run.explain()
    assert len(run.records_of("calls")) == 1000
    schemas = Counter(m["stream"] for m in run.messages if m["type"] == "SCHEMA")
    assert schemas == dict.fromkeys(ALL_STREAMS, 1)
    lines = run.stderr.splitlines()
    assert len(lines) <= 20, run.explain()
    assert not [line for line in lines if "Beginning sync of 'call_" in line]
