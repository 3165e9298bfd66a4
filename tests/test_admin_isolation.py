"""A staff member sees, edits and picks only their own rows; superusers see everything."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from archiving.models import ArchiveConfiguration, JobConfiguration
from auditing.models import ActionLog, AuditLog
from auditing.services import audit_record
from calendars.models import Appointment, Calendar, Category, Location
from tests.factories import AppointmentFactory
from tests.unchanged import unchanged
from timesheets.models import Timesheet

pytestmark = pytest.mark.django_db(databases=["default", "web"])


def admin_url(obj: object, view: str) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=[obj.pk])


def changelist_url(model: type) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")


@pytest.fixture
def bobs_rows(bob: User) -> dict[str, object]:
    category = Category.objects.create(user=bob, name="Bobcorp - billable")
    location = Location.objects.create(user=bob, name="Bob's secret office")
    config = ArchiveConfiguration.objects.create(
        user=bob,
        name="Bob's archive",
        source_calendar_uri="msgraph://calendars/Calendar",
        destination_calendar_uri="msgraph://calendars/BobArchive",
        timezone="Europe/Berlin",
    )
    return {
        "appointment": AppointmentFactory(
            user=bob, subject="Bob's confidential meeting", category=category, location=location
        ),
        "category": category,
        "location": location,
        "calendar": Calendar.objects.create(user=bob, name="Bob's calendar"),
        "archive_configuration": config,
        "job_configuration": JobConfiguration.objects.create(
            user=bob, archive_configuration=config, schedule_type="daily"
        ),
        "timesheet": Timesheet.objects.create(
            user=bob, customer="Bobcorp", start_date="2025-05-01", end_date="2025-05-31"
        ),
        "action_log": ActionLog.objects.create(
            user=bob, event_type="overlap", description="Bob's overlap"
        ),
        "audit_log": audit_record(action_type="test", operation="bob-only", user=bob),
        "user": bob,
    }


ROW_NAMES = [
    "appointment",
    "category",
    "location",
    "calendar",
    "archive_configuration",
    "job_configuration",
    "timesheet",
    "action_log",
    "audit_log",
    "user",
]


@pytest.mark.parametrize("name", ROW_NAMES)
def test_another_users_change_page_answers_404(
    alice_client: Client, bobs_rows: dict[str, object], name: str
) -> None:
    response = alice_client.get(admin_url(bobs_rows[name], "change"))

    assert response.status_code == 404


@pytest.mark.parametrize("name", [n for n in ROW_NAMES if n not in ("audit_log", "user")])
def test_another_users_delete_page_answers_404(
    alice_client: Client, bobs_rows: dict[str, object], name: str
) -> None:
    obj = bobs_rows[name]
    with unchanged():
        response = alice_client.post(admin_url(obj, "delete"), {"post": "yes"})

    assert response.status_code == 404
    assert type(obj).objects.filter(pk=obj.pk).exists()


@pytest.mark.parametrize("name", [n for n in ROW_NAMES if n != "user"])
def test_another_users_rows_are_not_listed(
    alice_client: Client, alice_appointment: Appointment, bobs_rows: dict[str, object], name: str
) -> None:
    obj = bobs_rows[name]
    response = alice_client.get(changelist_url(type(obj)))

    assert response.status_code == 200
    assert admin_url(obj, "change") not in response.text


def test_alice_sees_her_own_appointment_but_not_bobs(
    alice_client: Client, alice_appointment: Appointment, bobs_rows: dict[str, object]
) -> None:
    response = alice_client.get(changelist_url(Appointment))

    assert "Acme design review" in response.text
    assert "Bob&#x27;s confidential meeting" not in response.text
    assert "Bob's confidential meeting" not in response.text


def test_user_list_shows_a_staff_member_only_themselves(alice_client: Client, bob: User) -> None:
    response = alice_client.get(changelist_url(User))

    assert "alice@example.com" in response.text
    assert "bob@example.com" not in response.text


def test_superuser_sees_everyones_rows(
    admin_client: Client, alice_appointment: Appointment, bobs_rows: dict[str, object]
) -> None:
    response = admin_client.get(changelist_url(Appointment))

    assert "Acme design review" in response.text
    assert "Bob&#x27;s confidential meeting" in response.text
    assert admin_client.get(admin_url(bobs_rows["appointment"], "change")).status_code == 200


def test_foreign_key_choices_offer_only_own_rows(
    alice_client: Client, alice_appointment: Appointment, bobs_rows: dict[str, object]
) -> None:
    response = alice_client.get(reverse("admin:archiving_jobconfiguration_add"))
    choices = response.context["adminform"].form.fields["archive_configuration"].queryset

    assert bobs_rows["archive_configuration"] not in choices


def test_autocomplete_offers_only_own_categories(
    alice_client: Client, alice_appointment: Appointment, bobs_rows: dict[str, object]
) -> None:
    response = alice_client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "calendars",
            "model_name": "appointment",
            "field_name": "category",
            "term": "b",
        },
    )

    names = [result["text"] for result in response.json()["results"]]
    assert "Acme - billable" in names
    assert "Bobcorp - billable" not in names


def test_posting_another_users_category_is_a_form_error(
    alice_client: Client, alice: User, bobs_rows: dict[str, object]
) -> None:
    with unchanged():
        response = alice_client.post(
            reverse("admin:calendars_appointment_add"),
            {
                "subject": "Sneaky",
                "start_time_0": "08/05/2025",
                "start_time_1": "09:00:00",
                "end_time_0": "08/05/2025",
                "end_time_1": "10:00:00",
                "category": bobs_rows["category"].pk,
                "categories": "[]",
                "show_as": "busy",
                "importance": "normal",
                "sensitivity": "normal",
            },
        )

    assert response.status_code == 200
    assert "category" in response.context["adminform"].form.errors
    assert not Appointment.objects.filter(subject="Sneaky").exists()


def test_a_staff_member_adds_rows_as_themselves(alice_client: Client, alice: User) -> None:
    response = alice_client.post(
        reverse("admin:calendars_location_add"), {"name": "Home office", "address": ""}
    )

    assert response.status_code == 302
    assert Location.objects.get(name="Home office").user == alice


def test_a_staff_member_cannot_raise_their_own_powers(alice_client: Client, alice: User) -> None:
    response = alice_client.get(admin_url(alice, "change"))

    form = response.context["adminform"].form
    assert "is_superuser" not in form.fields
    assert "role" not in form.fields


def test_audit_log_of_another_user_is_invisible(
    alice_client: Client, bobs_rows: dict[str, object]
) -> None:
    response = alice_client.get(changelist_url(AuditLog))

    assert "bob-only" not in response.text
