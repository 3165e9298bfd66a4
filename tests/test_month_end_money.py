"""Month end: money wherever hours are shown, per currency, internal time apart, one way to print
hours, and the overall totals of CSV and XLSX equal to the PDF's to the cent.

Alice bills Acme 120.00 GBP an hour (travel 60.00, half its time), Globex 135.00 EUR; Initech has
no rate; Admin and Break are her own time."""

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
from rest_framework.test import APIClient

from accounts.models import User
from calendars.models import Category
from tests.factories import AppointmentFactory
from timesheets.billing import format_hours, format_money
from timesheets.documents import render_csv, render_pdf, render_xlsx
from timesheets.models import CustomerSettings, Timesheet
from timesheets.selectors import amounts_by_currency, period_customer_hours
from timesheets.services import timesheet_billed, timesheet_generate

pytestmark = pytest.mark.django_db(databases=["default", "web"])
MAY = "?month=2025-05"


@pytest.fixture(autouse=True)
def media_in_tmp(settings: object, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def work(user: User, day: int, minutes: int, customer: str, **fields: object) -> None:
    start = datetime(2025, 5, day, 9, 7, tzinfo=UTC)
    fields.setdefault("billing_type", "billable")
    AppointmentFactory(
        user=user,
        start_time=start,
        end_time=start + timedelta(minutes=minutes),
        customer=customer,
        is_archived=True,
        **fields,
    )


@pytest.fixture
def may(alice: User) -> None:
    CustomerSettings.objects.create(
        user=alice,
        customer="Acme",
        display_name="Acme",
        currency="GBP",
        hourly_rate=Decimal("120.00"),
        travel_hourly_rate=Decimal("60.00"),
    )
    CustomerSettings.objects.create(
        user=alice, customer="Globex", currency="EUR", hourly_rate=Decimal("135.00")
    )
    Category.objects.create(user=alice, name="Admin - non-billable", is_internal=True)
    Category.objects.create(user=alice, name="Break - non-billable")
    work(alice, 5, 95, "Acme")  # 1 h 35 min: 190.00
    work(alice, 6, 50, "Acme", is_travel=True)  # half of 50 min at 60.00: 25.00
    work(alice, 7, 20, "Acme")  # 40.00
    work(alice, 8, 100, "Globex")  # 225.00
    work(alice, 9, 45, "Initech")
    work(alice, 12, 60, "Admin", billing_type="non-billable")
    work(alice, 13, 30, "Break", billing_type="non-billable")


def home(client: Client) -> dict:
    return client.get(reverse("admin:index") + MAY).context


def test_the_dashboard_prices_each_customer_in_its_own_currency(
    alice_client: Client, may: None
) -> None:
    rows = {row["customer"]: row for row in home(alice_client)["hours"]}
    assert rows["Acme"]["amount"] == "£255.00"
    assert rows["Globex"]["amount"] == "€225.00"


def test_totals_are_per_currency_never_euros_added_to_pounds(
    alice_client: Client, may: None
) -> None:
    totals = home(alice_client)["amount_totals"]
    assert totals == [
        {"currency": "EUR", "amount": "€225.00"},
        {"currency": "GBP", "amount": "£255.00"},
    ]


def test_a_customer_without_a_rate_says_no_rate_and_links_to_set_one(
    alice: User, alice_client: Client, may: None
) -> None:
    body = alice_client.get(reverse("admin:index") + MAY).text
    initech = next(row for row in home(alice_client)["hours"] if row["customer"] == "Initech")
    assert initech["amount"] == "" and initech["rate_url"]
    assert ">no rate</a>" in body
    form = alice_client.get(initech["rate_url"]).context["adminform"].form
    assert form["customer"].value() == "Initech"


def test_internal_time_is_shown_apart_and_never_offered_as_an_invoice(
    alice_client: Client, may: None
) -> None:
    context = home(alice_client)
    assert {row["customer"] for row in context["internal_hours"]} == {"Admin", "Break"}
    assert "Admin" not in {row["customer"] for row in context["hours"]}
    offered = {row["customer"] for row in context["unbilled"]}
    assert offered == {"Acme", "Globex", "Initech"}
    assert {row["customer"] for row in context["unbilled_internal"]} == {"Admin", "Break"}


def test_a_customer_with_a_billable_category_is_not_internal_for_a_non_billable_month(
    alice: User, alice_client: Client, may: None
) -> None:
    Category.objects.create(user=alice, name="Break - billable")
    customers = {row["customer"] for row in home(alice_client)["hours"]}
    assert "Break" in customers


def test_the_dashboards_amounts_are_what_the_timesheet_bills(alice: User, may: None) -> None:
    hours = period_customer_hours(user=alice, start=date(2025, 5, 1), end=date(2025, 5, 31))
    acme = next(row for row in hours if row.customer == "Acme")
    issued = timesheet_generate(
        user=alice, customer="Acme", start=date(2025, 5, 1), end=date(2025, 5, 31)
    )
    assert acme.amount == issued.data.amount_total == Decimal("255.00")
    assert amounts_by_currency(hours) == {"EUR": Decimal("225.00"), "GBP": Decimal("255.00")}


def test_the_unbilled_panel_totals_what_waits_per_currency(
    alice: User, alice_client: Client, may: None
) -> None:
    timesheet_generate(user=alice, customer="Globex", start=date(2025, 5, 1), end=date(2025, 5, 31))
    context = alice_client.get(reverse("admin:index")).context
    assert context["unbilled_totals"] == [{"currency": "GBP", "amount": "£255.00"}]
    assert context["unbilled_unpriced"] == 1  # Initech


def test_hours_print_one_way_on_the_dashboard_the_page_and_the_documents(
    alice: User, alice_client: Client, may: None
) -> None:
    timesheet = timesheet_generate(
        user=alice, customer="Acme", start=date(2025, 5, 1), end=date(2025, 5, 31)
    ).timesheet
    data = timesheet_billed(timesheet)
    printed = format_hours(data.billable_total)
    assert printed == "2.33 hrs"  # 1 h 35 + 20 min + half of 50 min = 2 h 20 min
    acme = next(row for row in home(alice_client)["hours"] if row["customer"] == "Acme")
    assert acme["billable_total"] == printed
    page = alice_client.get(reverse("admin:timesheets_timesheet_change", args=[timesheet.pk]))
    assert f'<strong id="timesheet-billable-total">{printed}</strong>' in page.text
    pdf = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(render_pdf(data))).pages)
    assert printed in pdf and not re.search(r"\d/\d hrs", pdf)


