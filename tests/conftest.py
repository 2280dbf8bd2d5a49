"""Shared pytest fixtures. Keep each group of fixtures under its own heading."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from tests.postgres import PostgresUnavailableError, start_throwaway_cluster

if TYPE_CHECKING:
    from collections.abc import Iterator


# -- PostgreSQL (end-to-end tests) ---------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server URL for the whole session.

    $TEST_POSTGRES_URL when set (its user needs CREATEDB: each test makes its own database);
    else a throwaway cluster started from the server binaries on this machine. Without either
    the test is skipped, or failed when REQUIRE_POSTGRES=1 (as in CI, where a skip would hide
    a missing install step).
    """
    if url := os.environ.get("TEST_POSTGRES_URL"):
        yield url
        return
    try:
        url, close = start_throwaway_cluster()
    except PostgresUnavailableError as exc:
        reason = f"PostgreSQL unavailable: {exc}"
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    try:
        yield url
    finally:
        close()
