"""Users never see each other's data, in the admin or the API; superusers see everything."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.db.models import Model
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from accounts.models import User
from archiving.models import ArchiveConfiguration, JobConfiguration
from auditing.models import ActionLog, AuditLog
from auditing.services import audit_record
from calendars.models import Appointment, Calendar, Category, Location
from tests.api_helpers import api, api_client, ids, without_throttling
from tests.factories import AppointmentFactory, ArchiveConfigurationFactory
from tests.unchanged import unchanged
from timesheets.models import Timesheet

pytestmark = pytest.mark.django_db(databases=["default", "web"])


@pytest.fixture(autouse=True)
def unthrottled(settings: Settings) -> None:
    without_throttling(settings)


@pytest.fixture
def bob_api(bob: User) -> APIClient:
    return api_client(bob)


@pytest.fixture
def alices(alice: User) -> dict[str, Model]:
    """One row of every kind, all Alice's."""
    configuration = ArchiveConfigurationFactory(user=alice)
    timesheet = Timesheet.objects.create(
        user=alice, customer="Acme", start_date=date(2025, 5, 1), end_date=date(2025, 5, 31)
    )
    return {
        "calendar": Calendar.objects.create(user=alice, name="Alice's calendar"),
        "location": Location.objects.create(user=alice, name="Alice's office"),
        "category": Category.objects.create(user=alice, name="Acme - billable"),
        "appointment": AppointmentFactory(user=alice, subject="Alice's meeting"),
        "timesheet": timesheet,
        "archive-configuration": configuration,
        "job-configuration": JobConfiguration.objects.create(
            user=alice, archive_configuration=configuration, schedule_type="daily"
        ),
        "audit-log": AuditLog.objects.create(
            user=alice, action_type="archive", operation="run", status="success"
        ),
        "action-log": ActionLog.objects.create(
            user=alice, event_type="uncategorised", description="Alice's item"
        ),
    }


ALL = [
    "calendar",
    "location",
    "category",
    "appointment",
    "timesheet",
    "archive-configuration",
    "job-configuration",
    "audit-log",
    "action-log",
]
WRITABLE = [
    "calendar",
    "location",
    "category",
    "appointment",
    "archive-configuration",
    "job-configuration",
]
CHANGES = {
    "calendar": {"name": "Bob's now"},
    "location": {"name": "Bob's now"},
    "category": {"name": "Bob's now"},
    "appointment": {"subject": "Bob's now"},
    "archive-configuration": {"name": "Bob's now"},
    "job-configuration": {"schedule_hour": 3},
}


@pytest.mark.parametrize("kind", ALL)
def test_bobs_list_does_not_show_alices_rows(
    kind: str, alices: dict[str, Model], bob_api: APIClient
) -> None:
    response = bob_api.get(api(f"{kind}-list"))

    assert response.status_code == 200
    assert ids(response) == set()


@pytest.mark.parametrize("kind", ALL)
def test_alices_row_answers_404_to_bob(
    kind: str, alices: dict[str, Model], bob_api: APIClient
) -> None:
    response = bob_api.get(api(f"{kind}-detail", alices[kind].pk))

    assert response.status_code == 404


@pytest.mark.parametrize("kind", WRITABLE)
def test_bob_cannot_change_alices_row(
    kind: str, alices: dict[str, Model], bob_api: APIClient
) -> None:
    url = api(f"{kind}-detail", alices[kind].pk)

    with unchanged():
        patched = bob_api.patch(url, CHANGES[kind], format="json")
        put = bob_api.put(url, CHANGES[kind], format="json")

    assert (patched.status_code, put.status_code) == (404, 404)
    row = type(alices[kind]).objects.get(pk=alices[kind].pk)
    assert "Bob" not in str(row)


@pytest.mark.parametrize("kind", WRITABLE)
def test_bob_cannot_delete_alices_row(
    kind: str, alices: dict[str, Model], bob_api: APIClient
) -> None:
    with unchanged():
        response = bob_api.delete(api(f"{kind}-detail", alices[kind].pk))

    assert response.status_code == 404
    assert type(alices[kind]).objects.filter(pk=alices[kind].pk).exists()


@pytest.mark.parametrize(
    ("method", "name", "kind"),
    [
        ("post", "archive-configuration-run", "archive-configuration"),
        ("get", "timesheet-pdf", "timesheet"),
        ("get", "timesheet-csv", "timesheet"),
        ("get", "timesheet-xlsx", "timesheet"),
        ("post", "timesheet-void", "timesheet"),
        ("post", "timesheet-upload-onedrive", "timesheet"),
        ("post", "action-log-resolve", "action-log"),
        ("post", "action-log-dismiss", "action-log"),
    ],
)
def test_bob_cannot_run_an_operation_on_alices_row(
    method: str, name: str, kind: str, alices: dict[str, Model], bob_api: APIClient
) -> None:
    with unchanged():
        response = getattr(bob_api, method)(api(name, alices[kind].pk), {}, format="json")

    assert response.status_code == 404
    assert not AuditLog.objects.filter(user__email="bob@example.com").exists()


