"""The seed's rules show as form errors in the admin, and nothing is saved."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from archiving.models import ArchiveConfiguration, JobConfiguration
from calendars.models import Appointment
from tests.unchanged import unchanged

pytestmark = pytest.mark.django_db(databases=["default", "web"])


def form_errors(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 200, "the form should be shown again with its errors"
    form = response.context["adminform"].form
    return {field: [str(e) for e in errors] for field, errors in form.errors.items()}


@pytest.fixture
def alice_config(alice: User) -> ArchiveConfiguration:
    return ArchiveConfiguration.objects.create(
        user=alice,
        name="Daily",
        source_calendar_uri="msgraph://calendars/Calendar",
        destination_calendar_uri="msgraph://calendars/Archive",
        timezone="Europe/London",
    )


def appointment_form(**overrides: str) -> dict[str, str]:
    data = {
        "subject": "Design review",
        "start_time_0": "08/05/2025",
        "start_time_1": "10:00:00",
        "end_time_0": "08/05/2025",
        "end_time_1": "11:00:00",
        "show_as": "busy",
        "importance": "normal",
        "sensitivity": "normal",
    }
    return {**data, **overrides}


def test_end_before_start_is_a_form_error(alice_client: Client) -> None:
    with unchanged():
        response = alice_client.post(
            reverse("admin:calendars_appointment_add"), appointment_form(end_time_1="09:00:00")
        )

    assert form_errors(response)["end_time"] == ["The end time must be after the start time."]
    assert not Appointment.objects.exists()


def test_end_equal_to_start_is_a_form_error(alice_client: Client) -> None:
    with unchanged():
        response = alice_client.post(
            reverse("admin:calendars_appointment_add"), appointment_form(end_time_1="10:00:00")
        )

    assert "end_time" in form_errors(response)


def test_duplicate_email_in_another_case_is_a_form_error(admin_client: Client, alice: User) -> None:
    with unchanged():
        response = admin_client.post(
            reverse("admin:accounts_user_add"),
            {
                "email": "ALICE@example.com",
                "timezone": "UTC",
                "password1": "a-long-unusual-passphrase",
                "password2": "a-long-unusual-passphrase",
            },
        )

    errors = form_errors(response)
    assert "A user with this email address already exists." in str(errors)
    assert User.objects.filter(email__iexact="alice@example.com").count() == 1


def job_form(config: ArchiveConfiguration, **overrides: str) -> dict[str, str]:
    data = {
        "archive_configuration": str(config.pk),
        "archive_window_days": "1",
        "schedule_type": "daily",
        "schedule_hour": "23",
        "schedule_minute": "59",
        "schedule_day_of_week": "",
        "is_active": "on",
    }
    return {**data, **overrides}


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"schedule_type": "hourly"}, "schedule_type", "not one of the available choices"),
        ({"schedule_hour": "24"}, "schedule_hour", "less than or equal to 23"),
        ({"schedule_hour": "-1"}, "schedule_hour", "greater than or equal to 0"),
        ({"schedule_minute": "60"}, "schedule_minute", "less than or equal to 59"),
        ({"schedule_day_of_week": "7"}, "schedule_day_of_week", "not one of the available"),
        ({"schedule_type": "weekly"}, "schedule_day_of_week", "A weekly job needs a day"),
        ({"archive_window_days": "0"}, "archive_window_days", "greater than or equal to 1"),
    ],
)
def test_out_of_range_schedule_is_a_form_error(
    alice_client: Client,
    alice_config: ArchiveConfiguration,
    overrides: dict[str, str],
    field: str,
    message: str,
) -> None:
    with unchanged():
        response = alice_client.post(
            reverse("admin:archiving_jobconfiguration_add"), job_form(alice_config, **overrides)
        )

    assert message in " ".join(form_errors(response)[field])
    assert not JobConfiguration.objects.exists()


def test_a_weekly_job_with_a_day_is_saved(
    alice_client: Client, alice_config: ArchiveConfiguration
) -> None:
    response = alice_client.post(
        reverse("admin:archiving_jobconfiguration_add"),
        job_form(alice_config, schedule_type="weekly", schedule_day_of_week="4"),
    )

    assert response.status_code == 302
    assert JobConfiguration.objects.get().get_schedule_day_of_week_display() == "Friday"


def archive_form(**overrides: str) -> dict[str, str]:
    data = {
        "name": "Daily archive",
        "source_calendar_uri": "msgraph://calendars/Calendar",
        "destination_calendar_uri": 'msgraph://calendars/"Billable Archive"',
        "timezone": "Europe/London",
        "is_active": "on",
    }
    return {**data, **overrides}


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"source_calendar_uri": "https://outlook.com/cal"}, "source_calendar_uri", "msgraph://"),
        ({"source_calendar_uri": "msgraph://Calendar"}, "source_calendar_uri", "calendars/"),
        ({"destination_calendar_uri": "msgraph://calendars/"}, "destination_calendar_uri", "empty"),
        (
            {"destination_calendar_uri": 'msgraph://calendars/"Open'},
            "destination_calendar_uri",
            "does not close it",
        ),
        (
            {"destination_calendar_uri": "msgraph://calendars/A/B"},
            "destination_calendar_uri",
            "quote it",
        ),
        ({"timezone": "Mars/Olympus"}, "timezone", "not a valid IANA time zone"),
        ({"timezone": "CEST"}, "timezone", "not a valid IANA time zone"),
        (
            {"destination_calendar_uri": "msgraph://calendars/Calendar"},
            "destination_calendar_uri",
            "must differ from the source",
        ),
    ],
)
def test_invalid_archive_configuration_is_a_form_error(
    alice_client: Client, overrides: dict[str, str], field: str, message: str
) -> None:
    with unchanged():
        response = alice_client.post(
            reverse("admin:archiving_archiveconfiguration_add"), archive_form(**overrides)
        )

    assert message in " ".join(form_errors(response)[field])
    assert not ArchiveConfiguration.objects.exists()


@pytest.mark.parametrize(
    "uri",
    [
        "msgraph://calendars/Calendar",
        'msgraph://calendars/"Billable Archive"',
        "msgraph://calendars/Billable%20Archive",
        "msgraph://alice@example.com/calendars/Archive",
        "msgraph://calendars/AAMkAGI2TG93AAA=",
    ],
)
def test_valid_calendar_uris_are_accepted(alice_client: Client, alice: User, uri: str) -> None:
    response = alice_client.post(
        reverse("admin:archiving_archiveconfiguration_add"),
        archive_form(destination_calendar_uri=uri, source_calendar_uri="msgraph://me/calendars/X"),
    )

    assert response.status_code == 302
    assert ArchiveConfiguration.objects.get(user=alice).destination_calendar_uri == uri


def test_duplicate_archive_configuration_name_is_a_form_error(
    alice_client: Client, alice_config: ArchiveConfiguration
) -> None:
    with unchanged():
        response = alice_client.post(
            reverse("admin:archiving_archiveconfiguration_add"), archive_form(name="Daily")
        )

    assert "already has an archive configuration with this name" in str(form_errors(response))
    assert ArchiveConfiguration.objects.count() == 1
