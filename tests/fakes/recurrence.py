"""Graph's date-time shapes and the expansion of recurring series, as plain functions."""

from __future__ import annotations

import calendar
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .zones import zone_info

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

SUPPORTED_PATTERNS = ("daily", "weekly", "absoluteMonthly")
SUPPORTED_RANGES = ("endDate", "noEnd", "numbered")

# A series without an end would otherwise be expanded forever.
MAX_OCCURRENCES = 20_000


class UnsupportedValue(ValueError):
    pass


def zone(name: str) -> ZoneInfo:
    """An IANA or Windows time zone name, as Graph accepts in `timeZone` and `Prefer`."""
    try:
        return zone_info(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise UnsupportedValue(f"unknown time zone {name!r}") from error


def parse_graph_datetime(value: Any) -> datetime:
    """`{"dateTime": "2025-05-08T10:00:00.0000000", "timeZone": "Europe/London"}` → aware."""
    if not isinstance(value, dict) or not value.get("dateTime") or not value.get("timeZone"):
        raise UnsupportedValue("a dateTimeTimeZone needs both dateTime and timeZone")
    return _parse_graph_datetime(str(value["dateTime"]), str(value["timeZone"]))


@functools.lru_cache(maxsize=65536)  # calendarView re-reads every stored time on every page
def _parse_graph_datetime(text: str, zone_name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise UnsupportedValue(f"unparsable dateTime {text!r}") from error
    if moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=zone(zone_name))


def format_graph_datetime(moment: datetime, zone_name: str) -> dict[str, str]:
    local = moment.astimezone(zone(zone_name)).replace(tzinfo=None)
    return {
        "dateTime": local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond:06d}0",
        "timeZone": zone_name,
    }


def parse_query_datetime(text: str) -> datetime:
    """calendarView's startDateTime/endDateTime: ISO 8601; without an offset it means UTC."""
    moment = datetime.fromisoformat(text.strip())
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def utc_stamp(moment: datetime | None = None) -> str:
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}0Z"


def validate_recurrence(recurrence: Any) -> None:
    if not isinstance(recurrence, dict):
        raise UnsupportedValue("recurrence must be an object with pattern and range")
    pattern = recurrence.get("pattern") or {}
    series_range = recurrence.get("range") or {}
    if pattern.get("type") not in SUPPORTED_PATTERNS:
        raise UnsupportedValue(
            f"the fake supports recurrence patterns {SUPPORTED_PATTERNS}, "
            f"not {pattern.get('type')!r}"
        )
    if series_range.get("type") not in SUPPORTED_RANGES:
        raise UnsupportedValue(
            f"the fake supports recurrence ranges {SUPPORTED_RANGES}, "
            f"not {series_range.get('type')!r}"
        )
    if int(pattern.get("interval") or 1) < 1:
        raise UnsupportedValue("recurrence interval must be at least 1")
    if pattern["type"] == "weekly":
        days = pattern.get("daysOfWeek") or []
        if not days or any(str(day).lower() not in WEEKDAYS for day in days):
            raise UnsupportedValue(f"weekly recurrence needs daysOfWeek, got {days!r}")
    if pattern["type"] == "absoluteMonthly" and not pattern.get("dayOfMonth"):
        raise UnsupportedValue("absoluteMonthly recurrence needs dayOfMonth")
    if series_range["type"] == "endDate" and not series_range.get("endDate"):
        raise UnsupportedValue("an endDate range needs endDate")
    if series_range["type"] == "numbered" and int(series_range.get("numberOfOccurrences") or 0) < 1:
        raise UnsupportedValue("a numbered range needs numberOfOccurrences ≥ 1")
    for key in ("startDate", "endDate"):
        if series_range.get(key):
            date.fromisoformat(str(series_range[key]))


def _candidate_dates(pattern: dict[str, Any], first: date) -> Iterator[date]:
    interval = int(pattern.get("interval") or 1)
    kind = pattern["type"]
    if kind == "daily":
        day = first
        while True:
            yield day
            day += timedelta(days=interval)
    elif kind == "weekly":
        wanted = {WEEKDAYS.index(str(day).lower()) for day in pattern["daysOfWeek"]}
        week_begins = WEEKDAYS.index(str(pattern.get("firstDayOfWeek") or "sunday").lower())
        week = first - timedelta(days=(first.weekday() - week_begins) % 7)
        while True:
            for offset in range(7):
                day = week + timedelta(days=offset)
                if day >= first and day.weekday() in wanted:
                    yield day
            week += timedelta(weeks=interval)
    else:  # absoluteMonthly
        day_of_month = int(pattern["dayOfMonth"])
        year, month = first.year, first.month
        while True:
            if day_of_month <= calendar.monthrange(year, month)[1]:
                day = date(year, month, day_of_month)
                if day >= first:
                    yield day
            month += interval
            year, month = year + (month - 1) // 12, (month - 1) % 12 + 1


@dataclass(frozen=True)
class Occurrence:
    original_date: date  # the date in the series' time zone
    start: datetime
    end: datetime


def occurrences(
    master_start: datetime,
    master_end: datetime,
    recurrence: dict[str, Any],
    series_zone_name: str,
    window_start: datetime,
    window_end: datetime,
) -> list[Occurrence]:
    """Occurrences of a series overlapping [window_start, window_end).

    Each keeps the master's wall-clock time in the series' zone, so DST moves it in UTC.
    """
    pattern = recurrence["pattern"]
    series_range = recurrence["range"]
    series_zone = zone(series_range.get("recurrenceTimeZone") or series_zone_name)
    local_start = master_start.astimezone(series_zone).replace(tzinfo=None)
    local_end = master_end.astimezone(series_zone).replace(tzinfo=None)
    duration = local_end - local_start
    first = (
        date.fromisoformat(series_range["startDate"])
        if series_range.get("startDate")
        else local_start.date()
    )
    last = (
        date.fromisoformat(series_range["endDate"]) if series_range["type"] == "endDate" else None
    )
    count = int(series_range["numberOfOccurrences"]) if series_range["type"] == "numbered" else None
    horizon = window_end.astimezone(series_zone).date() + timedelta(days=1)
    found: list[Occurrence] = []
    for index, day in enumerate(_candidate_dates(pattern, first)):
        if index >= MAX_OCCURRENCES or (count is not None and index >= count):
            break
        if (last is not None and day > last) or day > horizon:
            break
        wall_start = datetime.combine(
            day, time(local_start.hour, local_start.minute, local_start.second)
        )
        start = wall_start.replace(tzinfo=series_zone)
        end = (wall_start + duration).replace(tzinfo=series_zone)
        if start < window_end and end > window_start:
            found.append(Occurrence(day, start, end))
    return found
