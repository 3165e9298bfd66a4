"""One rule for a timesheet's period (days the app handles, the end not before the start, at
most 366 days), on the Timesheet model: the model, the service, the admin's Generate form and
the API refuse the same periods with the same words."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from accounts.models import User
from tests.api_helpers import api, api_client, without_throttling
from timesheets.models import Timesheet
from timesheets.services import TimesheetError, timesheet_generate

pytestmark = pytest.mark.django_db(databases=["default", "web"])

BAD_PERIODS = [
    pytest.param(
        date(2025, 5, 31),
        date(2025, 5, 1),
        "The end date cannot be before the start date.",
        id="backwards",
    ),
    pytest.param(
        date(2024, 5, 1), date(2025, 5, 2), "A timesheet covers at most 366 days.", id="367-days"
    ),
    pytest.param(
        date(2201, 1, 1),
        date(2201, 1, 2),
        "Dates must be between 1970-01-01 and 2200-12-31.",
        id="past-2200",
    ),
]


@pytest.fixture(autouse=True)
def quiet(settings: Settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    without_throttling(settings)


def test_a_leap_years_366_days_are_one_valid_period() -> None:
    assert Timesheet.period_errors(date(2024, 1, 1), date(2024, 12, 31)) == {}


@pytest.mark.parametrize(("start", "end", "message"), BAD_PERIODS)
def test_the_model_refuses_the_period(alice: User, start: date, end: date, message: str) -> None:
    timesheet = Timesheet(user=alice, customer="Acme", start_date=start, end_date=end)

    with pytest.raises(ValidationError) as refused:
        timesheet.full_clean()

    assert message in str(refused.value.message_dict)


@pytest.mark.parametrize(("start", "end", "message"), BAD_PERIODS)
def test_the_service_refuses_the_period(alice: User, start: date, end: date, message: str) -> None:
    with pytest.raises(TimesheetError) as refused:
        timesheet_generate(user=alice, customer="Acme", start=start, end=end)

    assert str(refused.value) == message
    assert not Timesheet.objects.exists()


@pytest.mark.parametrize(("start", "end", "message"), BAD_PERIODS)
def test_the_admin_form_refuses_the_period(
    alice_client: Client, start: date, end: date, message: str
) -> None:
    response = alice_client.post(
        reverse("admin:timesheets_timesheet_generate"),
        {"customer": "Acme", "start": start.isoformat(), "end": end.isoformat()},
    )

    assert response.status_code == 200
    assert message in response.text
    assert not Timesheet.objects.exists()


@pytest.mark.parametrize(("start", "end", "message"), BAD_PERIODS)
def test_the_api_refuses_the_period(alice: User, start: date, end: date, message: str) -> None:
    response = api_client(alice).post(
        api("timesheet-list"),
        {"customer": "Acme", "start": start.isoformat(), "end": end.isoformat()},
        format="json",
    )

    assert response.status_code == 400
    assert message in str(response.json())
    assert not Timesheet.objects.exists()
