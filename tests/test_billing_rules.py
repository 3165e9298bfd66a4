"""Billing arithmetic: effort, billable hours, travel rate, overrides, rounding, formatting."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from timesheets.billing import (
    PRIVATE_TEXT,
    BillableItem,
    Rounding,
    TimesheetData,
    format_hours,
    format_long_date,
    format_short_date,
    round_hours,
    timesheet_rows,
)

START = datetime(2025, 5, 8, 8, 0, tzinfo=UTC)  # 09:00 in London


def item(minutes: int, key: int = 1, offset_hours: int = 0, **fields: object) -> BillableItem:
    start = START + timedelta(hours=offset_hours)
    return BillableItem(
        key=key, start=start, end=start + timedelta(minutes=minutes), subject="Work", **fields
    )


def rows(*items: BillableItem, **options: object) -> tuple[list, list]:
    return timesheet_rows(items, timezone="Europe/London", **options)


def test_effort_is_the_duration_in_hours_and_billable_equals_it() -> None:
    [row], travel = rows(item(90))

    assert (row.effort, row.billable) == (Decimal("1.5"), Decimal("1.5"))
    assert travel == []


def test_non_billable_effort_bills_nothing() -> None:
    [row], _ = rows(item(60, billing_type="non-billable"))

    assert (row.effort, row.billable) == (Decimal(1), Decimal(0))


@pytest.mark.parametrize(
    ("billing_type", "override", "billed"),
    [("non-billable", True, Decimal(1)), ("billable", False, Decimal(0))],
)
def test_a_billable_override_wins_over_the_category(
    billing_type: str, override: bool, billed: Decimal
) -> None:
    [row], _ = rows(item(60, billing_type=billing_type, billable_override=override))

    assert row.billable == billed


def test_travel_bills_the_customers_travel_rate() -> None:
    _, [row] = rows(item(120, is_travel=True), travel_rate=Decimal("0.50"))

    assert (row.duration, row.billable) == (Decimal(2), Decimal("1.00"))


def test_travel_at_a_custom_rate() -> None:
    _, [row] = rows(item(60, is_travel=True), travel_rate=Decimal("0.75"))

    assert row.billable == Decimal("0.75")


def test_rows_carry_local_date_and_time_and_are_sorted() -> None:
    late, early = item(60, key=1, offset_hours=3), item(30, key=2)

    effort, _ = rows(late, early)

    assert [(r.key, r.date, f"{r.time:%H:%M}") for r in effort] == [
        (2, date(2025, 5, 8), "09:00"),
        (1, date(2025, 5, 8), "12:00"),
    ]


def test_private_appointments_are_billed_but_print_as_private() -> None:
    [row], _ = rows(item(60, is_private=True, location="Clinic"))

    assert (row.subject, row.location, row.billable) == (PRIVATE_TEXT, PRIVATE_TEXT, Decimal(1))


@pytest.mark.parametrize(
    ("minutes", "rounding", "expected"),
    [
        (70, Rounding(), Decimal(70) / 60),
        (70, Rounding(15, "up"), Decimal("1.25")),
        (70, Rounding(15, "down"), Decimal("1")),
        (70, Rounding(15, "nearest"), Decimal("1.25")),
        (67, Rounding(15, "nearest"), Decimal("1")),
        (60, Rounding(15, "up"), Decimal("1")),
        (61, Rounding(6, "up"), Decimal("1.1")),
        (70, Rounding(0, "up"), Decimal(70) / 60),
    ],
)
def test_rounding_modes(minutes: int, rounding: Rounding, expected: Decimal) -> None:
    assert round_hours(Decimal(minutes) / 60, rounding) == expected


def test_totals_are_the_sum_of_rounded_rows() -> None:
    effort, _ = rows(item(10, key=1), item(10, key=2, offset_hours=1), rounding=Rounding(15, "up"))
    data = TimesheetData(
        "Acme", "Acme", "Alice", date(2025, 5, 31), date(2025, 5, 1), date(2025, 5, 31), effort
    )

    assert data.effort_total == Decimal("0.5")  # not round(20 minutes) = 0.25


def test_an_unknown_rounding_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="Rounding mode must be one of"):
        Rounding(15, "sideways")


@pytest.mark.parametrize(
    ("hours", "text"),
    [
        (Decimal("29.5"), "29.50 hrs"),
        (Decimal("1.25"), "1.25 hrs"),
        (Decimal("0.75"), "0.75 hrs"),
        (Decimal("2"), "2.00 hrs"),
        (Decimal("0"), "0.00 hrs"),
        (Decimal("2.3333333"), "2.33 hrs"),
        (Decimal("0.125"), "0.13 hrs"),
        (Decimal("-1.5"), "-1.50 hrs"),
    ],
)
def test_hours_print_one_way_as_decimal_hours_to_two_places(hours: Decimal, text: str) -> None:
    assert format_hours(hours) == text


def test_dates_print_as_the_customer_expects() -> None:
    assert format_long_date(date(2025, 4, 24)) == "Thursday, 24 April 2025"
    assert format_short_date(date(2025, 5, 8)) == "08-May-25"


def test_the_file_name_names_consultant_customer_and_period_end() -> None:
    data = TimesheetData(
        "acme",
        "Acme Corporation",
        "Alice Archer",
        date(2025, 6, 2),
        date(2025, 5, 1),
        date(2025, 5, 8),
    )

    assert data.file_stem == "Alice Archer timesheet for Acme Corporation 8 May 25"
