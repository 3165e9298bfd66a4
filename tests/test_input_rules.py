"""Rules on data the admin and the API both refuse, with the field's message, saving nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from accounts.models import ApiToken, User
from archiving.models import ArchiveConfiguration, JobConfiguration
from auditing.models import ActionLog
from calendars.models import Appointment, Location
from foundations.validators import validate_timezone
from tests.api_helpers import ARCHIVE, MEETING, api, nothing_written, without_throttling
from tests.factories import ArchiveConfigurationFactory
from tests.unchanged import unchanged

pytestmark = pytest.mark.django_db(databases=["default", "web"])


def test_an_archive_window_over_366_days_is_a_form_error(
    alice_client: Client,
    alice_config: ArchiveConfiguration,
) -> None:
    with unchanged():
        response = alice_client.post(
            reverse("admin:archiving_jobconfiguration_add"),
            job_form(alice_config, archive_window_days="100000"),
        )

    assert "less than or equal to 366" in form_errors(response)["archive_window_days"][0]
    assert not JobConfiguration.objects.exists()


def test_the_database_refuses_an_archive_window_over_366_days(
    alice_config: ArchiveConfiguration,
) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        JobConfiguration.objects.create(
            archive_configuration=alice_config, schedule_type="daily", archive_window_days=367
        )


@pytest.mark.parametrize(
    "zone", ["localtime", "Factory", "EST5EDT", "posix/Europe/London", "right/UTC", "posixrules"]
)
def test_names_that_are_not_iana_zones_are_refused(zone: str) -> None:
    with pytest.raises(ValidationError):
        validate_timezone(zone)


@pytest.mark.parametrize("zone", ["UTC", "Europe/London", "America/Argentina/Buenos_Aires"])
def test_iana_zone_names_are_accepted(zone: str) -> None:
    validate_timezone(zone)


def test_an_action_items_state_cannot_be_set_in_the_admin_form(
    admin_client: Client, alice: User
) -> None:
    item = ActionLog.objects.create(user=alice, event_type="overlap")

    with unchanged():
        response = admin_client.post(
            reverse("admin:auditing_actionlog_change", args=[item.pk]),
            {"user": alice.pk, "event_type": "overlap", "state": "resolved"},
        )

    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.state, item.closed_at) == ("open", None)


def test_the_database_refuses_a_resolved_item_without_a_close_date(alice: User) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        ActionLog.objects.create(user=alice, event_type="overlap", state="resolved")


def test_an_api_token_cannot_be_created_already_expired(alice_client: Client) -> None:
    past = timezone.localtime() - timedelta(days=1)

    with unchanged():
        response = alice_client.post(
            reverse("admin:accounts_apitoken_add"),
            {
                "name": "script",
                "expires_at_0": past.strftime("%d/%m/%Y"),
                "expires_at_1": past.strftime("%H:%M:%S"),
            },
        )

    assert "expires_at" in form_errors(response)
    assert not ApiToken.objects.exists()


# -- in the admin's forms ------------------------------------------------------------------------


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


# -- through the API -----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def unthrottled(settings: Settings) -> None:
    without_throttling(settings)


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
