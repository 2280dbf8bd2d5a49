"""The tap's settings: their JSON Schema, and the checks it cannot state, each naming the setting.

The schema says types, bounds and defaults (and is what `--about` prints); the checks are what
a user can still get wrong in a way the schema accepts: two ways to authenticate, an id with
a trailing newline (a JSON Schema ``pattern`` is searched, and ``$`` matches before a final
newline), an ``api_url`` with a path, dates in the wrong order.
"""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError

from tap_gong_calls.call_ids_file import read_call_ids_file
from tap_gong_calls.timestamps import parse_utc

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

GONG_ID_PATTERN = r"^[0-9]{1,20}$"
_GONG_ID = re.compile(r"[0-9]{1,20}")
# Where plain http is allowed: the credentials never leave the machine.
LOOPBACK_HOSTS = ("localhost",)
# What a connection check needs; the rest of the settings say what a run extracts.
CONNECTION_SETTINGS = ("access_key", "access_key_secret", "access_token", "api_url")
BOTH_ID_SETTINGS = "Both call_ids and call_ids_file are set: set only one of them."


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
        "exclude_private_calls",
        th.BooleanType(nullable=False),
        default=False,
        title="Exclude Private Calls",
        description="Do not load calls whose isPrivate is true: each private call a run "
        "lists goes out as a tombstone (keys and _sdc_deleted_at, every other field null) "
        "in every selected stream, so a copy loaded before it turned private is blanked; "
        "its transcript is never requested.",
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
        description="The most requests the tap sends in any 24 hours, counted across runs "
        "in the state. Gong allows 10,000 a day per company, shared by every integration: "
        "the default leaves half to the others. A run that reaches it stops cleanly (exit "
        "0) with a STATE the next run resumes from (1-1000000).",
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


def config_errors(config: Mapping[str, Any]) -> list[str]:
    """Problems the JSON Schema cannot state, each naming the settings to fix."""
    get = config.get
    errors = connection_errors(config)
    if not by_ids(config) and not get("start_date"):
        errors.append(
            "Nothing to extract: set call_ids or call_ids_file (calls by id) or start_date "
            "(date-range mode)."
        )
    path = get("call_ids_file")
    if path is not None and get("call_ids") is not None:
        errors.append(BOTH_ID_SETTINGS)
    elif isinstance(path, str):
        errors += read_call_ids_file(path)[1]
    call_ids = get("call_ids")
    if isinstance(call_ids, list):
        errors += [
            f"call_ids has {call_id!r}, which is not a Gong call id (1-20 digits, nothing else)."
            for call_id in call_ids
            if isinstance(call_id, str) and not _GONG_ID.fullmatch(call_id)
        ]
    workspace_id = get("workspace_id")
    if isinstance(workspace_id, str) and not _GONG_ID.fullmatch(workspace_id):
        errors.append(
            f"workspace_id {workspace_id!r} is not a Gong workspace id (1-20 digits, nothing else)."
        )
    dates = {}
    for setting in ("start_date", "end_date"):
        if get(setting):
            try:
                dates[setting] = parse_utc(str(get(setting)))
            except ValueError:
                errors.append(f"{setting} {get(setting)!r} is not an ISO-8601 date-time.")
    if len(dates) == 2 and dates["start_date"] >= dates["end_date"]:
        errors.append("start_date must be before end_date.")
    return errors


def connection_errors(config: Mapping[str, Any]) -> list[str]:
    """Problems with the credentials and ``api_url``: all that a connection check needs."""
    get = config.get
    errors = []
    has_key = bool(get("access_key")) or bool(get("access_key_secret"))
    if has_key and get("access_token"):
        errors.append(
            "Both access_key/access_key_secret and access_token are set: configure exactly "
            "one way to authenticate."
        )
    elif has_key and not (get("access_key") and get("access_key_secret")):
        missing = "access_key_secret" if get("access_key") else "access_key"
        errors.append(f"{missing} is not set: Basic auth needs access_key and access_key_secret.")
    elif not has_key and not get("access_token"):
        errors.append("No credentials: set access_key and access_key_secret, or access_token.")
    return errors + api_url_errors(str(get("api_url") or ""))


def api_url_errors(value: str) -> list[str]:
    """Problems with ``api_url``: it must be a scheme and a host (and port), https off loopback."""
    try:
        url = urlparse(value)
        host = url.hostname or ""
        _ = url.port  # raises on a port that is not a number
    except ValueError:  # e.g. an unclosed [ of an IPv6 address
        url, host = urlparse(""), ""
    if url.scheme not in ("http", "https") or not host:
        return [f"api_url {value!r} is not an http(s) URL such as https://api.gong.io."]
    if url.path.strip("/") or url.query or url.fragment or url.params or url.username:
        # The tap appends /v2/calls…: a path here would ask Gong for /v2/v2/calls.
        base = f"{url.scheme}://{url.netloc.rpartition('@')[2]}"
        return [
            f"api_url {value!r} must be only a scheme and host (and port), such as {base}: "
            "the tap adds the /v2/… paths itself."
        ]
    if url.scheme == "http" and not _is_loopback(host):
        # Basic auth and bearer tokens travel in a header: over http, in clear text.
        return [
            f"api_url {value!r} uses http, which would send the credentials in clear text: "
            "use https (plain http is allowed only for localhost, 127.0.0.0/8 and ::1)."
        ]
    return []


def unknown_settings(config: Mapping[str, Any], known: Iterable[str]) -> list[str]:
    """The config's keys that are no setting of the tap (a typo, or another plugin's)."""
    known = set(known)
    return sorted(key for key in config if key not in known)


def _is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name
        return False
