"""Listing costs a fixed number of queries however many rows come back: admin and API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from accounts.models import User
from archiving.models import ArchiveConfiguration, JobConfiguration
from auditing.models import ActionLog, AuditLog
from auditing.services import audit_record
from calendars.models import Appointment, Calendar, Category, Location
from tests.api_helpers import api, api_client, without_throttling
from tests.factories import AppointmentFactory
from timesheets.models import Timesheet

pytestmark = pytest.mark.django_db(databases=["default", "web"])


def add_appointment(user: User, n: int) -> None:
    category = Category.objects.create(user=user, name=f"Customer {n} - billable")
    location = Location.objects.create(user=user, name=f"Site {n}")
    timesheet = Timesheet.objects.create(
        user=user, customer=f"Customer {n}", start_date="2025-05-01", end_date="2025-05-31"
    )
    calendar = Calendar.objects.create(user=user, name=f"Calendar {n}")
    first = AppointmentFactory(user=user).start_time
    AppointmentFactory(
        user=user,
        start_time=first + timedelta(hours=n),
        category=category,
        location=location,
        timesheet=timesheet,
        calendar=calendar,
    )


def add_job(user: User, n: int) -> None:
    config = ArchiveConfiguration.objects.create(
        user=user,
        name=f"Archive {n}",
        source_calendar_uri="msgraph://calendars/Calendar",
        destination_calendar_uri=f"msgraph://calendars/Archive{n}",
        timezone="Europe/London",
    )
    JobConfiguration.objects.create(user=user, archive_configuration=config, schedule_type="daily")


def add_action(user: User, n: int) -> None:
    ActionLog.objects.create(user=user, event_type="overlap", key=n, description=f"Clash {n}")


def add_audit(user: User, n: int) -> None:
    audit_record(action_type="test", operation=f"op-{n}", user=user)


def add_user(user: User, n: int) -> None:
    User.objects.create_user(f"user{n}@example.com", "pw-long-enough-123")


CASES: dict[type, Callable[[User, int], None]] = {
    Appointment: add_appointment,
    JobConfiguration: add_job,
    ArchiveConfiguration: add_job,
    Timesheet: add_appointment,
    Category: add_appointment,
    Location: add_appointment,
    Calendar: add_appointment,
    ActionLog: add_action,
    AuditLog: add_audit,
    User: add_user,
}


def changelist_queries(client: Client, model: type) -> int:
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    with (
        CaptureQueriesContext(connections["default"]) as core,
        CaptureQueriesContext(connections["web"]) as web,
    ):
        response = client.get(url)
    assert response.status_code == 200
    return len(core) + len(web)


@pytest.mark.parametrize("model", list(CASES), ids=lambda m: m._meta.label)
def test_changelist_query_count_does_not_grow_with_rows(
    admin_client: Client, admin_user: User, model: type
) -> None:
    CASES[model](admin_user, 0)
    with_one = changelist_queries(admin_client, model)
    for n in range(1, 30):
        CASES[model](admin_user, n)

    assert changelist_queries(admin_client, model) == with_one


# -- through the API -----------------------------------------------------------------------------


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
