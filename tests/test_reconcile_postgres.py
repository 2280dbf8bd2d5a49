"""End to end: what target-postgres makes of tombstones and of a full re-import (issue 16).

One warehouse, four `meltano run`s: a first load; an incremental run after Gong made a call
private (its rows are blanked) and deleted two (nothing happens yet); `--full-refresh` (the
two deleted calls and their child rows are marked); an incremental run again (nothing more).
The fixtures are tests/conftest.py's, and test_meltano_postgres.py's emulator options.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from gong_emulator import seed_calls
from tests.meltano_helpers import (
    emulator_options,  # noqa: F401 (a fixture, used by name)
    tap_env,
    target_env,
)

if TYPE_CHECKING:
    from pathlib import Path

    from gong_emulator import GongEmulator
    from tests.meltano_helpers import MeltanoProject

pytestmark = pytest.mark.e2e


TABLES = {
    "calls": "id",
    "call_participants": '"callId"',
    "call_details": '"callId"',
    "call_transcripts": '"callId"',
}


def _marked(conn: Any) -> dict[str, set[str]]:
    """Per table, the calls with a row marked deleted."""
    return {
        table: {
            row[0]
            for row in conn.execute(
                f"SELECT {key} FROM gong.{table} WHERE _sdc_deleted_at IS NOT NULL"
            ).fetchall()
        }
        for table, key in TABLES.items()
    }


def _snapshot(conn: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the load metadata that changes on each load."""
    kept = {}
    for table in TABLES:
        cursor = conn.execute(f"SELECT * FROM gong.{table}")
        names = [c.name for c in cursor.description]
        rows = [
            tuple(
                str(v)
                for n, v in zip(names, row, strict=True)
                if not n.startswith("_sdc_") or n == "_sdc_deleted_at"
            )
            for row in cursor.fetchall()
        ]
        kept[table] = sorted(rows)
    return kept


def test_private_calls_are_blanked_and_a_full_refresh_marks_deleted_calls(
    meltano_project: MeltanoProject,
    emulator: GongEmulator,
    target_db: dict[str, str],
    tmp_path: Path,
) -> None:
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    calls = seed_calls(120, now - datetime.timedelta(hours=61), datetime.timedelta(minutes=30))
    emulator.add_calls(calls)
    ids = [c["id"] for c in calls]
    deleted, private = ids[10:12], ids[-4]  # the private one is inside the lookback (1 day)
    env = {
        **tap_env(
            emulator,
            streams=None,  # meltano.yml's: every stream
            start_date=(now - datetime.timedelta(days=3)).isoformat(),
            exclude_private_calls="true",
        ),
        **target_env(target_db),
        "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'meltano.db'}",
    }
    meltano_project.check("run", "tap-gong-calls", "target-postgres", env=env)
    with psycopg.connect(make_conninfo(**target_db)) as conn:
        assert (conn.execute("SELECT count(*) FROM gong.calls").fetchone() or [0])[0] == 120
        assert _marked(conn) == {table: set() for table in TABLES}

    for call_id in deleted:
        emulator.remove_call(call_id)
    emulator.add_call({**emulator.calls[private], "isPrivate": True})
    meltano_project.check("run", "tap-gong-calls", "target-postgres", env=env)

    with psycopg.connect(make_conninfo(**target_db)) as conn:
        assert _marked(conn) == {table: {private} for table in TABLES}
        title, started = conn.execute(
            "SELECT title, started FROM gong.calls WHERE id = %s", (private,)
        ).fetchone() or (None, None)
        assert (title, started) == (None, None)
        names = conn.execute(
            'SELECT count(*), count(name), count("emailAddress") FROM gong.call_participants '
            'WHERE "callId" = %s',
            (private,),
        ).fetchone()
        assert names is not None
        assert names[0] > 0
        assert names[1:] == (0, 0)
        blanks = conn.execute(
            "SELECT d.content, t.transcript FROM gong.call_details d JOIN gong.call_transcripts t "
            'USING ("callId") WHERE "callId" = %s',
            (private,),
        ).fetchone()
        assert blanks == (None, None)
        before = _snapshot(conn)

    meltano_project.check("run", "--full-refresh", "tap-gong-calls", "target-postgres", env=env)

    with psycopg.connect(make_conninfo(**target_db)) as conn:
        marked = _marked(conn)
        assert marked == {table: {private, *deleted} for table in TABLES}
        after = _snapshot(conn)
    # Every other row is as it was: same values, not marked (the private call's tombstone is
    # sent again, with this run's time).
    gone = [*deleted, private]
    for table in TABLES:
        kept_before = [r for r in before[table] if not _of(r, gone)]
        assert [r for r in after[table] if not _of(r, gone)] == kept_before, table
        assert len(kept_before) < len(before[table]), table

    meltano_project.check("run", "tap-gong-calls", "target-postgres", env=env)

    with psycopg.connect(make_conninfo(**target_db)) as conn:
        assert _marked(conn) == marked


def _of(row: tuple[str, ...], call_ids: list[str]) -> bool:
    """Whether a snapshot row belongs to one of ``call_ids`` (its id or callId column)."""
    return any(value in call_ids for value in row)
