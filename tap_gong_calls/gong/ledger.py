"""The quota ledger: the requests sent to one Gong company in the last day, outside the state.

Gong allows a company 10,000 requests a day, shared by every integration; a count in the Singer
state misses ``--full-refresh`` runs, other state ids or environments and runs at once. The
ledger is keyed by the Gong host (so by company); every run reads and writes it as it sends.
Where it is, the ``request_ledger`` setting:

- empty (the default): a JSON file per host in the user's cache folder,
  ``$XDG_CACHE_HOME/tap-gong-calls/`` or ``~/.cache/tap-gong-calls/``: the runs of one machine.
- an absolute folder path (``/...`` or ``~/...``): the same file in that folder (created if
  missing). It always names a folder, never a file: one folder serves every company.
- ``postgresql://...`` or ``postgres://...``: a table in that database, for runs on several
  machines (ledger_postgres.py); needs ``pip install 'tap-gong-calls[postgres]'``.

Hours count as in budget.py: until 25 hours after their start; hours older than 48 hours are
pruned. A ledger that cannot be read is an error, never a fresh start: that would let the
company's quota be spent twice.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import hashlib
import json
import os
import re
import secrets
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from singer_sdk.exceptions import FatalAPIError

if TYPE_CHECKING:
    from collections.abc import Iterator

Usage = dict[datetime.datetime, int]  # hour start (UTC, aware) -> requests sent in that hour

UTC = datetime.UTC
COUNTS_FOR = datetime.timedelta(hours=25)  # an hour's requests count until 25 h after its start
KEEP_FOR = datetime.timedelta(hours=48)  # older hours are pruned
SETTING = "request_ledger"
ACCEPTED = (
    f"Set {SETTING} to nothing (a file in the user's cache folder), to an absolute folder path "
    "(/... or ~/...), or to a postgresql:// URL."
)
CHECK_FOLDER = (
    f"Check that the folder can be created and written by this user, or set {SETTING} to "
    "another folder or a postgresql:// URL."
)
CHECK_FILE = (
    "Check the file: it must be the JSON this tap wrote. Do not delete it unless no run sent a "
    "request in the last 25 hours: deleting it forgets them, and the quota could be overspent."
)


class LedgerError(FatalAPIError):
    """The request ledger cannot be opened, read or written; the message says where and why.

    Fatal: a run that cannot count its requests where every run of the company counts them
    must not send any."""


class RequestLedger(Protocol):
    """``try_spend`` is atomic across processes and threads: False if ``offset`` + the usage at
    ``now`` reaches ``limit`` (nothing is recorded), else one more request in ``hour`` (and
    hours older than 48 hours are pruned). ``usage``: the hours still counting at ``now``."""

    where: str  # human-readable location, secrets masked

    def usage(self, now: datetime.datetime) -> Usage: ...
    def try_spend(
        self, hour: datetime.datetime, *, limit: int | None, offset: int, now: datetime.datetime
    ) -> bool: ...
    def close(self) -> None: ...


def ledger_error(where: str, problem: str, check: str) -> LedgerError:  # the file ledger's
    return LedgerError(f"The request ledger ({SETTING}) at {where} {problem}. {check}")


def aware(moment: datetime.datetime) -> datetime.datetime:
    """``moment`` in UTC; ValueError if it is naive (its instant would be a guess)."""
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r} has no time zone")
    return moment.astimezone(UTC)


def hour_start(moment: datetime.datetime) -> datetime.datetime:
    return aware(moment).replace(minute=0, second=0, microsecond=0)


def counting(usage: Usage, now: datetime.datetime) -> Usage:  # the hours still counting
    return {hour: count for hour, count in usage.items() if hour + COUNTS_FOR > now}


def normalize_host(host: str) -> str:
    """``host`` (a name or address, with an optional port) as the ledger keys it."""
    key = host.strip().lower().rstrip(".")
    if not key or re.search(r"[\s/@]", key):
        raise ValueError(f"{host!r} is not a host (like us-12345.api.gong.io or 127.0.0.1:8765)")
    return key


def mask_url(text: str) -> str:
    """``text`` with any URL password replaced by ``***``: in the user info (up to the last
    ``@``, so a password holding ``/`` or ``@`` is masked whole) or a ``password=`` parameter."""
    scheme, separator, rest = text.partition("://")
    if not separator:
        return text
    user_info, at, after = rest.rpartition("@")
    user, colon, _password = user_info.partition(":")
    if at and colon:
        rest = f"{user}:***@{after}"
    rest = re.sub(r"(?i)([?&]password=)[^&#]*", r"\1***", rest)
    return f"{scheme}://{rest}"


def default_folder() -> Path:
    """``$XDG_CACHE_HOME/tap-gong-calls`` (if absolute, as XDG says), else ~/.cache's."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "tap-gong-calls"
    try:
        return Path.home() / ".cache" / "tap-gong-calls"
    except RuntimeError as exc:  # no HOME and no password entry
        raise LedgerError(
            f"{SETTING}: no home folder for the default ledger ({exc}). {ACCEPTED}"
        ) from exc


