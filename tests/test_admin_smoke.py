"""Every admin page a superuser can reach answers 200."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from accounts.models import ApiToken, User
from archiving.models import (
    ArchiveConfiguration,
    ArchiveCopy,
    ArchiveRun,
    CategoryDecision,
    JobConfiguration,
)
from auditing.models import ActionLog
from auditing.services import audit_record
from calendars.models import Appointment, AppointmentFeature, Calendar
from timesheets.models import (
    BillingProfile,
    CustomerSettings,
    Timesheet,
    XeroBudgetLock,
    XeroCallSlot,
    XeroConnection,
    XeroPush,
)

pytestmark = pytest.mark.django_db(databases=["default", "web"])

REGISTERED = sorted(admin.site._registry, key=lambda model: model._meta.label)
OURS = [
    m
    for m in REGISTERED
    if m._meta.app_label in {"accounts", "calendars", "archiving", "timesheets", "auditing"}
]


@pytest.fixture
def one_of_everything(alice: User, alice_appointment: Appointment) -> None:
    Calendar.objects.create(user=alice, name="Calendar")
    archive = Calendar.objects.create(user=alice, name="Billable Archive", is_archive=True)
    config = ArchiveConfiguration.objects.create(
        user=alice,
        name="Daily",
        source_calendar_uri="msgraph://calendars/Calendar",
        destination_calendar_uri='msgraph://calendars/"Billable Archive"',
        timezone="Europe/London",
        destination_calendar=archive,
    )
    ArchiveCopy.objects.create(
        appointment=alice_appointment, destination=archive, event_id="AAMkcopy=", digest="0" * 64
    )
    JobConfiguration.objects.create(user=alice, archive_configuration=config, schedule_type="daily")
    ArchiveRun.objects.create(
        configuration=config, start="2025-05-08", end="2025-05-08", correlation_id="seed-run"
    )
    timesheet = Timesheet.objects.create(
        user=alice, customer="Acme", start_date="2025-05-01", end_date="2025-05-31"
    )
    XeroPush.objects.create(timesheet=timesheet, marker="AA-SMOKE", status="failed", error="503")
    XeroCallSlot.objects.create(tenant_id="tenant", started=1.0)
    XeroBudgetLock.objects.create(name="xero")
    ActionLog.objects.create(user=alice, event_type="overlap", description="Two meetings")
    CategoryDecision.objects.create(
        user=alice, appointment=alice_appointment, label="Acme - billable", decision="dismissed"
    )
    AppointmentFeature.objects.create(
        user=alice, appointment=alice_appointment, feature="dom:acme.example"
    )
    CustomerSettings.objects.create(user=alice, customer="Acme", display_name="Acme Ltd")
    BillingProfile.objects.create(user=alice, currency="GBP", hourly_rate=100)
    XeroConnection.objects.create(user=alice)
    audit_record(action_type="test", operation="seed", user=alice)
    token = ApiToken(user=alice, name="Billing script")
    token.set_new_key()
    token.save()


def test_every_model_of_ours_is_registered() -> None:
    ours = {"accounts", "calendars", "archiving", "timesheets", "auditing"}

    expected = {m for m in apps.get_models() if m._meta.app_label in ours}
    assert expected <= set(admin.site._registry)


def test_admin_index_lists_every_section(admin_client: Client) -> None:
    response = admin_client.get(reverse("admin:index"))

    assert response.status_code == 200
    for heading in ("Calendar", "Billing", "Archiving", "Attention", "Settings", "System"):
        assert heading in response.text


@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.label)
def test_changelist_answers_200(admin_client: Client, one_of_everything: None, model: type) -> None:
    opts = model._meta
    response = admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))

    assert response.status_code == 200


@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.label)
def test_add_page_answers_200_or_is_not_offered(
    admin_client: Client, one_of_everything: None, model: type
) -> None:
    opts = model._meta
    model_admin = admin.site._registry[model]
    response = admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))

    if model_admin.has_add_permission(response.wsgi_request):
        assert response.status_code == 200
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("model", OURS, ids=lambda m: m._meta.label)
def test_change_page_of_an_existing_row_answers_200(
    admin_client: Client, one_of_everything: None, model: type
) -> None:
    opts = model._meta
    obj = model._default_manager.first()
    response = admin_client.get(
        reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    )

    assert response.status_code == 200


def test_times_show_in_the_signed_in_users_time_zone(
    alice_client: Client, alice_appointment: Appointment
) -> None:
    # 09:00 UTC on 8 May 2025 is 10:00 in London (BST).
    response = alice_client.get(
        reverse("admin:calendars_appointment_change", args=[alice_appointment.pk])
    )

    assert 'name="start_time_1" value="10:00:00"' in response.text
