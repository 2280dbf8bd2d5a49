"""A throwaway PostgreSQL cluster for the end-to-end tests, from the server binaries on the machine.

    with throwaway_cluster() as url:   # postgresql://postgres@127.0.0.1:PORT/postgres
        ...
    url, close = start_throwaway_cluster()   # the same, for a fixture

The cluster lives in a temporary directory (data, log and unix socket), listens on 127.0.0.1 only,
trusts local connections, runs with durability off (it is thrown away), and is stopped and removed
on exit. PostgreSQL refuses to run as root, so as root every server command goes through
``runuser -u postgres --``. `PostgresUnavailableError` says why no cluster could be had.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

SERVER_USER = "postgres"
STARTUP_TIMEOUT_SECONDS = 60


class PostgresUnavailableError(Exception):
    """No PostgreSQL server could be found or started; the message says why."""


def find_server_bin() -> Path | None:
    """The directory holding initdb and pg_ctl: the newest /usr/lib/postgresql/*/bin, else PATH."""

    def version(path: Path) -> tuple[int, ...]:
        match = re.fullmatch(r"[0-9]+(\.[0-9]+)*", path.parent.name)
        return tuple(int(part) for part in match.group(0).split(".")) if match else ()

    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True)
    for directory in candidates:
        if all(os.access(directory / tool, os.X_OK) for tool in ("initdb", "pg_ctl")):
            return directory
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl:
        # Debian links these into /usr/local/bin or /usr/bin; use the real directory.
        real = Path(initdb).resolve().parent
        if (real / "pg_ctl").exists():
            return real
        return Path(initdb).parent
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Cluster:
    def __init__(self, server_bin: Path) -> None:
        self.server_bin = server_bin
        self.as_root = os.geteuid() == 0
        self.root_dir = Path(tempfile.mkdtemp(prefix="tap-gong-calls-pg-"))
        self.data_dir = self.root_dir / "data"
        self.log_file = self.root_dir / "server.log"
        self.port = 0
        if self.as_root:
            try:
                account = pwd.getpwnam(SERVER_USER)
            except KeyError:
                self.remove()
                raise PostgresUnavailableError(
                    f"running as root, and there is no {SERVER_USER!r} OS user to run "
                    "PostgreSQL as (it refuses to run as root)"
                ) from None
            if shutil.which("runuser") is None:
                self.remove()
                raise PostgresUnavailableError("running as root, and runuser is not on PATH")
            os.chown(self.root_dir, account.pw_uid, account.pw_gid)
        self.root_dir.chmod(0o700)

    def _run(self, tool: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        command = [str(self.server_bin / tool), *args]
        if self.as_root:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        # The server user may not be able to read the caller's working directory.
        return subprocess.run(
            command,
            cwd=self.root_dir,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env={**os.environ, "LC_ALL": "C", "TZ": "UTC"},
        )

    def _log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-20:])
        return ""

    def start(self) -> str:
        initdb = self._run(
            "initdb",
            "-D", str(self.data_dir),
            "-A", "trust",
            "-U", SERVER_USER,
            "-E", "UTF8",
            "--locale=C",
            "--no-sync",
        )  # fmt: skip
        if initdb.returncode != 0:
            raise PostgresUnavailableError(f"initdb failed:\n{initdb.stdout}\n{initdb.stderr}")
        last_error = ""
        for _ in range(3):  # another process may take the free port before the server binds it
            self.port = free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -c port={self.port} "
                f"-c unix_socket_directories={self.root_dir} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            started = self._run(
                "pg_ctl",
                "start",
                "-D", str(self.data_dir),
                "-l", str(self.log_file),
                "-o", options,
                "-w",
                "-t", str(STARTUP_TIMEOUT_SECONDS),
                timeout=STARTUP_TIMEOUT_SECONDS + 30,
            )  # fmt: skip
            if started.returncode == 0 and self._accepts_connections():
                return f"postgresql://{SERVER_USER}@127.0.0.1:{self.port}/postgres"
            last_error = f"{started.stdout}\n{started.stderr}\n{self._log_tail()}"
            self.stop()
        raise PostgresUnavailableError(f"pg_ctl start failed:\n{last_error}")

    def _accepts_connections(self) -> bool:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=1),
            ):
                return True
            time.sleep(0.1)
        return False

    def stop(self) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            self._run("pg_ctl", "stop", "-D", str(self.data_dir), "-m", "fast", "-w")

    def remove(self) -> None:
        shutil.rmtree(self.root_dir, ignore_errors=True)


def start_throwaway_cluster() -> tuple[str, Callable[[], None]]:
    """Start a private cluster: its URL, and the function that stops and deletes it."""
    server_bin = find_server_bin()
    if server_bin is None:
        raise PostgresUnavailableError(
            "no PostgreSQL server binaries (initdb, pg_ctl) in /usr/lib/postgresql/*/bin or on "
            "PATH; install them (Debian: apt-get install postgresql) or set TEST_POSTGRES_URL"
        )
    cluster = _Cluster(server_bin)

    def close() -> None:
        try:
            cluster.stop()
        finally:
            cluster.remove()

    try:
        return cluster.start(), close
    except (OSError, subprocess.SubprocessError) as exc:
        close()
        raise PostgresUnavailableError(f"could not start PostgreSQL: {exc}") from exc
    except PostgresUnavailableError:
        close()
        raise


@contextlib.contextmanager
def throwaway_cluster() -> Iterator[str]:
    """`start_throwaway_cluster` as a context manager yielding the URL."""
    url, close = start_throwaway_cluster()
    try:
        yield url
    finally:
        close()