def file_name(host: str) -> str:
    """A file name for ``host``: the host itself when it is safe, else a safe form and a hash."""
    safe = re.sub(r"[^a-z0-9.-]", "_", host)
    if safe != host or len(safe) > 100:
        safe = f"{safe[:100]}-{hashlib.sha256(host.encode()).hexdigest()[:12]}"
    return f"requests-{safe}.json"


def parse_file(data: object, host: str) -> Usage:
    """The usage in a ledger file's JSON; ValueError or TypeError if it is not one."""
    if not isinstance(data, dict) or not isinstance(data.get("requests"), list):
        raise TypeError('expected {"host": "<host>", "requests": [["<hour>", <count>], ...]}')
    if data.get("host") != host:
        raise ValueError(f"it is the ledger of host {data.get('host')!r}, not of {host!r}")
    usage: Usage = {}
    for entry in data["requests"]:
        match entry:
            case [str(when), int(count)] if not isinstance(count, bool) and count >= 0:
                hour = hour_start(datetime.datetime.fromisoformat(when))
                usage[hour] = usage.get(hour, 0) + count
            case _:
                raise ValueError(f"the entry {str(entry)[:80]} is not [<hour>, <count >= 0>]")
    return usage


class FileLedger:
    """A JSON file per host; each spend is a read-modify-write under an exclusive ``flock`` on
    a lock file beside it, written atomically (temporary file, fsync, rename)."""

    def __init__(self, folder: Path, host: str) -> None:
        self.host = host
        self.path = folder / file_name(host)
        self.where = str(self.path)
        self._lock_path = self.path.with_name(self.path.name + ".lock")
        self._thread_lock = threading.Lock()
        try:  # fail now, before any request, if the folder cannot be written
            folder.mkdir(parents=True, exist_ok=True)
            self._lock_path.touch()
        except OSError as exc:
            raise ledger_error(self.where, f"cannot be created ({exc})", CHECK_FOLDER) from exc

    def usage(self, now: datetime.datetime) -> Usage:
        return counting(self._read(), aware(now))  # the file is replaced whole: no lock needed

    def try_spend(
        self, hour: datetime.datetime, *, limit: int | None, offset: int, now: datetime.datetime
    ) -> bool:
        hour, now = hour_start(hour), aware(now)
        with self._exclusive():
            usage = self._read()
            if limit is not None and offset + sum(counting(usage, now).values()) >= limit:
                return False
            usage[hour] = usage.get(hour, 0) + 1
            self._write({h: n for h, n in usage.items() if h + KEEP_FOR >= now})
            return True

    def close(self) -> None:  # nothing to release: each spend opens and closes its files
        pass

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        with self._thread_lock:
            try:
                fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o666)
            except OSError as exc:
                raise ledger_error(self.where, f"cannot be locked ({exc})", CHECK_FOLDER) from exc
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)  # releases the lock

    def _read(self) -> Usage:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}  # nothing sent yet
        except (OSError, UnicodeDecodeError) as exc:
            raise ledger_error(self.where, f"cannot be read ({exc})", CHECK_FILE) from exc
        try:
            return parse_file(json.loads(text), self.host)
        except (ValueError, TypeError) as exc:  # json.JSONDecodeError is a ValueError
            raise ledger_error(self.where, f"is not a ledger ({exc})", CHECK_FILE) from exc

    def _write(self, usage: Usage) -> None:
        entries = [[f"{h:%Y-%m-%dT%H:%M:%SZ}", n] for h, n in sorted(usage.items())]
        text = json.dumps({"host": self.host, "requests": entries})
        temporary = self.path.with_name(f".{self.path.name}.{secrets.token_hex(6)}.tmp")
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    out.write(text)
                    out.flush()
                    os.fsync(out.fileno())
                temporary.replace(self.path)
            finally:
                temporary.unlink(missing_ok=True)
            folder = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(folder)  # the rename itself
            finally:
                os.close(folder)
        except OSError as exc:
            raise ledger_error(self.where, f"cannot be written ({exc})", CHECK_FOLDER) from exc
