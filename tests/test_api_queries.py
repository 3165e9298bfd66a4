"""Listing through the API costs a fixed number of queries, however many rows come back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from accounts.models import User
from auditing.models import AuditLog
from calendars.models import Appointment, Calendar, Category, Location
from tests.api_helpers import api, api_client, without_throttling
from timesheets.models import Timesheet

pytestmark = pytest.mark.django_db(databases=["default", "web"])


@pytest.fixture(autouse=True)
def unthrottled(settings: Settings) -> None:
    without_throttling(settings)


def appointments(user: User, count: int) -> None:
    category = Category.objects.create(user=user, name=f"Acme {count}")
    location = Location.objects.create(user=user, name=f"Site {count}")
    calendar = Calendar.objects.create(user=user, name=f"Calendar {count}")
    timesheet = Timesheet.objects.create(
        user=user, start_date=datetime(2025, 5, 1).date(), end_date=datetime(2025, 5, 31).date()
    )
    start = datetime(2025, 5, 1, 8, tzinfo=UTC)
    Appointment.objects.bulk_create(
        Appointment(
            user=user,
            subject=f"Meeting {i}",
            start_time=start + timedelta(hours=i),
            end_time=start + timedelta(hours=i, minutes=45),
            category=category,
            location=location,
            calendar=calendar,
            timesheet=timesheet,
            categories=["Acme - billable"],
        )
        for i in range(count)
    )


def queries_to_list(client: APIClient, name: str) -> int:
    client.get(api(name))  # the token's first use is recorded; later ones are not
    with (
        CaptureQueriesContext(connections["default"]) as core,
        CaptureQueriesContext(connections["web"]) as web,
    ):
        response = client.get(api(name), {"page_size": 200})
    assert response.status_code == 200
    return len(core) + len(web)


def test_listing_100_appointments_costs_the_same_queries_as_listing_10(
    alice: User, bob: User
) -> None:
    appointments(alice, 10)
    appointments(bob, 100)

    ten = queries_to_list(api_client(alice), "appointment-list")
    hundred = queries_to_list(api_client(bob), "appointment-list")

    assert ten == hundred
    assert hundred <= 3


def test_listing_the_audit_log_costs_the_same_queries_for_any_number_of_rows(
    alice: User, bob: User
) -> None:
    for user, count in ((alice, 10), (bob, 100)):
        AuditLog.objects.bulk_create(
            AuditLog(user=user, action_type="api", operation="create", status="success")
            for _ in range(count)
        )

    assert queries_to_list(api_client(alice), "audit-log-list") == queries_to_list(
        api_client(bob), "audit-log-list"
    )
