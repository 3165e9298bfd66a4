"""The appointment form: categories from the owner's Outlook categories, billing shown."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from calendars.models import Appointment, Category
from timesheets.services import timesheet_generate

pytestmark = pytest.mark.django_db(databases=["default", "web"])


@pytest.fixture(autouse=True)
def media_in_tmp(settings: object, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def form_page(client: Client, appointment: Appointment) -> Client:
    return client.get(reverse("admin:calendars_appointment_change", args=[appointment.pk]))


def test_categories_are_chosen_from_the_owners_categories(
    alice_client: Client, alice_appointment: Appointment, bob: User
) -> None:
    Category.objects.create(user=alice_appointment.user, name="Admin")
    Category.objects.create(user=bob, name="Bob's secret")
    field = form_page(alice_client, alice_appointment).context["adminform"].form["categories"]
    choices = [value for value, _ in field.field.choices]
    assert choices == ["Acme - billable", "Admin"]
    assert "<select" in str(field) and "Bob's secret" not in str(field)


def test_saving_keeps_the_chosen_categories_in_order(
    alice_client: Client, alice_appointment: Appointment
) -> None:
    Category.objects.create(user=alice_appointment.user, name="Admin")
    form = form_page(alice_client, alice_appointment).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update(
        {
            "start_time_0": "2025-05-08",
            "start_time_1": "10:00:00",
            "end_time_0": "2025-05-08",
            "end_time_1": "11:00:00",
            "categories": ["Acme - billable", "Admin"],
        }
    )
    data.pop("start_time"), data.pop("end_time")
    response = alice_client.post(
        reverse("admin:calendars_appointment_change", args=[alice_appointment.pk]), data
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    alice_appointment.refresh_from_db()
    assert alice_appointment.categories == ["Acme - billable", "Admin"]


def test_the_form_shows_what_a_timesheet_bills(
    alice_client: Client, alice_appointment: Appointment
) -> None:
    body = form_page(alice_client, alice_appointment).text
    assert "Effort for Acme: 1.00 hrs, 1.00 hrs billable." in body


def test_a_billed_appointment_says_which_timesheet_locks_it(
    alice_client: Client, alice_appointment: Appointment
) -> None:
    timesheet = timesheet_generate(
        user=alice_appointment.user, customer="Acme", start=date(2025, 5, 1), end=date(2025, 5, 31)
    ).timesheet
    body = form_page(alice_client, alice_appointment).text
    assert reverse("admin:timesheets_timesheet_change", args=[timesheet.pk]) in body
    assert "locked until that timesheet is void" in body
