"""The home page's figures are the timesheet's: the database counts appointments that bill alike
and each group is priced once, and that gives what pricing every row does, for every rounding,
travel share and rate, with overrides, odd durations and a daily cap, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from accounts.models import User
from tests.factories import AppointmentFactory
from timesheets.billing import format_hours, format_money
from timesheets.models import CustomerSettings
from timesheets.selectors import CustomerHours, period_customer_hours, unbilled_customer_hours
from timesheets.services import timesheet_generate

pytestmark = pytest.mark.django_db(databases=["default", "web"])

MAY_FIRST, MAY_LAST = date(2025, 5, 1), date(2025, 5, 31)
# Whole minutes that round every way (7, 20 and 50 are no multiple of a quarter hour), a few
# seconds over, and a long day.
MINUTES = [7, 15, 20, 30, 45, 50, 60, 95, 100, 480]
CUSTOMERS = {
    # customer: settings (None: no settings at all, priced by nothing)
    "Acme": {
        "currency": "GBP",
        "hourly_rate": Decimal("120.00"),
        "travel_hourly_rate": Decimal("60.00"),
        "rounding_interval": 15,
        "rounding_mode": "up",
    },
    "Globex": {
        "currency": "EUR",
        "hourly_rate": Decimal("135.00"),
        "rounding_interval": 20,
        "rounding_mode": "nearest",
        "travel_rate": Decimal("0.33"),
    },
    "Initech": {
        "currency": "JPY",
        "hourly_rate": Decimal("9999"),
        "rounding_interval": 6,
        "rounding_mode": "down",
    },
    "Umbrella": {"currency": "GBP", "hourly_rate": Decimal("97.50")},
    "Hooli": {
        "currency": "GBP",
        "hourly_rate": Decimal("100.00"),
        "daily_cap": Decimal("400.00"),
        "rounding_interval": 30,
        "rounding_mode": "up",
    },
    "Soylent": None,
}


@pytest.fixture(autouse=True)
def media_in_tmp(settings: object, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def month(alice: User) -> None:
    """Three hundred appointments over May: every customer, every duration, a tenth travel,
    some non-billable, some overridden either way, some a few seconds long over the minute."""
    for customer, fields in CUSTOMERS.items():
        if fields is not None:
            CustomerSettings.objects.create(user=alice, customer=customer, **fields)
    pick = random.Random(23)
    for n in range(300):
        start = datetime(2025, 5, 1 + n % 31, 7, 0, tzinfo=UTC) + timedelta(minutes=17 * (n % 40))
        length = timedelta(minutes=pick.choice(MINUTES), seconds=pick.choice([0, 0, 0, 29]))
        AppointmentFactory(
            user=alice,
            customer=pick.choice(list(CUSTOMERS)),
            billing_type=pick.choice(["billable", "billable", "billable", "non-billable", None]),
            billable_override=pick.choice([None, None, None, None, True, False]),
            is_travel=n % 10 == 0,
            is_archived=True,
            start_time=start,
            end_time=start + length,
        )


def shown(hours: CustomerHours) -> tuple[str, ...]:
    """What the home page prints of a customer."""
    amount = format_money(hours.amount, hours.currency) if hours.amount is not None else ""
    return (
        format_hours(hours.billable),
        format_hours(hours.non_billable),
        format_hours(hours.travel),
        format_hours(hours.total),
        format_hours(hours.billable_total),
        amount,
    )


def test_each_customers_month_is_what_its_timesheet_bills(alice: User, month: None) -> None:
    figures = period_customer_hours(user=alice, start=MAY_FIRST, end=MAY_LAST)
    assert sorted(row.customer for row in figures) == sorted(CUSTOMERS)
    for row in figures:
        data = timesheet_generate(
            user=alice, customer=row.customer, start=MAY_FIRST, end=MAY_LAST
        ).data
        assert shown(row) == (
            format_hours(data.effort_billable_total),
            format_hours(data.effort_total - data.effort_billable_total),
            format_hours(data.travel_total),
            format_hours(data.effort_total + data.travel_total),
            format_hours(data.billable_total),
            format_money(data.amount_total, data.currency) if data.priced else "",
        ), row.customer
        assert row.amount == (data.amount_total if data.priced else None), row.customer


def test_rounded_hours_are_the_timesheets_to_the_last_digit(alice: User, month: None) -> None:
    figures = period_customer_hours(user=alice, start=MAY_FIRST, end=MAY_LAST)
    for row in figures:
        if row.customer not in {"Acme", "Hooli"}:  # quarter and half hours: exact decimals
            continue
        data = timesheet_generate(
            user=alice, customer=row.customer, start=MAY_FIRST, end=MAY_LAST
        ).data
        assert (row.effort, row.billable, row.travel, row.billable_total) == (
            data.effort_total,
            data.effort_billable_total,
            data.travel_total,
            data.billable_total,
        )


def test_a_daily_cap_limits_each_days_effort_as_the_timesheet_does(alice: User) -> None:
    CustomerSettings.objects.create(
        user=alice,
        customer="Hooli",
        currency="GBP",
        hourly_rate=Decimal("100.00"),
        daily_cap=Decimal("250.00"),
    )
    for hour in (8, 10, 13):  # three 90-minute meetings on one day: 450.00 capped to 250.00
        start = datetime(2025, 5, 6, hour, 0, tzinfo=UTC)
        AppointmentFactory(
            user=alice,
            customer="Hooli",
            billing_type="billable",
            is_archived=True,
            start_time=start,
            end_time=start + timedelta(minutes=90),
        )
    (hooli,) = period_customer_hours(user=alice, start=MAY_FIRST, end=MAY_LAST)
    assert hooli.amount == Decimal("250.00")
    assert hooli.billable_total == Decimal("4.5")


def test_unbilled_groups_name_a_customer_as_its_earliest_appointment_spells_it(
    alice: User,
) -> None:
    for day, spelling in ((9, "ACME "), (3, "Acme"), (20, "acme")):
        start = datetime(2025, 5, day, 9, 0, tzinfo=UTC)
        AppointmentFactory(
            user=alice,
            customer=spelling,
            billing_type="billable",
            is_archived=True,
            start_time=start,
            end_time=start + timedelta(hours=1),
        )
    (acme,) = unbilled_customer_hours(user=alice)
    assert (acme.customer, acme.total, acme.first_day, acme.last_day) == (
        "Acme",
        Decimal(3),
        date(2025, 5, 3),
        date(2025, 5, 20),
    )
