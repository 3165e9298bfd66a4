"""Changelists cost the same number of queries for 1 row as for 30: no query per row."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from archiving.models import ArchiveConfiguration, JobConfiguration
from auditing.models import ActionLog, AuditLog
from auditing.services import audit_record
from calendars.models import Appointment, Calendar, Category, Location
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
