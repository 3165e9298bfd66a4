"""Bad input to the API is a 400 (or 413) with field messages, and nothing is written."""

from __future__ import annotations

from typing import Any

import pytest
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from accounts.models import User
from archiving.models import ArchiveConfiguration, JobConfiguration
from auditing.models import AuditLog
from calendars.models import Appointment, Location
from tests.api_helpers import api, without_throttling
from tests.factories import ArchiveConfigurationFactory
from tests.unchanged import unchanged

pytestmark = pytest.mark.django_db(databases=["default", "web"])

MEETING = {
    "subject": "Acme review",
    "start_time": "2025-05-08T09:00:00Z",
    "end_time": "2025-05-08T10:00:00Z",
}
ARCHIVE = {
    "name": "Daily archive",
    "source_calendar_uri": "msgraph://calendars/Calendar",
    "destination_calendar_uri": "msgraph://calendars/Archive",
    "timezone": "Europe/London",
}


@pytest.fixture(autouse=True)
def unthrottled(settings: Settings) -> None:
    without_throttling(settings)


def nothing_written() -> bool:
    return not (
        Appointment.objects.exists()
        or Location.objects.exists()
        or ArchiveConfiguration.objects.exists()
        or AuditLog.objects.filter(action_type="api").exists()
    )


def test_malformed_json_is_400(alice_api: APIClient) -> None:
    with unchanged():
        response = alice_api.post(
            api("appointment-list"), '{"subject": "Acme', content_type="application/json"
        )

    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]
    assert nothing_written()