@pytest.mark.parametrize("field", ["location", "category", "calendar", "timesheet"])
def test_an_appointment_cannot_link_to_another_users_row(
    field: str, alices: dict[str, Model], bob: User, bob_api: APIClient
) -> None:
    with unchanged():
        response = bob_api.post(
            api("appointment-list"),
            {
                "subject": "Bob's meeting",
                "start_time": "2025-05-08T09:00:00Z",
                "end_time": "2025-05-08T10:00:00Z",
                field: alices[field].pk,
            },
            format="json",
        )

    assert response.status_code == 400
    assert field in response.json()
    assert not Appointment.objects.filter(user=bob).exists()


def test_a_job_cannot_use_another_users_archive_configuration(
    alices: dict[str, Model], bob: User, bob_api: APIClient
) -> None:
    with unchanged():
        response = bob_api.post(
            api("job-configuration-list"),
            {"archive_configuration": alices["archive-configuration"].pk, "schedule_type": "daily"},
            format="json",
        )

    assert response.status_code == 400
    assert "archive_configuration" in response.json()
    assert not JobConfiguration.objects.filter(user=bob).exists()


def test_bobs_appointment_cannot_be_moved_onto_alices_category(
    alices: dict[str, Model], bob: User, bob_api: APIClient
) -> None:
    appointment = AppointmentFactory(user=bob, subject="Bob's meeting")

    with unchanged():
        response = bob_api.patch(
            api("appointment-detail", appointment.pk),
            {"category": alices["category"].pk},
            format="json",
        )

    appointment.refresh_from_db()
    assert response.status_code == 400
    assert appointment.category is None


def test_the_owner_sent_by_a_non_superuser_is_ignored(
    alice: User, bob: User, bob_api: APIClient
) -> None:
    response = bob_api.post(
        api("location-list"), {"name": "Bob's office", "user": alice.pk}, format="json"
    )

    assert response.status_code == 201
    assert Location.objects.get(pk=response.json()["id"]).user == bob


def test_a_superuser_sees_everyones_rows_and_filters_by_user(
    alices: dict[str, Model], bob: User, admin_user: User
) -> None:
    bobs = Location.objects.create(user=bob, name="Bob's office")
    admin_api = api_client(admin_user)

    everyone = admin_api.get(api("location-list"))
    only_bob = admin_api.get(api("location-list"), {"user": bob.pk})

    assert ids(everyone) == {alices["location"].pk, bobs.pk}
    assert ids(only_bob) == {bobs.pk}


def test_a_superuser_creates_a_row_for_another_user(
    alices: dict[str, Model], alice: User, admin_user: User
) -> None:
    response = api_client(admin_user).post(
        api("location-list"), {"name": "Alice's second office", "user": alice.pk}, format="json"
    )

    assert response.status_code == 201
    assert Location.objects.get(pk=response.json()["id"]).user == alice


def test_a_superuser_cannot_link_one_users_appointment_to_anothers_category(
    alices: dict[str, Model], bob: User, admin_user: User
) -> None:
    admin_api = api_client(admin_user)

    with unchanged():
        response = admin_api.post(
            api("appointment-list"),
            {
                "user": bob.pk,
                "start_time": "2025-05-08T09:00:00Z",
                "end_time": "2025-05-08T10:00:00Z",
                "category": alices["category"].pk,
            },
            format="json",
        )

    assert response.status_code == 400
    assert response.json() == {"category": ["This category belongs to another user."]}


def test_bob_cannot_read_alices_archive_run(
    alices: dict[str, Model], alice: User, bob_api: APIClient
) -> None:
    run = AuditLog.objects.create(
        user=alice,
        action_type="archive",
        operation="enqueue",
        status="success",
        resource_type="ArchiveConfiguration",
        resource_id=str(alices["archive-configuration"].pk),
        correlation_id="alices-run",
        details={"task_id": "a" * 32, "start": "2025-05-08", "end": "2025-05-08"},
    )

    response = bob_api.get(api("archive-run-detail", "a" * 32))
    mine = api_client(alice).get(api("archive-run-detail", "a" * 32))

    assert response.status_code == 404
    assert mine.status_code == 200
    assert mine.json()["correlation_id"] == run.correlation_id


def test_bobs_audit_log_does_not_show_alices_writes(
    alice: User, bob_api: APIClient, settings: Any
) -> None:
    api_client(alice).post(api("location-list"), {"name": "Alice's office"}, format="json")

    response = bob_api.get(api("audit-log-list"), {"action_type": "api"})

    assert response.json()["results"] == []


# -- in the admin --------------------------------------------------------------------------------


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
