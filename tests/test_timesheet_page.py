"""The timesheet page shows what it bills: rows, totals, period, files and actions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.factories import AppointmentFactory
from timesheets.models import Timesheet
from timesheets.services import timesheet_generate

pytestmark = pytest.mark.django_db(databases=["default", "web"])


@pytest.fixture(autouse=True)
def media_in_tmp(settings: object, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def timesheet(alice: User) -> Timesheet:
    def acme(day: int, minutes: int, **fields: object) -> None:
        start = datetime(2025, 5, day, 8, tzinfo=UTC)
        AppointmentFactory(
            user=alice,
            start_time=start,
            end_time=start + timedelta(minutes=minutes),
            customer="Acme",
            billing_type="billable",
            **fields,
        )

    acme(8, 90, subject="Acme design review")
    acme(9, 60, subject="Dentist then Acme", is_private=True)
    acme(9, 60, subject="Drive to Acme", is_travel=True)
    return timesheet_generate(
        user=alice, customer="Acme", start=date(2025, 5, 1), end=date(2025, 5, 31)
    ).timesheet


def page(client: Client, timesheet: Timesheet) -> str:
    return client.get(reverse("admin:timesheets_timesheet_change", args=[timesheet.pk])).text


def test_the_timesheet_page_lists_its_rows_with_section_totals(
    alice_client: Client, timesheet: Timesheet
) -> None:
    body = page(alice_client, timesheet)
    assert "Acme design review" in body and "Drive to Acme" in body
    assert "Effort total" in body and "2.50 hrs" in body
    assert "Travel total" in body and "0.50 hrs" in body
    assert '<strong id="timesheet-billable-total">3.00 hrs</strong>' in body


def test_private_appointments_are_masked_as_in_the_pdf(
    alice_client: Client, timesheet: Timesheet
) -> None:
    body = page(alice_client, timesheet)
    assert "Dentist" not in body and "Private appointment" in body


def test_the_page_shows_the_period_its_time_zone_files_and_upload_state(
    alice_client: Client, timesheet: Timesheet
) -> None:
    body = page(alice_client, timesheet)
    assert "times in Europe/London" in body
    assert reverse("admin:timesheets_timesheet_download", args=[timesheet.pk, "pdf"]) in body
    assert "Not uploaded" in body and "Not sent" in body


def test_actions_are_object_tool_buttons_without_inline_script_or_style(
    alice_client: Client, timesheet: Timesheet
) -> None:
    body = page(alice_client, timesheet)
    assert body.count('class="object-tool-button"') == 2
    assert 'data-confirm="Void this timesheet' in body
    assert "onsubmit" not in body and 'style="border' not in body
