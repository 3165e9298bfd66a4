"""Local days as instants: a person's day starts at midnight in their own time zone.

Pure functions on the standard library's zoneinfo (the clock is Django's); no app imports. Days
are not always 24 hours: a Europe/London day is 23 hours on the spring-forward Sunday and 25 on
the autumn one.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.formats import localize, time_format
from django.utils.translation import get_language


def _zone(zone: str | ZoneInfo) -> ZoneInfo:
    return zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)


def day_start_utc(day: date, zone: str | ZoneInfo) -> datetime:
    """The aware UTC instant at which `day` starts in `zone`.

    Where a zone skips local midnight (America/Santiago in September), the day starts at its
    first instant that exists: fold=0 on a skipped time takes the offset before the jump, which
    lands there once converted; on a repeated midnight it picks the first.
    """
    return datetime.combine(day, time.min, tzinfo=_zone(zone)).astimezone(UTC)


def day_bounds_utc(first: date, last: date, zone: str | ZoneInfo) -> tuple[datetime, datetime]:
    """[start of `first`, start of the day after `last`) in `zone`, as aware UTC instants."""
    return day_start_utc(first, zone), day_start_utc(last + timedelta(days=1), zone)


def today_in(zone: str | ZoneInfo, *, now: datetime | None = None) -> date:
    """The date it is in `zone` at `now` (default: this instant), not the server's date."""
    return (now or timezone.now()).astimezone(_zone(zone)).date()


EN_DASH = "\u2013"


def short_period(start: date, end: date) -> str:
    """`1-30 Nov 2026` (an en dash), `28 Nov - 3 Dec 2026`, `28 Dec 2025 - 3 Jan 2026`: a period
    short enough for a list's column."""
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}{EN_DASH}{end.day} {end:%b %Y}"
    first = f"{start.day} {start:%b}" if start.year == end.year else f"{start.day} {start:%b %Y}"
    return f"{first} {EN_DASH} {end.day} {end:%b %Y}"


def day_label(day: date) -> str:
    """The day as the active language writes a date (`localize`): `7 Dec 2026` in en-gb."""
    return _day_label(day, get_language())


def clock_label(at: time) -> str:
    """A time of day as the active language writes one (`time_format`): `4:45 p.m.`, `noon`."""
    return _clock_label(at, get_language())


# A list page writes the same few days and times on its hundred rows; Django's formatting reads
# the locale's format and walks it for each (about 15 us a value: a third of the appointment
# list's row cost). Kept per value and language: a process's locale formats do not change.
@lru_cache(maxsize=4096)
def _day_label(day: date, language: str | None) -> str:
    return localize(day)


@lru_cache(maxsize=4096)
def _clock_label(at: time, language: str | None) -> str:
    return time_format(at)
