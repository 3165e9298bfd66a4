"""Validators shared by several apps."""

from __future__ import annotations

import zoneinfo
from functools import lru_cache

from django.core.exceptions import ValidationError


@lru_cache(maxsize=1)
def _iana_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_timezone(value: str) -> None:
    if value not in _iana_time_zones():
        raise ValidationError(
            "%(value)s is not a valid IANA time zone name (for example Europe/London).",
            code="invalid_timezone",
            params={"value": value},
        )
