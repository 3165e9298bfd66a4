"""Date phrases for the archive window (`last 7 days`, `1 June 2025 to 15 June 2025`) and the
UTC bounds of such a window in a configuration's time zone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from foundations.days import day_bounds_utc
from foundations.inputs import DATE_MAX, DATE_MIN, DATE_RANGE_MESSAGE

MAX_LAST_DAYS = 366

ACCEPTED_FORMS = (
    "today",
    "yesterday",
    "last N days (N from 1 to 366, ending yesterday)",
    "last week",
    "last month",
    "this week",
    "this month",
    "a date: 2025-06-01, 1-6-2025, 01-06-2025, 1/6/2025, 1.6.2025, 1 June 2025, 1 Jun 2025 "
    "or June 1 2025 (day before month when written with numbers)",
    "a range: <date> to <date>",
)

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH_NAMES = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]

_LAST_DAYS = re.compile(r"last (?P<count>\S+) days?")
_ISO = re.compile(r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})")
# The same separator twice, so `1-6/2025` is not taken for a date.
_DAY_MONTH_YEAR = re.compile(
    r"(?P<day>\d{1,2})(?P<sep>[-/.])(?P<month>\d{1,2})(?P=sep)(?P<year>\d{4})"
)
_DAY_NAME_YEAR = re.compile(
    r"(?P<day>\d{1,2})(?:st|nd|rd|th)? (?P<month>[a-z]+)\.?,? (?P<year>\d{4})"
)
_NAME_DAY_YEAR = re.compile(
    r"(?P<month>[a-z]+)\.? (?P<day>\d{1,2})(?:st|nd|rd|th)?,? (?P<year>\d{4})"
)


class DatePhraseError(ValueError):
    """The phrase was not understood; the message says why and lists the accepted forms."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"{reason} Accepted forms: {'; '.join(ACCEPTED_FORMS)}.")
        self.reason = reason


@dataclass(frozen=True)
class DateRange:
    """Days from `start` to `end`, both included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(
                f"A date range cannot end ({self.end}) before it starts ({self.start})."
            )

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def __iter__(self) -> Iterator[date]:
        for offset in range(self.days):
            yield self.start + timedelta(days=offset)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    def __str__(self) -> str:
        return str(self.start) if self.start == self.end else f"{self.start} to {self.end}"


def parse_date_phrase(text: str, *, today: date) -> DateRange:
    """The days a phrase names, relative to `today`; case and extra whitespace do not matter.

    Weeks run Monday to Sunday. `last N days` ends yesterday because today is not over yet.
    Dates written with numbers are day-month-year (or ISO year-month-day), never month-day-year.
    """
    phrase = " ".join((text or "").split()).lower()
    if not phrase:
        raise DatePhraseError("The date phrase is empty.")
    relative = _relative(phrase, today)
    if relative is not None:
        return relative
    if " to " in phrase:
        return _range(phrase, today)
    day = _day(phrase, today)
    return DateRange(day, day)


def _relative(phrase: str, today: date) -> DateRange | None:
    yesterday = today - timedelta(days=1)
    monday = today - timedelta(days=today.weekday())
    first_of_month = today.replace(day=1)
    if phrase == "last week":
        return DateRange(monday - timedelta(days=7), monday - timedelta(days=1))
    if phrase == "last month":
        end = first_of_month - timedelta(days=1)
        return DateRange(end.replace(day=1), end)
    if phrase == "this week":
        return DateRange(monday, today)
    if phrase == "this month":
        return DateRange(first_of_month, today)
    if phrase in ("today", "yesterday"):
        day = today if phrase == "today" else yesterday
        return DateRange(day, day)
    match = _LAST_DAYS.fullmatch(phrase)
    if match is None:
        return None
    count_text = match["count"]
    if not re.fullmatch(r"[+-]?\d+", count_text):
        raise DatePhraseError(f"In {phrase!r}, N must be a whole number such as 7.")
    count = int(count_text)
    if count < 1:
        raise DatePhraseError(f"In {phrase!r}, N must be at least 1.")
    if count > MAX_LAST_DAYS:
        raise DatePhraseError(f"In {phrase!r}, N can be at most {MAX_LAST_DAYS}.")
    return DateRange(today - timedelta(days=count), yesterday)


def _range(phrase: str, today: date) -> DateRange:
    first, _, last = phrase.partition(" to ")
    if " to " in last:
        raise DatePhraseError(f"{phrase!r} has 'to' more than once; a range is <date> to <date>.")
    start, end = _day(first, today), _day(last, today)
    if end < start:
        raise DatePhraseError(f"The range {phrase!r} ends ({end}) before it starts ({start}).")
    return DateRange(start, end)


def _day(text: str, today: date) -> date:
    # `today` and `yesterday` also work as the ends of a range: "2025-06-01 to today".
    if text == "today":
        return today
    if text == "yesterday":
        return today - timedelta(days=1)
    for pattern in (_ISO, _DAY_MONTH_YEAR):
        match = pattern.fullmatch(text)
        if match:
            return _date(text, int(match["year"]), int(match["month"]), int(match["day"]))
    for pattern in (_DAY_NAME_YEAR, _NAME_DAY_YEAR):
        match = pattern.fullmatch(text)
        if match:
            month = _MONTHS.get(match["month"])
            if month is None:
                raise DatePhraseError(
                    f"{match['month']!r} in {text!r} is not an English month name or its "
                    "three-letter abbreviation."
                )
            return _date(text, int(match["year"]), month, int(match["day"]))
    raise DatePhraseError(f"{text!r} is not a date phrase this archive understands.")


def _date(text: str, year: int, month: int, day: int) -> date:
    if year < 1:
        raise DatePhraseError(f"{text!r} has year 0, which does not exist.")
    if not DATE_MIN.year <= year <= DATE_MAX.year:
        raise DatePhraseError(f"{text!r} is out of range. {DATE_RANGE_MESSAGE}")
    if not 1 <= month <= 12:
        raise DatePhraseError(f"{text!r} has month {month}; months run from 1 to 12.")
    next_month = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    days_in_month = (next_month - date(year, month, 1)).days
    if not 1 <= day <= days_in_month:
        raise DatePhraseError(
            f"{text!r} is not a real date: {_MONTH_NAMES[month - 1]} {year} has "
            f"{days_in_month} days."
        )
    return date(year, month, day)


def window_bounds(dates: DateRange, timezone: str) -> tuple[datetime, datetime]:
    """Aware UTC instants for the start of the first day and the start of the day after the last,
    both reckoned in the IANA zone `timezone`.

    Days are not always 24 hours: a Europe/London window on the spring-forward day is 23 hours.
    Where a zone skips local midnight, the day starts at the first instant that exists.
    """
    return day_bounds_utc(dates.start, dates.end, _zone(timezone))


def _zone(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as error:
        raise ValueError(
            f"Unknown time zone {timezone!r}: use an IANA name such as 'Europe/London'."
        ) from error
