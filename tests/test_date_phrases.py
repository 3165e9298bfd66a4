"""Date phrases name the archive window; window bounds follow the configuration's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from archiving.phrases import DatePhraseError, DateRange, parse_date_phrase, window_bounds

WEDNESDAY = date(2025, 6, 11)


def days(phrase: str, today: date = WEDNESDAY) -> tuple[str, str]:
    found = parse_date_phrase(phrase, today=today)
    return (found.start.isoformat(), found.end.isoformat())


# --- DateRange --------------------------------------------------------------------------------


def test_a_date_range_includes_both_ends() -> None:
    assert DateRange(date(2025, 6, 1), date(2025, 6, 3)).days == 3


def test_a_one_day_range_has_one_day() -> None:
    assert DateRange(WEDNESDAY, WEDNESDAY).days == 1


def test_a_date_range_iterates_over_its_days() -> None:
    assert list(DateRange(date(2025, 2, 27), date(2025, 3, 2))) == [
        date(2025, 2, 27),
        date(2025, 2, 28),
        date(2025, 3, 1),
        date(2025, 3, 2),
    ]


@pytest.mark.parametrize(
    ("day", "inside"),
    [
        (date(2025, 5, 31), False),
        (date(2025, 6, 1), True),
        (date(2025, 6, 3), True),
        (date(2025, 6, 4), False),
    ],
)
def test_a_date_range_contains_its_days_only(day: date, inside: bool) -> None:
    assert (day in DateRange(date(2025, 6, 1), date(2025, 6, 3))) is inside


def test_a_date_range_cannot_end_before_it_starts() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        DateRange(date(2025, 6, 2), date(2025, 6, 1))


# --- relative phrases -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("today", ("2025-06-11", "2025-06-11")),
        ("yesterday", ("2025-06-10", "2025-06-10")),
        ("last 7 days", ("2025-06-04", "2025-06-10")),
        ("last 1 day", ("2025-06-10", "2025-06-10")),
        ("last 1 days", ("2025-06-10", "2025-06-10")),
        ("last 30 days", ("2025-05-12", "2025-06-10")),
        ("last 366 days", ("2024-06-10", "2025-06-10")),
        ("last week", ("2025-06-02", "2025-06-08")),
        ("last month", ("2025-05-01", "2025-05-31")),
        ("this week", ("2025-06-09", "2025-06-11")),
        ("this month", ("2025-06-01", "2025-06-11")),
    ],
)
def test_relative_phrases_count_from_today(phrase: str, expected: tuple[str, str]) -> None:
    assert days(phrase) == expected


@pytest.mark.parametrize(
    "phrase",
    ["Last 7 Days", "LAST 7 DAYS", "  last   7\tdays  ", "last 7 days\n", "last 07 days"],
)
def test_phrases_ignore_case_and_whitespace(phrase: str) -> None:
    assert days(phrase) == ("2025-06-04", "2025-06-10")


def test_last_n_days_has_n_days() -> None:
    assert parse_date_phrase("last 14 days", today=WEDNESDAY).days == 14


def test_yesterday_on_the_first_of_january_is_new_years_eve() -> None:
    assert days("yesterday", today=date(2025, 1, 1)) == ("2024-12-31", "2024-12-31")


def test_last_days_cross_into_the_previous_year() -> None:
    assert days("last 3 days", today=date(2025, 1, 2)) == ("2024-12-30", "2025-01-01")


def test_last_days_count_the_leap_day() -> None:
    assert days("last 2 days", today=date(2024, 3, 1)) == ("2024-02-28", "2024-02-29")


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2025, 6, 9), ("2025-06-02", "2025-06-08")),  # Monday
        (date(2025, 6, 15), ("2025-06-02", "2025-06-08")),  # Sunday
        (date(2025, 1, 1), ("2024-12-23", "2024-12-29")),  # Wednesday after the year turned
        (date(2024, 3, 4), ("2024-02-26", "2024-03-03")),  # Monday after a leap day
    ],
)
def test_last_week_is_the_previous_monday_to_sunday(today: date, expected: tuple[str, str]) -> None:
    assert days("last week", today=today) == expected


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2025, 6, 9), ("2025-06-09", "2025-06-09")),  # Monday: just today
        (date(2025, 6, 15), ("2025-06-09", "2025-06-15")),  # Sunday: the whole week
        (date(2025, 1, 2), ("2024-12-30", "2025-01-02")),  # a week spanning new year
    ],
)
def test_this_week_runs_from_monday_to_today(today: date, expected: tuple[str, str]) -> None:
    assert days("this week", today=today) == expected


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2025, 1, 15), ("2024-12-01", "2024-12-31")),  # January: December last year
        (date(2025, 3, 1), ("2025-02-01", "2025-02-28")),
        (date(2024, 3, 31), ("2024-02-01", "2024-02-29")),  # leap year
        (date(2025, 5, 31), ("2025-04-01", "2025-04-30")),
        (date(2025, 8, 1), ("2025-07-01", "2025-07-31")),
    ],
)
def test_last_month_is_the_previous_calendar_month(today: date, expected: tuple[str, str]) -> None:
    assert days("last month", today=today) == expected


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2025, 6, 1), ("2025-06-01", "2025-06-01")),
        (date(2024, 2, 29), ("2024-02-01", "2024-02-29")),
        (date(2025, 12, 31), ("2025-12-01", "2025-12-31")),
    ],
)
def test_this_month_runs_from_the_first_to_today(today: date, expected: tuple[str, str]) -> None:
    assert days("this month", today=today) == expected


# --- dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "phrase",
    [
        "2025-06-01",
        "2025-6-1",
        "1-6-2025",
        "01-06-2025",
        "1/6/2025",
        "01/06/2025",
        "1.6.2025",
        "1 June 2025",
        "1 june 2025",
        "1 JUNE 2025",
        "1 Jun 2025",
        "01 Jun 2025",
        "1st June 2025",
        "June 1 2025",
        "June 1, 2025",
        "Jun 1 2025",
        "  1   June   2025  ",
    ],
)
def test_a_date_is_a_one_day_range(phrase: str) -> None:
    assert days(phrase) == ("2025-06-01", "2025-06-01")


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("3-4-2025", "2025-04-03"),
        ("3/4/2025", "2025-04-03"),
        ("12/1/2025", "2025-01-12"),
    ],
)
def test_numeric_dates_put_the_day_before_the_month(phrase: str, expected: str) -> None:
    assert days(phrase) == (expected, expected)


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("15 January 2025", "2025-01-15"),
        ("15 Feb 2025", "2025-02-15"),
        ("15 March 2025", "2025-03-15"),
        ("15 Apr 2025", "2025-04-15"),
        ("15 May 2025", "2025-05-15"),
        ("15 July 2025", "2025-07-15"),
        ("15 Aug 2025", "2025-08-15"),
        ("15 Sept 2025", "2025-09-15"),
        ("15 Sep 2025", "2025-09-15"),
        ("15 October 2025", "2025-10-15"),
        ("15 Nov 2025", "2025-11-15"),
        ("15 December 2025", "2025-12-15"),
    ],
)
def test_every_english_month_name_and_abbreviation_is_understood(
    phrase: str, expected: str
) -> None:
    assert days(phrase) == (expected, expected)


@pytest.mark.parametrize("phrase", ["2024-02-29", "29-02-2024", "29 February 2024", "Feb 29 2024"])
def test_the_leap_day_is_a_date_in_a_leap_year(phrase: str) -> None:
    assert days(phrase) == ("2024-02-29", "2024-02-29")


def test_a_date_does_not_depend_on_today() -> None:
    assert days("1 June 2025", today=date(2030, 1, 1)) == ("2025-06-01", "2025-06-01")


# --- ranges -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("2025-06-01 to 2025-06-15", ("2025-06-01", "2025-06-15")),
        ("1-6-2025 to 15-6-2025", ("2025-06-01", "2025-06-15")),
        ("1 June 2025 to 15 June 2025", ("2025-06-01", "2025-06-15")),
        ("1/6/2025 TO 2025-06-15", ("2025-06-01", "2025-06-15")),
        ("2025-06-01 to 2025-06-01", ("2025-06-01", "2025-06-01")),
        ("28 Dec 2024 to 3 Jan 2025", ("2024-12-28", "2025-01-03")),
        ("2025-06-01 to today", ("2025-06-01", "2025-06-11")),
        ("2025-06-01 to yesterday", ("2025-06-01", "2025-06-10")),
    ],
)
def test_a_range_runs_from_its_first_date_to_its_second(
    phrase: str, expected: tuple[str, str]
) -> None:
    assert days(phrase) == expected


def test_a_range_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(
        DatePhraseError, match=r"ends \(2025-06-01\) before it starts \(2025-06-15\)"
    ):
        parse_date_phrase("2025-06-15 to 2025-06-01", today=WEDNESDAY)


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phrase", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("31-02-2025", "February 2025 has 28 days"),
        ("29-02-2025", "February 2025 has 28 days"),
        ("2024-02-30", "February 2024 has 29 days"),
        ("31 April 2025", "April 2025 has 30 days"),
        ("0-6-2025", "June 2025 has 30 days"),
        ("1-13-2025", "month 13"),
        ("2025-00-10", "month 0"),
        ("0000-01-01", "year 0"),
        ("1 Juny 2025", "'juny' .* is not an English month name"),
        ("1 Juni 2025", "not an English month name"),
        ("last 0 days", "at least 1"),
        ("last -1 days", "at least 1"),
        ("last 367 days", "at most 366"),
        ("last five days", "whole number"),
        ("last 1.5 days", "whole number"),
        ("tomorrow", "'tomorrow' is not a date phrase"),
        ("next week", "not a date phrase"),
        ("last year", "not a date phrase"),
        ("last days", "not a date phrase"),
        ("6/1/25", "not a date phrase"),
        ("1-6/2025", "not a date phrase"),
        ("20250601", "not a date phrase"),
        ("June 2025", "not a date phrase"),
        ("2025-06-01 to", "not a date phrase"),
        ("to 2025-06-01", "not a date phrase"),
        ("2025-06-01 to 2025-06-02 to 2025-06-03", "'to' more than once"),
        ("2025-06-01 to 2025-06-31", "June 2025 has 30 days"),
        ("2025-06-01 to next week", "'next week' is not a date phrase"),
    ],
)
def test_a_phrase_that_is_not_understood_is_refused_with_its_reason(
    phrase: str, reason: str
) -> None:
    with pytest.raises(DatePhraseError, match=reason):
        parse_date_phrase(phrase, today=WEDNESDAY)


def test_a_refusal_lists_the_accepted_forms() -> None:
    with pytest.raises(DatePhraseError) as refused:
        parse_date_phrase("fortnight", today=WEDNESDAY)
    for form in (
        "today",
        "yesterday",
        "last N days",
        "last week",
        "1 June 2025",
        "<date> to <date>",
    ):
        assert form in str(refused.value)


def test_a_date_phrase_error_is_a_value_error() -> None:
    assert issubclass(DatePhraseError, ValueError)


# --- window_bounds ----------------------------------------------------------------------------


def one_day(day: date) -> DateRange:
    return DateRange(day, day)


@pytest.mark.parametrize(
    ("timezone", "day", "hours"),
    [
        ("Europe/London", date(2025, 3, 30), 23),
        ("Europe/London", date(2025, 10, 26), 25),
        ("Europe/London", date(2025, 6, 11), 24),
        ("Australia/Sydney", date(2025, 4, 6), 25),
        ("Australia/Sydney", date(2025, 10, 5), 23),
        ("Australia/Sydney", date(2025, 6, 11), 24),
        ("America/New_York", date(2025, 3, 9), 23),
        ("America/New_York", date(2025, 11, 2), 25),
        ("UTC", date(2025, 3, 30), 24),
    ],
)
def test_a_day_window_lasts_as_long_as_that_day_in_its_time_zone(
    timezone: str, day: date, hours: int
) -> None:
    start, end = window_bounds(one_day(day), timezone)
    assert end - start == timedelta(hours=hours)


@pytest.mark.parametrize(
    ("timezone", "day", "start", "end"),
    [
        (
            "Europe/London",
            date(2025, 3, 30),
            datetime(2025, 3, 30, 0, 0, tzinfo=UTC),
            datetime(2025, 3, 30, 23, 0, tzinfo=UTC),
        ),
        (
            "Europe/London",
            date(2025, 10, 26),
            datetime(2025, 10, 25, 23, 0, tzinfo=UTC),
            datetime(2025, 10, 27, 0, 0, tzinfo=UTC),
        ),
        (
            "Australia/Sydney",
            date(2025, 4, 6),
            datetime(2025, 4, 5, 13, 0, tzinfo=UTC),
            datetime(2025, 4, 6, 14, 0, tzinfo=UTC),
        ),
        (
            "Australia/Sydney",
            date(2025, 10, 5),
            datetime(2025, 10, 4, 14, 0, tzinfo=UTC),
            datetime(2025, 10, 5, 13, 0, tzinfo=UTC),
        ),
    ],
)
def test_a_day_window_starts_and_ends_at_local_midnight(
    timezone: str, day: date, start: datetime, end: datetime
) -> None:
    assert window_bounds(one_day(day), timezone) == (start, end)


def test_window_bounds_are_aware_utc() -> None:
    start, end = window_bounds(one_day(WEDNESDAY), "Europe/Berlin")
    assert (start.utcoffset(), end.utcoffset()) == (timedelta(0), timedelta(0))


def test_a_window_of_several_days_ends_at_the_start_of_the_day_after_the_last() -> None:
    start, end = window_bounds(DateRange(date(2025, 3, 29), date(2025, 3, 31)), "Europe/London")
    assert (start, end) == (
        datetime(2025, 3, 29, 0, 0, tzinfo=UTC),
        datetime(2025, 3, 31, 23, 0, tzinfo=UTC),
    )


def test_a_window_across_the_change_of_clocks_is_an_hour_short() -> None:
    start, end = window_bounds(DateRange(date(2025, 3, 24), date(2025, 3, 30)), "Europe/London")
    assert end - start == timedelta(days=7, hours=-1)


def test_a_day_whose_local_midnight_is_skipped_starts_at_its_first_real_instant() -> None:
    # Chile moves its clocks from 00:00 to 01:00, so 7 September 2025 begins at 01:00 (-03:00).
    start, end = window_bounds(one_day(date(2025, 9, 7)), "America/Santiago")
    assert (start, end - start) == (datetime(2025, 9, 7, 4, 0, tzinfo=UTC), timedelta(hours=23))


@pytest.mark.parametrize("timezone", ["Mars/Olympus_Mons", "", "Europe/../etc/passwd", "GMT+25"])
def test_an_unknown_time_zone_is_refused_clearly(timezone: str) -> None:
    with pytest.raises(ValueError, match=r"Unknown time zone .* use an IANA name"):
        window_bounds(one_day(WEDNESDAY), timezone)


@pytest.mark.parametrize(
    "phrase", ["31 December 9999", "1969-12-31", "2201-01-01", "1 Jan 2025 to 31 Dec 9999"]
)
def test_a_date_outside_1970_to_2200_is_out_of_range(phrase: str) -> None:
    with pytest.raises(DatePhraseError, match="between 1970-01-01 and 2200-12-31"):
        parse_date_phrase(phrase, today=date(2025, 6, 18))
