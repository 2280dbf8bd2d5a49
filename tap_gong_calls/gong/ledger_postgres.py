"""The request ledger in PostgreSQL (ledger.py), for runs on several machines.

One small table, ``tap_gong_calls_requests (host, hour, requests)`` keyed by (host, hour),
created when missing. A spend is one transaction holding ``pg_advisory_xact_lock`` on a key
derived from the host, so spends for one company are serialized across connections and
machines, and spends for different companies are not. One connection per ledger, guarded by a
lock (the tap's worker threads share the ledger). A connection found broken is opened again
once; a spend whose commit was lost that way may then be counted twice, which can only
under-spend the quota, never overspend it.
"""

from __future__ import annotations

import hashlib
import re
import threading
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import unquote

import psycopg

from tap_gong_calls.gong.ledger import (
    COUNTS_FOR,
    KEEP_FOR,
    SETTING,
    UTC,
    LedgerError,
    Usage,
    aware,
    hour_start,
    mask_url,
)

if TYPE_CHECKING:
    import datetime
    from collections.abc import Callable

T = TypeVar("T")
CONNECT_TIMEOUT_SECONDS = 15
CHECK = (
    "Check that the server is reachable from here, that the URL's user, password and database "
    "are right, and that the user may create the table tap_gong_calls_requests in the first "
    "schema of its search_path (or that it exists and the user may read and write it)."
)
TABLE_LOCK = "tap-gong-calls: create tap_gong_calls_requests"
CREATE_TABLE = """
CREATE TABLE tap_gong_calls_requests (
    host text NOT NULL,
    hour timestamptz NOT NULL,
    requests integer NOT NULL,
    PRIMARY KEY (host, hour)
)
"""


def lock_key(text: str) -> int:
    """A stable signed 64-bit key for ``pg_advisory_xact_lock`` (Python's hash() is salted)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big", signed=True)


def url_secrets(url: str) -> set[str]:
    """The passwords in ``url`` (user info, ``password=``), as written and decoded, to scrub
    from the driver's messages."""
    user_info, _, _ = url.partition("://")[2].rpartition("@")
    found = [user_info.partition(":")[2], *re.findall(r"(?i)[?&]password=([^&#]*)", url)]
    return {text for password in found for text in (password, unquote(password)) if text}


class PostgresLedger:
    def __init__(self, url: str, host: str) -> None:
        self.host = host
        self.where = mask_url(url)
        self._url = url
        self._secrets = url_secrets(url)
        self._key = lock_key(f"tap-gong-calls: {host}")
        self._lock = threading.Lock()
        self._connection: psycopg.Connection[Any] | None = None
        try:  # connect now, before any request: a wrong URL fails the run at once
            with self._lock:
                self._run(self._create_table)
        except LedgerError:
            self.close()
            raise

    def usage(self, now: datetime.datetime) -> Usage:
        now = aware(now)

        def read(connection: psycopg.Connection[Any]) -> Usage:
            rows = connection.execute(
                "SELECT hour, requests FROM tap_gong_calls_requests WHERE host = %s AND hour > %s",
                (self.host, now - COUNTS_FOR),
            ).fetchall()
            return {hour.astimezone(UTC): count for hour, count in rows}

        with self._lock:
            return self._run(read)

    def try_spend(
        self, hour: datetime.datetime, *, limit: int | None, offset: int, now: datetime.datetime
    ) -> bool:
        hour, now = hour_start(hour), aware(now)

        def spend(connection: psycopg.Connection[Any]) -> bool:
            connection.execute("SELECT pg_advisory_xact_lock(%s)", (self._key,))
            if limit is not None:
                row = connection.execute(
                    "SELECT coalesce(sum(requests), 0) FROM tap_gong_calls_requests"
                    " WHERE host = %s AND hour > %s",
                    (self.host, now - COUNTS_FOR),
                ).fetchone()
                if offset + (row[0] if row else 0) >= limit:
                    return False
            connection.execute(
                "DELETE FROM tap_gong_calls_requests WHERE host = %s AND hour < %s",
                (self.host, now - KEEP_FOR),
            )
            connection.execute(
                "INSERT INTO tap_gong_calls_requests AS r (host, hour, requests)"
                " VALUES (%s, %s, 1)"
                " ON CONFLICT (host, hour) DO UPDATE SET requests = r.requests + 1",
                (self.host, hour),
            )
            return True

        with self._lock:
            return self._run(spend)

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    @staticmethod
    def _create_table(connection: psycopg.Connection[Any]) -> None:
        # Checked first: CREATE TABLE IF NOT EXISTS needs the CREATE privilege even when the
        # table exists. Under a lock: two first runs at once must not both create it.
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key(TABLE_LOCK),))
        row = connection.execute("SELECT to_regclass('tap_gong_calls_requests')").fetchone()
        if row is None or row[0] is None:
            connection.execute(CREATE_TABLE)

    def _run(self, operation: Callable[[psycopg.Connection[Any]], T]) -> T:
        """``operation`` in one transaction (the caller holds ``self._lock``)."""
        for attempt in (1, 2):
            try:
                if self._connection is None or self._connection.closed:
                    self._connection = psycopg.connect(
                        self._url,
                        autocommit=True,  # each operation is one explicit transaction
                        connect_timeout=CONNECT_TIMEOUT_SECONDS,
                        application_name="tap-gong-calls",
                    )
                with self._connection.transaction():
                    return operation(self._connection)
            except psycopg.OperationalError as exc:
                connection, broken = self._connection, False
                if connection is not None and connection.broken:
                    connection.close()
                    self._connection, broken = None, True
                if broken and attempt == 1:
                    continue
                raise self._error(exc) from exc
            except psycopg.Error as exc:
                raise self._error(exc) from exc
        raise AssertionError("unreachable")

    def _error(self, exc: psycopg.Error) -> LedgerError:
        detail = " ".join(str(exc).split())
        for secret in self._secrets:
            detail = detail.replace(secret, "***")
        return LedgerError(
            f"The request ledger ({SETTING}) at {self.where} failed: {detail}. {CHECK}"
        )
