"""Validators shared by several apps."""

from __future__ import annotations

import zoneinfo
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

# What the system tz database holds beside real zone names: the host's own zone, a placeholder,
# and the POSIX-rule and leap-second copies of every zone.
_NOT_ZONE_NAMES = frozenset({"localtime", "Factory", "posixrules"})
_NOT_ZONE_PREFIXES = ("posix/", "right/", "SystemV/")


@lru_cache(maxsize=1)
def _iana_time_zones() -> frozenset[str]:
    """Area/Location names (Europe/London, Etc/GMT+5, ...) and UTC.

    Single-word legacy names (EST5EDT, CET, GB, Zulu, ...) are refused: they are POSIX-style rules
    or deprecated aliases, and a user who means them has an Area/Location name to choose."""
    return frozenset(
        name
        for name in zoneinfo.available_timezones()
        if name not in _NOT_ZONE_NAMES
        and not name.startswith(_NOT_ZONE_PREFIXES)
        and ("/" in name or name == "UTC")
    ) | {"UTC"}


def iana_time_zone(name: str | None) -> str | None:
    """The IANA name for a zone as Outlook reports it: an IANA name, or a Windows name
    (`GMT Standard Time`) mapped with CLDR's windowsZones data (as tzlocal ships it)."""
    from tzlocal.windows_tz import win_tz

    name = (name or "").strip()
    if name in _iana_time_zones():
        return name
    mapped = win_tz.get(name)
    if mapped == "Etc/UTC":
        return "UTC"
    return mapped if mapped in _iana_time_zones() else None


def validate_timezone(value: str) -> None:
    if value not in _iana_time_zones():
        raise ValidationError(
            "%(value)s is not a valid IANA time zone name (for example Europe/London).",
            code="invalid_timezone",
            params={"value": value},
        )


HTTPS_URL_MESSAGE = (
    "Enter an https:// address (other schemes such as http: or javascript: are refused)."
)


def validate_https_url(value: str) -> None:
    """An https:// URL, nothing else: the address is shown to browsers, so no javascript:,
    data: or plain http:."""
    URLValidator(schemes=["https"], message=HTTPS_URL_MESSAGE, code="https_url")(value)
