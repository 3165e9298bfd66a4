"""An archive job looks back at most 366 days: the model's rule, so the admin form and the API
refuse 367 with the same words, and a weekly job needs its day in both."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from accounts.models import User
from archiving.models import JobConfiguration
from tests.api_helpers import api, api_client, without_throttling
from tests.factories import ArchiveConfigurationFactory

pytestmark = pytest.mark.django_db(databases=["default", "web"])

AT_MOST_366 = "Ensure this value is less than or equal to 366."
WEEKLY_NEEDS_DAY = "A weekly job needs a day of the week."


@pytest.fixture(autouse=True)
def no_throttling(settings: Settings) -> None:
    without_throttling(settings)


def admin_errors(client: Client, **fields: str) -> dict[str, list[str]]:
    response = client.post(reverse("admin:archiving_jobconfiguration_add"), fields)
    assert response.status_code == 200, "the form should be shown again with its errors"
    return {
        name: list(errors) for name, errors in response.context["adminform"].form.errors.items()
    }


def api_errors(user: User, **fields: Any) -> dict[str, list[str]]:
    response = api_client(user).post(api("job-configuration-list"), fields, format="json")
    assert response.status_code == 400
    return response.json()


def job_fields(configuration_pk: int, **overrides: Any) -> dict[str, Any]:
    return {
        "archive_configuration": configuration_pk,
        "archive_window_days": 1,
        "schedule_type": "daily",
        "schedule_hour": 23,
        "schedule_minute": 59,
        **overrides,
    }


def test_the_model_refuses_a_window_of_367_days(alice: User) -> None:
    job = JobConfiguration(
        user=alice,
        archive_configuration=ArchiveConfigurationFactory(user=alice),
        schedule_type=JobConfiguration.ScheduleType.DAILY,
        archive_window_days=367,
    )

    with pytest.raises(ValidationError) as refused:
        job.full_clean()

    assert refused.value.message_dict["archive_window_days"] == [AT_MOST_366]


def test_the_admin_and_the_api_refuse_367_days_with_the_same_message(
    alice: User, alice_client: Client
) -> None:
    configuration = ArchiveConfigurationFactory(user=alice)
    fields = job_fields(configuration.pk, archive_window_days=367)

    in_admin = admin_errors(alice_client, **{k: str(v) for k, v in fields.items()})
    in_api = api_errors(alice, **fields)

    assert in_admin["archive_window_days"] == in_api["archive_window_days"] == [AT_MOST_366]
    assert not JobConfiguration.objects.exists()


def test_366_days_is_accepted_in_the_admin_and_the_api(alice: User, alice_client: Client) -> None:
    configuration = ArchiveConfigurationFactory(user=alice)
    fields = job_fields(configuration.pk, archive_window_days=366)

    in_admin = alice_client.post(
        reverse("admin:archiving_jobconfiguration_add"),
        {k: str(v) for k, v in fields.items()},
    )
    in_api = api_client(alice).post(api("job-configuration-list"), fields, format="json")

    assert (in_admin.status_code, in_api.status_code) == (302, 201)
    assert list(JobConfiguration.objects.values_list("archive_window_days", flat=True)) == [
        366,
        366,
    ]


def test_the_admin_and_the_api_refuse_a_weekly_job_without_a_day_alike(
    alice: User, alice_client: Client
) -> None:
    configuration = ArchiveConfigurationFactory(user=alice)
    fields = job_fields(configuration.pk, schedule_type="weekly")

    in_admin = admin_errors(alice_client, **{k: str(v) for k, v in fields.items()})
    in_api = api_errors(alice, **fields)

    assert in_admin["schedule_day_of_week"] == in_api["schedule_day_of_week"] == [WEEKLY_NEEDS_DAY]
    assert not JobConfiguration.objects.exists()
