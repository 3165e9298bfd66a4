"""Rules the admin and the API used to disagree on now live on the models, and the API answers
bodies it cannot parse with a 400."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken, User
from adminassistant.validators import validate_timezone
from archiving.models import ArchiveConfiguration, JobConfiguration
from auditing.models import ActionLog
from tests.api_helpers import api, api_client
from tests.test_admin_constraints import alice_config, form_errors, job_form  # noqa: F401
from tests.unchanged import unchanged

pytestmark = pytest.mark.django_db(databases=["default", "web"])


def test_an_archive_window_over_366_days_is_a_form_error(
    alice_client: Client,
    alice_config: ArchiveConfiguration,  # noqa: F811
) -> None:
    with unchanged():
        response = alice_client.post(
            reverse("admin:archiving_jobconfiguration_add"),
            job_form(alice_config, archive_window_days="100000"),
        )

    assert "less than or equal to 366" in form_errors(response)["archive_window_days"][0]
    assert not JobConfiguration.objects.exists()


def test_the_database_refuses_an_archive_window_over_366_days(
    alice_config: ArchiveConfiguration,  # noqa: F811
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


def test_an_action_item_cannot_be_resolved_in_the_admin_form_without_a_close_date(
    admin_client: Client, alice: User
) -> None:
    item = ActionLog.objects.create(user=alice, event_type="overlap")

    with unchanged():
        response = admin_client.post(
            reverse("admin:auditing_actionlog_change", args=[item.pk]),
            {"user": alice.pk, "event_type": "overlap", "state": "resolved"},
        )

    assert "state" in response.context["adminform"].form.errors
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


@pytest.mark.parametrize("depth", [65, 1_000, 10_000, 100_000])
def test_a_deeply_nested_api_body_is_400_with_a_message(alice: User, depth: int) -> None:
    client: APIClient = api_client(alice)

    response = client.generic(
        "POST",
        api("appointment-list"),
        "[" * depth + "]" * depth,
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "nested at most 64 levels" in response.json()["detail"]


@pytest.mark.parametrize("body", ['{"subject": NaN}', '{"subject": Infinity}', '{"x": 1e999}'])
def test_non_finite_numbers_in_an_api_body_are_400(alice: User, body: str) -> None:
    response = api_client(alice).generic(
        "POST", api("appointment-list"), body, content_type="application/json"
    )

    assert response.status_code == 400


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "9999-12-31T23:00:00Z"])
def test_an_api_date_filter_outside_1970_to_2200_is_400(alice: User, value: str) -> None:
    response = api_client(alice).get(api("appointment-list"), {"end": value})

    assert response.status_code == 400
    assert "between 1970-01-01 and 2200-12-31" in response.json()["end"][0]


def test_an_appointment_in_year_9999_is_400_through_the_api(alice: User) -> None:
    client = api_client(alice)

    with unchanged():
        response = client.post(
            api("appointment-list"),
            {
                "subject": "Far future",
                "start_time": "9999-12-31T20:00:00Z",
                "end_time": "9999-12-31T21:00:00Z",
            },
            format="json",
        )

    assert response.status_code == 400
    assert "start_time" in response.json()
