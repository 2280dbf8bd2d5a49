"""The tap's settings: their JSON Schema, and what a run reads from them (config_checks.py has
the checks the schema cannot state).

The schema says types, bounds and defaults (and is what `--about` prints).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError

from tap_gong_calls.call_ids_file import read_call_ids_file

if TYPE_CHECKING:
    from collections.abc import Mapping

GONG_ID_PATTERN = r"^[0-9]{1,20}$"
GONG_ID = re.compile(r"[0-9]{1,20}")
# Where plain http is allowed: the credentials never leave the machine.
LOOPBACK_HOSTS = ("localhost",)
# What a connection check needs; the rest of the settings say what a run extracts.
CONNECTION_SETTINGS = ("access_key", "access_key_secret", "access_token", "api_url")
BOTH_ID_SETTINGS = "Both call_ids and call_ids_file are set: set only one of them."


# The private_calls values; the first is the default.
PRIVATE_CALLS = ("metadata", "exclude", "include")


def private_calls_of(config: Mapping[str, Any]) -> str:
    """What the run does with private calls: private_calls, else the deprecated
    exclude_private_calls: true, else metadata."""
    if setting := config.get("private_calls"):
        return str(setting)
    return "exclude" if config.get("exclude_private_calls") is True else PRIVATE_CALLS[0]


CONFIG_SCHEMA = th.PropertiesList(
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
        "are fetched once). When set, start_date and the bookmark are not used. For lists "
        "of more than about 5,900 ids, use call_ids_file.",
        minItems=1,  # passed into the JSON Schema verbatim
    ),
    th.Property(
        "call_ids_file",
        th.StringType(nullable=False),
        title="Call IDs File",
        description="Instead of call_ids: the path of a file of call ids, one a line (blank "
        "lines and # comments ignored) or a JSON array of id strings, for lists too long for "
        "an environment variable (Meltano passes each setting as one; call_ids fails past "
        "about 5,900 ids). A relative path is read from the directory the tap runs in.",
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
        description="Date-range mode (without call_ids and call_ids_file): the earliest "
        "call time to extract, ISO-8601. Later runs start from the bookmark minus "
        "lookback_days.",
    ),
    th.Property(
        "end_date",
        th.DateTimeType(nullable=False),
        title="End Date",
        description="Date-range mode: extract calls before this time (exclusive). Default: now.",
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
        "company_time_zone",
        th.StringType(nullable=True),
        title="Company Time Zone",
        description="The IANA time zone of your Gong company (e.g. America/New_York; unset: "
        "UTC). Gong filters answered scorecards by days in it; each run reads again the day "
        "before its bookmark, which also absorbs a zone set a few hours off.",
    ),
    th.Property(
        "private_calls",
        th.StringType(nullable=True, allowed_values=list(PRIVATE_CALLS)),
        title="Private Calls",
        description="What to load of a call set private in Gong, whose content is for its "
        "owner, participants and those they share it with. metadata (the default): its calls "
        "row keeps only what Gong shows everyone (id, scheduled, started, primaryUserId, "
        "workspaceId, isPrivate; every other field null), and its participants, details, "
        "transcript and reviews are never written (tombstones blank those loaded before); its "
        "transcript is never requested. exclude: a tombstone in every stream, calls too. "
        "include: everything, as for any call.",
    ),
    th.Property(
        "exclude_private_calls",
        th.BooleanType(nullable=True),
        title="Exclude Private Calls",
        description="Deprecated: true is private_calls: exclude (with a warning); false "
        "leaves private_calls at its default.",
    ),
    th.Property(
        "transcript_wait_days",
        th.IntegerType(nullable=False, minimum=0, maximum=90),
        default=7,
        title="Transcript Wait Days",
        description="Date-range mode: how many days to keep asking, on each run, for a "
        "transcript Gong had not made ready, counted from the run that first found it "
        "missing, even after its call left the lookback window (0-90; 0: never).",
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
        description="The most requests the tap sends in any 24 hours, counted across every "
        "run of the company's Gong host in the request ledger (request_ledger) and the "
        "state. Gong allows 10,000 a day per company, shared by every integration: "
        "the default leaves half to the others. A run that reaches it stops cleanly (exit "
        "0) with a STATE the next run resumes from (1-1000000).",
    ),
    th.Property(
        "remove_nul_characters",
        th.BooleanType(nullable=False),
        default=True,
        title="Remove NUL Characters",
        description="Remove U+0000 from every string the tap writes (values and keys, at any "
        "depth), counted in the Summary and named once per stream and field in a warning: "
        "PostgreSQL refuses it in text and JSON columns, and one would stop every load of "
        "that call. Set false for a target that keeps it. Lone UTF-16 surrogates, which no "
        "UTF-8 target stores, are always replaced with U+FFFD.",
    ),
    th.Property(
        "request_ledger",
        th.StringType(nullable=True),
        secret=True,  # a PostgreSQL URL may hold a password
        title="Request Ledger",
        description="Where every run records the requests it sends to your company's Gong "
        "host, so that the daily request budget holds across full refreshes, state ids, "
        "environments and runs at once. Unset: a file in the user's cache folder "
        "($XDG_CACHE_HOME or ~/.cache, tap-gong-calls/), for the runs of one machine; an "
        "absolute folder path: that folder; a postgresql:// URL (the warehouse or Meltano's "
        "system database; pip install 'tap-gong-calls[postgres]'): one small table, for CI "
        "runners whose disk does not survive. A ledger that cannot be read fails the run.",
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


def by_ids(config: Mapping[str, Any]) -> bool:
    """Whether the run fetches calls by id (``call_ids_of`` is not None), without reading
    ``call_ids_file``: a missing file fails the config check, not a catalog's discovery."""
    return config.get("call_ids") is not None or config.get("call_ids_file") is not None


def call_ids_of(config: Mapping[str, Any]) -> list[str] | None:
    """The calls to fetch by id, in the order given, duplicates kept: ``call_ids``, or those
    of ``call_ids_file``. None: date-range mode.

    Raises ConfigValidationError, naming the file, when ``call_ids_file`` cannot be used
    (config_errors says so before any request; this is for a file changed since).
    """
    path = config.get("call_ids_file")
    if path is None:
        call_ids = config.get("call_ids")
        return None if call_ids is None else list(call_ids)
    call_ids, errors = read_call_ids_file(str(path))
    if config.get("call_ids") is not None:
        errors = [BOTH_ID_SETTINGS]
    if errors:
        raise ConfigValidationError("Config validation failed", errors=errors)
    return call_ids
