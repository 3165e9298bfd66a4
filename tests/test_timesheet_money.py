"""Money on timesheets: rates, amounts rounded per line, totals that add up, frozen on issue.

Alice bills Acme 120.00 GBP an hour, travel at half time; Bob has no rates at all.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from accounts.models import User
from calendars.models import Appointment
from tests.factories import AppointmentFactory
from tests.unchanged import unchanged
from timesheets.billing import (
    BillableItem,
    Pricing,
    Rounding,
    format_money,
    line_amount,
    minor_unit,
    timesheet_rows,
)
from timesheets.documents import render_csv, render_pdf, render_xlsx
from timesheets.models import BillingProfile, CustomerSettings, Timesheet
from timesheets.services import timesheet_billed, timesheet_generate

MAY = (date(2025, 5, 1), date(2025, 5, 31))
GBP_120 = Pricing(currency="GBP", hourly_rate=Decimal("120.00"))


def item(minutes: int, *, key: int = 1, **fields: object) -> BillableItem:
    start = datetime(2025, 5, 6, 9, tzinfo=UTC) + timedelta(hours=key)
    return BillableItem(
        key=key, start=start, end=start + timedelta(minutes=minutes), subject="Work", **fields
    )


# -- pure arithmetic ----------------------------------------------------------------------------


def test_minor_units_come_from_the_currency_data() -> None:
    assert (minor_unit("GBP"), minor_unit("JPY"), minor_unit("BHD")) == (
        Decimal("0.01"),
        Decimal(1),
        Decimal("0.001"),
    )


def test_a_line_rounds_half_up_to_the_minor_unit_once() -> None:
    assert line_amount(Decimal("0.3333"), Decimal("100.01"), "GBP") == Decimal("33.33")
    assert line_amount(Decimal("0.25"), Decimal("0.10"), "GBP") == Decimal("0.03")
    assert line_amount(Decimal("1.5"), Decimal("999"), "JPY") == Decimal("1499")


def test_hours_are_rounded_by_the_customers_policy_before_they_are_priced() -> None:
    [row], _ = timesheet_rows(
        [item(50)],
        timezone="Europe/London",
        rounding=Rounding(interval_minutes=15, mode="up"),
        pricing=GBP_120,
    )
    assert (row.billable, row.rate, row.amount) == (Decimal(1), Decimal("120.00"), Decimal(120))


def test_travel_bills_its_share_at_the_hourly_rate_or_its_own_rate() -> None:
    _, [half] = timesheet_rows([item(60, is_travel=True)], timezone="UTC", pricing=GBP_120)
    own = Pricing(currency="GBP", hourly_rate=Decimal(120), travel_hourly_rate=Decimal(40))
    _, [cheap] = timesheet_rows(
        [item(60, is_travel=True)], timezone="UTC", travel_rate=Decimal(1), pricing=own
    )
    assert (half.amount, cheap.rate, cheap.amount) == (Decimal(60), Decimal(40), Decimal(40))


def test_totals_are_the_sums_of_the_rounded_lines_not_a_repricing_of_the_hours() -> None:
    rate = Pricing(currency="GBP", hourly_rate=Decimal("100.01"))
    effort, _ = timesheet_rows([item(15, key=n) for n in range(4)], timezone="UTC", pricing=rate)
    assert [row.amount for row in effort] == [Decimal("25.00")] * 4
    assert sum(row.amount for row in effort) == Decimal("100.00")


def test_a_daily_cap_limits_a_days_effort_and_the_lines_still_add_up() -> None:
    capped = Pricing(currency="GBP", hourly_rate=Decimal(100), daily_cap=Decimal(500))
    effort, travel = timesheet_rows(
        [item(180, key=1), item(180, key=4), item(60, key=8, is_travel=True)],
        timezone="UTC",
        pricing=capped,
    )
    assert [row.amount for row in effort] == [Decimal(300), Decimal(200)]
    assert travel[0].amount == Decimal(50)  # travel comes on top of the cap


def test_an_unpriced_timesheet_has_no_amounts() -> None:
    [row], _ = timesheet_rows([item(60)], timezone="UTC")
    assert (row.rate, row.amount) == (None, None)


# -- the documents agree to the cent -------------------------------------------------------------


@pytest.fixture(autouse=True)
def media_in_tmp(settings: object, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def acme(user: User, day: int, minutes: int, **fields: object) -> Appointment:
    fields.setdefault("customer", "Acme")
    fields.setdefault("billing_type", "billable")
    start = datetime(2025, 5, day, 8, 0, tzinfo=UTC)
    return AppointmentFactory(
        user=user, start_time=start, end_time=start + timedelta(minutes=minutes), **fields
    )


@pytest.fixture
def priced_may(alice: User) -> list[Appointment]:
    CustomerSettings.objects.create(
        user=alice,
        customer="Acme",
        currency="GBP",
        hourly_rate=Decimal("120.00"),
        rounding_interval=15,
        rounding_mode="up",
    )
    return [
        acme(alice, 6, 50, subject="Review"),
        acme(alice, 7, 100, subject="Workshop"),
        acme(alice, 8, 20, subject="Call"),
        acme(alice, 9, 70, subject="Drive to Acme", is_travel=True),
    ]


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


@pytest.mark.django_db(databases=["default", "web"])
def test_pdf_csv_and_xlsx_show_rates_and_amounts_and_their_totals_agree_to_the_cent(
    alice: User, priced_may: list[Appointment]
) -> None:
    generation = timesheet_generate(user=alice, customer="Acme", start=MAY[0], end=MAY[1])
    data = generation.data
    # 1, 1.75, 0.5 hours (rounded up to quarters) and 1.25 hours of travel billed at half.
    assert data.effort_amount_total == Decimal("390.00")
    assert data.travel_amount_total == Decimal("75.00")
    assert generation.timesheet.amount_total == Decimal("465.00")

    text = pdf_text(render_pdf(data))
    assert "Rate (GBP)" in text
    assert "£390.00" in text and "£75.00" in text and "£465.00" in text

    tables = render_csv(data).decode().split("\r\n\r\n")
    effort_csv = list(csv.reader(io.StringIO(tables[0])))
    travel_csv = list(csv.reader(io.StringIO(tables[1])))
    assert effort_csv[0][4:6] == ["Rate (GBP)", "Amount (GBP)"]
    assert [row[5] for row in effort_csv[1:]] == ["120.00", "210.00", "60.00", "390.00"]
    assert travel_csv[-1][5] == "75.00"

    workbook = openpyxl.load_workbook(io.BytesIO(render_xlsx(data)))
    effort_sheet, travel_sheet = workbook["Effort"], workbook["Travel"]
    assert effort_sheet.cell(1, 6).value == "Amount (GBP)"
    assert effort_sheet.cell(effort_sheet.max_row, 6).value == 390.0
    assert effort_sheet.cell(2, 6).number_format == "#,##0.00"
    assert travel_sheet.cell(travel_sheet.max_row, 6).value == 75.0


@pytest.mark.django_db(databases=["default", "web"])
def test_a_later_rate_change_never_alters_an_issued_timesheet(
    alice: User, priced_may: list[Appointment]
) -> None:
    timesheet = timesheet_generate(user=alice, customer="Acme", start=MAY[0], end=MAY[1]).timesheet
    CustomerSettings.objects.filter(user=alice).update(
        hourly_rate=Decimal(200), currency="EUR", travel_rate=Decimal(1), rounding_mode="none"
    )
    again = timesheet_billed(Timesheet.objects.get(pk=timesheet.pk))
    assert (again.currency, again.amount_total) == ("GBP", Decimal("465.00"))


@pytest.mark.django_db(databases=["default", "web"])
def test_the_users_default_rate_applies_where_the_customer_has_none(alice: User) -> None:
    BillingProfile.objects.create(user=alice, currency="EUR", hourly_rate=Decimal("90"))
    acme(alice, 6, 60)
    generation = timesheet_generate(user=alice, customer="Acme", start=MAY[0], end=MAY[1])
    timesheet = generation.timesheet
    assert (timesheet.currency, timesheet.hourly_rate, timesheet.amount_total) == (
        "EUR",
        Decimal(90),
        Decimal(90),
    )
    assert format_money(generation.data.amount_total, "EUR") == "€90.00"


@pytest.mark.django_db(databases=["default", "web"])
def test_without_a_rate_the_documents_keep_their_hours_only_columns(alice: User) -> None:
    acme(alice, 6, 60)
    generation = timesheet_generate(user=alice, customer="Acme", start=MAY[0], end=MAY[1])
    header = render_csv(generation.data).decode().splitlines()[0]
    assert "Rate" not in header
    assert generation.timesheet.amount_total is None


# -- bad input ------------------------------------------------------------------------------------


def settings_form(**changes: str) -> dict[str, str]:
    form = {
        "customer": "Acme",
        "display_name": "Acme",
        "travel_rate": "0.50",
        "rounding_interval": "0",
        "rounding_mode": "none",
        "currency": "GBP",
        "hourly_rate": "120",
    }
    form.update(changes)
    return form


@pytest.mark.django_db(databases=["default", "web"])
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("hourly_rate", "-1", "greater than or equal to 0"),
        ("hourly_rate", "250000", "typo"),
        ("travel_hourly_rate", "-5", "greater than or equal to 0"),
        ("currency", "XYZ", "not an ISO 4217 currency code"),
        ("currency", "gbp", "not an ISO 4217 currency code"),
    ],
)
def test_the_admin_refuses_a_bad_rate_or_currency_and_saves_nothing(
    alice_client: Client, field: str, value: str, message: str
) -> None:
    with unchanged():
        response = alice_client.post(
            reverse("admin:timesheets_customersettings_add"), settings_form(**{field: value})
        )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not CustomerSettings.objects.exists()


@pytest.mark.django_db(databases=["default", "web"])
def test_the_admin_saves_good_rates(alice_client: Client, alice: User) -> None:
    response = alice_client.post(
        reverse("admin:timesheets_customersettings_add"),
        settings_form(travel_hourly_rate="45.50"),
    )
    assert response.status_code == 302
    saved = CustomerSettings.objects.get(user=alice)
    assert (saved.currency, saved.hourly_rate, saved.travel_hourly_rate) == (
        "GBP",
        Decimal(120),
        Decimal("45.50"),
    )


@pytest.mark.django_db(databases=["default", "web"])
def test_the_database_refuses_a_negative_rate_that_slips_past_the_form(alice: User) -> None:
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        CustomerSettings.objects.create(user=alice, customer="Acme", hourly_rate=Decimal(-1))


def test_amount_text_in_the_pdf_is_babel_formatted() -> None:
    assert re.fullmatch(r"£1,234\.50", format_money(Decimal("1234.5"), "GBP"))


@pytest.mark.django_db(databases=["default", "web"])
@pytest.mark.parametrize(
    ("field", "value"),
    [("hourly_rate", "-1"), ("hourly_rate", "250000"), ("currency", "XYZ"), ("daily_cap", "-5")],
)
def test_the_api_answers_400_to_a_bad_rate_or_currency_and_saves_nothing(
    alice_client: Client, field: str, value: str
) -> None:
    body = {"customer": "Acme", "currency": "GBP", "hourly_rate": "120", field: value}
    with unchanged():
        answer = alice_client.post(
            reverse("api:customer-settings-list"), body, content_type="application/json"
        )
    assert answer.status_code == 400
    assert field in answer.json()
    assert not CustomerSettings.objects.exists()


@pytest.mark.django_db(databases=["default", "web"])
def test_the_api_saves_good_rates(alice_client: Client, alice: User) -> None:
    body = {"customer": "Acme", "currency": "EUR", "hourly_rate": "95.50"}
    answer = alice_client.post(
        reverse("api:customer-settings-list"), body, content_type="application/json"
    )
    assert answer.status_code == 201, answer.content
    assert CustomerSettings.objects.get(user=alice).hourly_rate == Decimal("95.50")