def test_a_body_that_is_not_an_object_is_400(alice_api: APIClient) -> None:
    with unchanged():
        response = alice_api.post(api("location-list"), [1, 2], format="json")

    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_a_form_encoded_body_is_415(alice_api: APIClient) -> None:
    with unchanged():
        response = alice_api.post(api("location-list"), {"name": "Office"}, format="multipart")

    assert response.status_code == 415
    assert nothing_written()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**MEETING, "start_time": "yesterday"}, "start_time"),
        ({**MEETING, "is_private": "perhaps"}, "is_private"),
        ({**MEETING, "categories": "Acme - billable"}, "categories"),
        ({**MEETING, "categories": [1, {"a": 2}]}, "categories"),
        ({**MEETING, "location": "the office"}, "location"),
        ({**MEETING, "location": True}, "location"),
        ({**MEETING, "billing_type": "sometimes"}, "billing_type"),
        ({**MEETING, "subject": ["Acme"]}, "subject"),
    ],
)
def test_wrong_types_are_400_with_the_fields_message(
    alice_api: APIClient, payload: dict[str, Any], field: str
) -> None:
    with unchanged():
        response = alice_api.post(api("appointment-list"), payload, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert nothing_written()


def test_unknown_fields_are_refused_by_name(alice_api: APIClient) -> None:
    with unchanged():
        response = alice_api.post(
            api("location-list"), {"name": "Office", "colour": "red"}, format="json"
        )

    assert response.status_code == 400
    assert response.json()["colour"][0].startswith("Unknown field.")
    assert nothing_written()


def test_read_only_fields_sent_back_are_ignored(alice: User, alice_api: APIClient) -> None:
    location = Location.objects.create(user=alice, name="Office")
    body = alice_api.get(api("location-detail", location.pk)).json()

    response = alice_api.put(
        api("location-detail", location.pk), {**body, "name": "HQ", "id": 999}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["id"] == location.pk


@pytest.mark.parametrize(
    ("resource", "payload", "field"),
    [
        ("appointment", {**MEETING, "subject": "x" * 1025}, "subject"),
        ("location", {"name": "x" * 256}, "name"),
        ("appointment", {**MEETING, "categories": ["x" * 256]}, "categories"),
        ("appointment", {**MEETING, "categories": ["Acme"] * 101}, "categories"),
        ("archive-configuration", {**ARCHIVE, "name": "x" * 100_000}, "name"),
    ],
)
def test_huge_strings_are_400(
    alice_api: APIClient, resource: str, payload: dict[str, Any], field: str
) -> None:
    with unchanged():
        response = alice_api.post(api(f"{resource}-list"), payload, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert nothing_written()


def test_a_body_over_the_size_limit_is_413(alice_api: APIClient, settings: Settings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    with unchanged():
        response = alice_api.post(api("location-list"), {"name": "x" * 2000}, format="json")

    assert response.status_code == 413
    assert nothing_written()


def test_a_null_character_is_400(alice_api: APIClient) -> None:
    with unchanged():
        response = alice_api.post(api("location-list"), {"name": "Office\x00"}, format="json")

    assert response.status_code == 400
    assert nothing_written()


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "../../etc/passwd", "UTC\x00"])
def test_an_invalid_time_zone_is_400(alice_api: APIClient, zone: str) -> None:
    with unchanged():
        configuration = alice_api.post(
            api("archive-configuration-list"), {**ARCHIVE, "timezone": zone}, format="json"
        )
        me = alice_api.patch(api("me"), {"timezone": zone}, format="json")

    assert configuration.status_code == 400
    assert "timezone" in configuration.json()
    assert me.status_code == 400
    assert "timezone" in me.json()
    assert nothing_written()


def test_an_end_before_the_start_is_400(alice_api: APIClient) -> None:
    with unchanged():
        response = alice_api.post(
            api("appointment-list"), {**MEETING, "end_time": "2025-05-08T08:00:00Z"}, format="json"
        )

    assert response.status_code == 400
    assert response.json() == {"end_time": ["The end time must be after the start time."]}
    assert nothing_written()


def test_moving_the_start_after_the_end_is_400(alice: User, alice_api: APIClient) -> None:
    created = alice_api.post(api("appointment-list"), MEETING, format="json").json()

    with unchanged():
        response = alice_api.patch(
            api("appointment-detail", created["id"]),
            {"start_time": "2025-05-08T12:00:00Z"},
            format="json",
        )

    assert response.status_code == 400
    assert "end_time" in response.json()
    assert Appointment.objects.get().start_time.hour == 9


@pytest.mark.parametrize(
    "uri",
    [
        "https://graph.microsoft.com/calendars/Calendar",
        "msgraph://calendars/",
        'msgraph://calendars/"Open quote',
        "msgraph://calendars/A/B",
        "msgraph://not an email/calendars/Calendar",
    ],
)
def test_an_invalid_calendar_uri_is_400_with_what_is_wrong(alice_api: APIClient, uri: str) -> None:
    with unchanged():
        response = alice_api.post(
            api("archive-configuration-list"),
            {**ARCHIVE, "source_calendar_uri": uri},
            format="json",
        )

    assert response.status_code == 400
    assert response.json()["source_calendar_uri"][0]
    assert nothing_written()


def test_the_same_source_and_archive_calendar_is_400(alice_api: APIClient) -> None:
    with unchanged():
        response = alice_api.post(
            api("archive-configuration-list"),
            {**ARCHIVE, "destination_calendar_uri": ARCHIVE["source_calendar_uri"]},
            format="json",
        )

    assert response.status_code == 400
    assert "destination_calendar_uri" in response.json()


def test_a_duplicate_name_is_400_not_a_database_error(alice: User, alice_api: APIClient) -> None:
    Location.objects.create(user=alice, name="Office")

    with unchanged():
        response = alice_api.post(api("location-list"), {"name": "Office"}, format="json")

    assert response.status_code == 400
    assert "already has a location with this name" in str(response.json())


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"schedule_hour": 24}, "schedule_hour"),
        ({"schedule_hour": -1}, "schedule_hour"),
        ({"schedule_minute": 60}, "schedule_minute"),
        ({"schedule_day_of_week": 7}, "schedule_day_of_week"),
        ({"archive_window_days": 0}, "archive_window_days"),
        ({"archive_window_days": 10_000}, "archive_window_days"),
        ({"schedule_type": "hourly"}, "schedule_type"),
        ({"schedule_type": "weekly", "schedule_day_of_week": None}, "schedule_day_of_week"),
        ({"schedule_hour": 2**70}, "schedule_hour"),
    ],
)
def test_out_of_range_schedule_values_are_400(
    alice: User, alice_api: APIClient, change: dict[str, Any], field: str
) -> None:
    configuration = ArchiveConfigurationFactory(user=alice)

    with unchanged():
        response = alice_api.post(
            api("job-configuration-list"),
            {"archive_configuration": configuration.pk, "schedule_type": "daily", **change},
            format="json",
        )

    assert response.status_code == 400
    assert field in response.json()
    assert not JobConfiguration.objects.exists()


@pytest.mark.parametrize(
    "params",
    [
        {"start": "next tuesday"},
        {"end": "2025-13-01"},
        {"start": "0001-01-01T00:00:00+14:00"},
        {"end": "9999-12-31"},
        {"category": "acme"},
        {"user": "1.5"},
        {"billing_type": "sometimes"},
        {"search": "a\x00b"},
    ],
)
def test_bad_filters_are_400(alice_api: APIClient, params: dict[str, str]) -> None:
    response = alice_api.get(api("appointment-list"), params)

    assert response.status_code == 400
    assert set(response.json()) == set(params)


@pytest.mark.parametrize("cursor", ["garbage", "cD0yMDI1LTEzLTQ1"])  # p=2025-13-45
def test_a_bad_cursor_is_404(alice_api: APIClient, cursor: str) -> None:
    response = alice_api.get(api("appointment-list"), {"cursor": cursor})

    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid cursor"}
