"""Opening the request ledger a ``request_ledger`` setting names (ledger.py says the forms)."""

from __future__ import annotations

import importlib
from pathlib import Path

from tap_gong_calls.gong.ledger import (
    ACCEPTED,
    SETTING,
    FileLedger,
    LedgerError,
    RequestLedger,
    default_folder,
    mask_url,
    normalize_host,
)


def open_ledger(setting: str | None, host: str, *, cache_dir: Path | None = None) -> RequestLedger:
    """The ledger ``setting`` names for the Gong ``host`` (``cache_dir`` replaces the user's
    cache folder, for tests); LedgerError if it is no accepted form or cannot be opened."""
    host = normalize_host(host)
    text = (setting or "").strip()
    if not text:
        return FileLedger(cache_dir or default_folder(), host)
    if text.lower().startswith(("postgresql://", "postgres://")):
        try:
            importlib.import_module("psycopg")
        except ImportError as exc:
            raise LedgerError(
                f"{SETTING} is a PostgreSQL URL ({mask_url(text)}), and psycopg cannot be "
                f"imported ({exc}): pip install 'tap-gong-calls[postgres]'"
            ) from exc
        from tap_gong_calls.gong.ledger_postgres import PostgresLedger  # noqa: PLC0415 - needs psycopg

        return PostgresLedger(text, host)
    if text.startswith(("/", "~")):
        try:
            folder = Path(text).expanduser()
        except RuntimeError as exc:  # ~user that does not exist
            raise LedgerError(f"{SETTING}: {text!r} names no folder ({exc}). {ACCEPTED}") from exc
        if not folder.is_absolute() or (folder.exists() and not folder.is_dir()):
            raise LedgerError(f"{SETTING}: {text!r} is not a folder. {ACCEPTED}")
        return FileLedger(folder, host)
    raise LedgerError(f"{SETTING}: {mask_url(text)!r} is not a ledger. {ACCEPTED}")
