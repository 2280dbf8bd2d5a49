"""The checks of the settings that their JSON Schema (settings.py) cannot state, each naming
the setting: two ways to authenticate, an id with a trailing newline (a JSON Schema ``pattern``
is searched, and ``$`` matches before a final newline), an ``api_url`` with a path, dates in
the wrong order, a file of ids that cannot be read, a time zone that does not exist.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tap_gong_calls.call_ids_file import read_call_ids_file
from tap_gong_calls.settings import (
    BOTH_ID_SETTINGS,
    GONG_ID,
    LOOPBACK_HOSTS,
    by_ids,
)
from tap_gong_calls.timestamps import parse_utc

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping


def config_errors(config: Mapping[str, Any]) -> list[str]:
    """Problems the JSON Schema cannot state, each naming the settings to fix."""
    get = config.get
    errors = connection_errors(config)
    if not by_ids(config) and not get("start_date"):
        errors.append(
            "Nothing to extract: set call_ids or call_ids_file (calls by id) or start_date "
            "(date-range mode)."
        )
    if (zone := get("company_time_zone")) and not _is_time_zone(str(zone)):
        errors.append(
            f"company_time_zone {zone!r} is not an IANA time zone name (e.g. America/New_York)."
        )
    if get("exclude_private_calls") is True and get("private_calls") not in (None, "exclude"):
        errors.append(
            f"exclude_private_calls: true and private_calls: {get('private_calls')} disagree: "
            f"remove exclude_private_calls (deprecated) and keep private_calls."
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
            if isinstance(call_id, str) and not GONG_ID.fullmatch(call_id)
        ]
    workspace_id = get("workspace_id")
    if isinstance(workspace_id, str) and not GONG_ID.fullmatch(workspace_id):
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


def deprecation_warnings(config: Mapping[str, Any]) -> list[str]:
    """Settings that still work, and what replaces them."""
    if config.get("exclude_private_calls") is None:
        return []
    return [
        "exclude_private_calls is deprecated: set private_calls to exclude (what "
        "exclude_private_calls: true did), metadata (the default: a private call keeps only "
        "what Gong shows everyone) or include."
    ]


def _is_time_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):
        return False
    return True
