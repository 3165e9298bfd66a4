"""The REST API's resources: create, read, update and delete, each audited; `me`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db.models import Model
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from accounts.models import User
from archiving.models import ArchiveConfiguration, JobConfiguration
from auditing.models import AuditLog
from calendars.models import Appointment, Calendar, Category, Location
from tests.api_helpers import api, ids, without_throttling
from tests.factories import AppointmentFactory, ArchiveConfigurationFactory

pytestmark = pytest.mark.django_db(databases=["default", "web"])


@pytest.fixture(autouse=True)
def unthrottled(settings: Settings) -> None:
    without_throttling(settings)


def archive_configuration_for(user: User) -> int:
    return ArchiveConfigurationFactory(user=user, name="Weekly archive").pk


class Resource:
    def __init__(
        self,
        prefix: str,
        model: type[Model],
        create: Callable[[User], dict[str, Any]],
        change: dict[str, Any],
    ) -> None:
        self.prefix, self.model, self.create, self.change = prefix, model, create, change

    def __repr__(self) -> str:
        return self.prefix


RESOURCES = [
    Resource(
        "calendar",
        Calendar,
        lambda user: {"name": "Work", "description": "Outlook", "ms_calendar_id": "AAMk1"},
        {"name": "Work calendar"},
    ),
    Resource(
        "location",
        Location,
        lambda user: {"name": "Acme HQ", "address": "1 Acme Road"},
        {"address": "2 Acme Road"},
    ),
    Resource(
        "category",
        Category,
        lambda user: {"name": "Acme - billable", "color": "preset0"},
        {"color": "preset4"},
    ),
    Resource(
        "appointment",
        Appointment,
        lambda user: {
            "subject": "Acme review",
            "start_time": "2025-05-08T09:00:00Z",
            "end_time": "2025-05-08T10:30:00Z",
            "customer": "Acme",
            "billing_type": "billable",
            "categories": ["Acme - billable"],
        },
        {"subject": "Acme design review"},
    ),
    Resource(
        "archive-configuration",
        ArchiveConfiguration,
        lambda user: {
            "name": "Daily archive",
            "source_calendar_uri": "msgraph://calendars/Calendar",
            "destination_calendar_uri": 'msgraph://calendars/"Billable Archive"',
            "timezone": "Europe/London",
        },
        {"timezone": "Europe/Paris"},
    ),
    Resource(
        "job-configuration",
        JobConfiguration,
        lambda user: {
            "archive_configuration": archive_configuration_for(user),
            "schedule_type": "weekly",
            "schedule_day_of_week": 4,
            "schedule_hour": 18,
            "schedule_minute": 30,
        },
        {"archive_window_days": 7},
    ),
]


def created(client: APIClient, resource: Resource, user: User) -> dict[str, Any]:
    response = client.post(api(f"{resource.prefix}-list"), resource.create(user), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


@pytest.mark.parametrize("resource", RESOURCES, ids=repr)
def test_creating_a_row_stores_it_for_the_requester(
    resource: Resource, alice: User, alice_api: APIClient
) -> None:
    payload = resource.create(alice)

    response = alice_api.post(api(f"{resource.prefix}-list"), payload, format="json")

    assert response.status_code == 201
    body = response.json()
    assert resource.model.objects.get(pk=body["id"]).user == alice
    assert body["user"] == alice.pk
    assert {name: body[name] for name in payload} == payload


@pytest.mark.parametrize("resource", RESOURCES, ids=repr)
def test_a_created_row_is_listed_and_readable(
    resource: Resource, alice: User, alice_api: APIClient
) -> None:
    body = created(alice_api, resource, alice)

    listed = alice_api.get(api(f"{resource.prefix}-list"))
    detail = alice_api.get(api(f"{resource.prefix}-detail", body["id"]))

    assert body["id"] in ids(listed)
    assert detail.status_code == 200
    assert detail.json() == body


@pytest.mark.parametrize("resource", RESOURCES, ids=repr)
def test_patching_a_row_changes_only_the_fields_sent(
    resource: Resource, alice: User, alice_api: APIClient
) -> None:
    body = created(alice_api, resource, alice)

    response = alice_api.patch(
        api(f"{resource.prefix}-detail", body["id"]), resource.change, format="json"
    )

    assert response.status_code == 200, response.json()
    assert {name: response.json()[name] for name in resource.change} == resource.change
    assert response.json()["id"] == body["id"]
    row = resource.model.objects.get(pk=body["id"])
    for name, value in resource.change.items():
        assert getattr(row, name) == value


@pytest.mark.parametrize("resource", RESOURCES, ids=repr)
def test_deleting_a_row_removes_it(resource: Resource, alice: User, alice_api: APIClient) -> None:
    body = created(alice_api, resource, alice)

    response = alice_api.delete(api(f"{resource.prefix}-detail", body["id"]))

    assert response.status_code == 204
    assert not resource.model.objects.filter(pk=body["id"]).exists()


@pytest.mark.parametrize("resource", RESOURCES, ids=repr)
def test_every_write_is_audited_with_the_requests_correlation_id(
    resource: Resource, alice: User, alice_api: APIClient
) -> None:
    body = created(alice_api, resource, alice)
    url = api(f"{resource.prefix}-detail", body["id"])

    alice_api.patch(url, resource.change, format="json", HTTP_X_REQUEST_ID="patch-1")
    alice_api.delete(url, HTTP_X_REQUEST_ID="delete-1")

    rows = AuditLog.objects.filter(
        action_type="api", resource_type=resource.model._meta.object_name, resource_id=body["id"]
    )
    assert sorted(rows.values_list("operation", flat=True)) == ["create", "delete", "update"]
    assert rows.get(operation="update").correlation_id == "patch-1"
    assert rows.get(operation="update").details == {"fields": sorted(resource.change)}
    assert rows.get(operation="delete").correlation_id == "delete-1"
    assert all(row.user == alice for row in rows)


def test_a_job_configuration_gets_a_schedule_and_loses_it_when_deleted(
    alice: User, alice_api: APIClient
) -> None:
    from django_q.models import Schedule

    from archiving.schedules import schedule_name

    body = created(alice_api, RESOURCES[-1], alice)
    assert Schedule.objects.filter(name=schedule_name(body["id"])).exists()

    alice_api.delete(api("job-configuration-detail", body["id"]))

    assert not Schedule.objects.filter(name=schedule_name(body["id"])).exists()


def test_appointments_filter_by_the_period_they_start_in(alice: User, alice_api: APIClient) -> None:
    from datetime import UTC, datetime, timedelta

    def at(day: int, hour: int, hours: int = 1) -> Appointment:
        start = datetime(2025, 5, day, hour, tzinfo=UTC)
        return AppointmentFactory(
            user=alice, start_time=start, end_time=start + timedelta(hours=hours)
        )

    before = at(7, 8)
    across_start = at(7, 22, hours=3)  # ends on the 8th, 01:00 UTC: billed on the 7th
    inside = at(8, 9)
    across_end = at(8, 23, hours=3)  # starts on the 8th
    after = at(10, 9)

    response = alice_api.get(
        api("appointment-list"), {"start": "2025-05-08T00:00:00Z", "end": "2025-05-09T00:00:00Z"}
    )

    assert ids(response) == {inside.pk, across_end.pk}
    assert not {before.pk, across_start.pk, after.pk} & ids(response)


def test_a_date_as_the_end_of_a_period_includes_that_whole_day_in_the_users_time_zone(
    alice: User, alice_api: APIClient
) -> None:
    from datetime import UTC, datetime

    # 23:30 UTC on 8 May is 00:30 on 9 May in London (BST): not on the 8th for Alice.
    late = AppointmentFactory(user=alice, start_time=datetime(2025, 5, 8, 23, 30, tzinfo=UTC))
    evening = AppointmentFactory(user=alice, start_time=datetime(2025, 5, 8, 20, 0, tzinfo=UTC))

    response = alice_api.get(api("appointment-list"), {"start": "2025-05-08", "end": "2025-05-08"})

    assert ids(response) == {evening.pk}
    assert late.pk not in ids(response)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"customer": "ACME"}, {"acme"}),
        ({"billing_type": "non-billable"}, {"admin"}),
        ({"is_private": "true"}, {"private"}),
        ({"is_archived": "true"}, {"archived"}),
        ({"search": "invoic"}, {"admin"}),
    ],
)
def test_appointments_filter_by_their_fields(
    alice: User, alice_api: APIClient, params: dict[str, str], expected: set[str]
) -> None:

    made = {
        "acme": AppointmentFactory(user=alice, subject="Review", customer="Acme"),
        "admin": AppointmentFactory(user=alice, subject="Invoicing", billing_type="non-billable"),
        "private": AppointmentFactory(user=alice, subject="Dentist", is_private=True),
        "archived": AppointmentFactory(user=alice, subject="Old", is_archived=True),
    }

    response = alice_api.get(api("appointment-list"), params)

    assert ids(response) == {made[name].pk for name in expected}


def test_appointments_page_through_a_stable_cursor(alice: User, alice_api: APIClient) -> None:
    from datetime import UTC, datetime, timedelta

    start = datetime(2025, 5, 1, 9, tzinfo=UTC)
    made = [AppointmentFactory(user=alice, start_time=start + timedelta(hours=i)) for i in range(5)]

    first = alice_api.get(api("appointment-list"), {"page_size": 2}).json()
    # A row added before the first page must not shift the next one.
    AppointmentFactory(user=alice, start_time=start - timedelta(days=1))
    second = alice_api.get(first["next"]).json()

    assert [row["id"] for row in first["results"]] == [made[0].pk, made[1].pk]
    assert [row["id"] for row in second["results"]] == [made[2].pk, made[3].pk]


def test_page_size_is_capped_at_200(alice: User, alice_api: APIClient) -> None:
    for _ in range(3):
        Location.objects.create(user=alice, name=f"Site {Location.objects.count()}")

    response = alice_api.get(api("location-list"), {"page_size": 100000})

    assert response.status_code == 200
    assert response.json()["count"] == 3


def test_me_shows_the_user_without_any_token(alice: User, alice_api: APIClient) -> None:
    alice.ms_refresh_token = "secret-refresh-token"
    alice.save()

    body = alice_api.get(api("me")).json()

    assert body["email"] == "alice@example.com"
    assert body["microsoft_connected"] is True
    assert "secret-refresh-token" not in str(body)
    assert not any("token" in key for key in body)


def test_me_changes_name_and_time_zone(alice: User, alice_api: APIClient) -> None:
    response = alice_api.patch(
        api("me"), {"name": "Alice A.", "timezone": "America/New_York"}, format="json"
    )

    alice.refresh_from_db()
    assert response.status_code == 200
    assert (alice.name, alice.timezone) == ("Alice A.", "America/New_York")


def test_me_cannot_make_the_user_a_superuser(alice: User, alice_api: APIClient) -> None:
    response = alice_api.patch(api("me"), {"is_superuser": True}, format="json")

    alice.refresh_from_db()
    assert response.status_code == 200
    assert not alice.is_superuser


def test_the_api_root_lists_every_resource(alice_api: APIClient) -> None:
    body = alice_api.get(api("api-root")).json()

    assert list(body) == [
        "me",
        "appointments",
        "categories",
        "locations",
        "calendars",
        "timesheets",
        "customer-settings",
        "archive-configurations",
        "job-configurations",
        "audit-log",
        "action-log",
    ]
