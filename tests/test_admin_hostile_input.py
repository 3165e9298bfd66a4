"""Hostile values posted to the admin's forms are field errors, never a server error."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from calendars.models import Appointment
from tests.test_admin_constraints import appointment_form, form_errors
from tests.unchanged import unchanged

pytestmark = pytest.mark.django_db(databases=["default", "web"])

DEEP = "[" * 5000 + "]" * 5000


@pytest.mark.parametrize("value", ["abc", "1.5", "9" * 40, "-1", "1e3", "\x00", " "])
@pytest.mark.parametrize("field", ["category", "location"])
def test_a_non_integer_autocomplete_choice_is_a_form_error(
    alice_client: Client, field: str, value: str
) -> None:
    with unchanged():
        response = alice_client.post(
            reverse("admin:calendars_appointment_add"), appointment_form(**{field: value})
        )

    assert field in form_errors(response)
    assert not Appointment.objects.exists()


def test_a_non_integer_archive_configuration_is_a_form_error(alice_client: Client) -> None:
    with unchanged():
        response = alice_client.post(
            reverse("admin:archiving_jobconfiguration_add"),
            {"archive_configuration": "x", "schedule_type": "daily", "archive_window_days": "1"},
        )

    assert "archive_configuration" in form_errors(response)


@pytest.mark.parametrize(
    "value",
    ["NaN", "[Infinity]", "[-Infinity]", '["a\\u0000"]', DEEP, "[" + "9" * 5000 + "]", "[1e999]"],
)
def test_hostile_json_in_categories_is_a_field_error(alice_client: Client, value: str) -> None:
    with unchanged():
        response = alice_client.post(
            reverse("admin:calendars_appointment_add"), appointment_form(categories=value)
        )

    assert "categories" in form_errors(response)
    assert not Appointment.objects.exists()


@pytest.mark.parametrize(
    "value", ["5", '{"a": 1}', "[1, 2]", '["' + "x" * 256 + '"]', json.dumps(["a"] * 51), '[""]']
)
def test_categories_that_are_not_a_short_list_of_names_are_refused(
    alice_client: Client, value: str
) -> None:
    with unchanged():
        response = alice_client.post(
            reverse("admin:calendars_appointment_add"), appointment_form(categories=value)
        )

    # The admin offers the owner's Outlook categories only: anything else is not a choice.
    assert form_errors(response)["categories"]
    assert not Appointment.objects.exists()


def test_no_categories_chosen_are_saved_as_no_categories(alice_client: Client) -> None:
    response = alice_client.post(reverse("admin:calendars_appointment_add"), appointment_form())

    assert response.status_code == 302
    assert Appointment.objects.get().categories == []


@pytest.mark.parametrize("year", ["0001", "1969", "2201", "9999"])
def test_an_appointment_outside_1970_to_2200_is_a_form_error(
    alice_client: Client, year: str
) -> None:
    with unchanged():
        response = alice_client.post(
            reverse("admin:calendars_appointment_add"),
            appointment_form(start_time_0=f"08/05/{year}", end_time_0=f"08/05/{year}"),
        )

    assert "between 1970-01-01 and 2200-12-31" in form_errors(response)["start_time"][0]
    assert not Appointment.objects.exists()


def test_raw_graph_json_is_read_only_in_the_admin(
    alice_client: Client, alice_appointment: Appointment
) -> None:
    alice_appointment.ms_event_data = {"id": "graph"}
    alice_appointment.save()
    url = reverse("admin:calendars_appointment_change", args=[alice_appointment.pk])

    response = alice_client.post(url, appointment_form(ms_event_data='{"id": "changed"}'))

    alice_appointment.refresh_from_db()
    assert response.status_code == 302
    assert alice_appointment.ms_event_data == {"id": "graph"}


@pytest.mark.parametrize("value", ["NaN", DEEP, '{"a": "\\u0000"}'])
def test_hostile_json_in_action_log_details_is_a_field_error(
    admin_client: Client, alice: User, value: str
) -> None:
    with unchanged():
        response = admin_client.post(
            reverse("admin:auditing_actionlog_add"),
            {"user": alice.pk, "event_type": "x", "state": "open", "details": value},
        )

    assert response.status_code == 200
    assert "details" in response.context["adminform"].form.errors


@pytest.mark.parametrize("year", ["9999", "1", "abc", "99999999999999999999"])
def test_a_date_drill_down_outside_1970_to_2200_shows_the_error_flag(
    alice_client: Client, year: str
) -> None:
    response = alice_client.get(
        reverse("admin:calendars_appointment_changelist"), {"start_time__year": year}
    )

    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


def test_a_date_drill_down_inside_the_range_lists_appointments(
    alice_client: Client, alice_appointment: Appointment
) -> None:
    response = alice_client.get(
        reverse("admin:calendars_appointment_changelist"),
        {"start_time__year": str(alice_appointment.start_time.year)},
    )

    assert response.status_code == 200