def test_csv_and_xlsx_close_with_the_pdfs_overall_totals_to_the_cent(
    alice: User, may: None
) -> None:
    timesheet = timesheet_generate(
        user=alice, customer="Acme", start=date(2025, 5, 1), end=date(2025, 5, 31)
    ).timesheet
    data = timesheet_billed(timesheet)
    pdf = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(render_pdf(data))).pages)
    assert "Amount due £255.00" in pdf
    rows = list(csv.reader(io.StringIO(render_csv(data).decode())))
    overall = dict(row for row in rows if len(row) == 2)
    assert overall == {
        "Billable total (hours)": "2.33",
        "Effort amount (GBP)": "230.00",
        "Travel amount (GBP)": "25.00",
        "Amount due (GBP)": "255.00",
    }
    sheet = openpyxl.load_workbook(io.BytesIO(render_xlsx(data)))["Totals"]
    figures = dict(sheet.iter_rows(values_only=True))
    assert figures["Amount due (GBP)"] == 255.0 and figures["Effort amount (GBP)"] == 230.0
    assert Decimal(str(figures["Amount due (GBP)"])) == timesheet.amount_total


def test_the_timesheet_list_shows_amount_currency_invoice_and_uploads(
    alice: User, alice_client: Client, may: None
) -> None:
    acme = timesheet_generate(
        user=alice, customer="Acme", start=date(2025, 5, 1), end=date(2025, 5, 31)
    ).timesheet
    Timesheet.objects.filter(pk=acme.pk).update(
        xero_invoice_id="inv-1",
        xero_invoice_number="INV-0042",
        xero_invoice_url="https://go.xero.com/app/invoicing/view/inv-1",
        uploaded_to_xero=True,
        uploaded_to_onedrive=True,
    )
    timesheet_generate(
        user=alice, customer="Initech", start=date(2025, 5, 1), end=date(2025, 5, 31)
    )
    body = alice_client.get(reverse("admin:timesheets_timesheet_changelist")).text
    assert "£255.00" in body
    assert '<a class="xero-invoice" href="https://go.xero.com/app/invoicing/view/inv-1"' in body
    assert "INV-0042</a> (sent)" in body and "OneDrive, Xero" in body
    assert ">no rate</a>" in body  # Initech, issued without a rate


def test_the_api_says_what_a_timesheet_amounts_to(alice_api: APIClient, may: None) -> None:
    answer = alice_api.post(
        "/api/v1/timesheets/",
        {"customer": "Globex", "start": "2025-05-01", "end": "2025-05-31"},
        format="json",
    ).json()
    assert (answer["currency"], answer["amount_due"], answer["amount"]) == (
        "EUR",
        "225.000",
        "€225.00",
    )
    assert answer["billable"] == "1.67 hrs" and answer["timesheet"]["amount"] == "€225.00"
    listed = alice_api.get("/api/v1/timesheets/").json()["results"][0]
    assert listed["amount"] == format_money(Decimal("225"), "EUR")
