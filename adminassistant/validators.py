"""Validators shared by several apps."""

from __future__ import annotations

import zoneinfo
from functools import lru_cache

from django.core.exceptions import ValidationError


@lru_cache(maxsize=1)
def _iana_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


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
