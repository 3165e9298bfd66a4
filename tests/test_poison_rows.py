"""A row whose JSON is not the declared shape (written before the rules, or by a bug) does not
break the API, timesheet generation or the admin exports for its user."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from django.test import Client

from accounts.models import User
from calendars.models import Appointment
from tests.api_helpers import api, api_client
from tests.test_timesheet_exports import body, booked, export
from timesheets.services import timesheet_generate

pytestmark = pytest.mark.django_db(databases=["default", "web"])

POISON = [5, {"a": 1}, [1, 2], "Acme", [None, "Acme - billable", ""], None]


@pytest.fixture(autouse=True)
def media_in_tmp(settings: object, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def poisoned(user: User, value: object) -> Appointment:
    appointment = booked(user, "Acme", 1)
    # Written past the model's validation, as an old row or a raw UPDATE would be.
    Appointment.objects.filter(pk=appointment.pk).update(categories=value)
    return appointment


@pytest.mark.parametrize("value", POISON[:-1])
def test_the_api_reads_a_row_with_odd_categories(alice: User, value: object) -> None:
    appointment = poisoned(alice, value)
    client = api_client(alice)

    detail = client.get(api("appointment-detail", appointment.pk))
    listing = client.get(api("appointment-list"))

    assert detail.status_code == 200
    assert all(isinstance(name, str) for name in detail.json()["categories"])
    assert listing.status_code == 200


@pytest.mark.parametrize("value", POISON[:-1])
def test_a_timesheet_is_generated_over_a_row_with_odd_categories(
    alice: User, value: object
) -> None:
    poisoned(alice, value)

    generation = timesheet_generate(
        user=alice, customer="Acme", start=date(2025, 5, 1), end=date(2025, 5, 31)
    )

    assert generation.timesheet.pk


@pytest.mark.parametrize("action", ["export_csv", "export_xlsx", "export_pdf"])
@pytest.mark.parametrize("value", POISON[:-1])
def test_the_admin_exports_a_row_with_odd_categories(
    alice_client: Client, alice: User, value: object, action: str
) -> None:
    appointment = poisoned(alice, value)

    response = export(alice_client, action, [appointment])

    assert response.status_code == 200
    assert body(response)
