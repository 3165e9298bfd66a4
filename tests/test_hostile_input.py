"""Hostile and malformed input is a field error or a 4xx that writes nothing, never a 500.

The sweep: a table of hostile values, posted to every field of every admin add form of our apps
and to every field of the API's writes: each answer is a form error or a 4xx and writes nothing,
and after any accepted write the API list, timesheet generation and the three exports still
answer. The table is fixed (no randomness), so the sweep runs the same cases every time: see
`test_the_sweep_covers_every_form_and_write` for the count.
"""

from __future__ import annotations

import contextlib
import json
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib import admin
from django.db import models
from django.forms import MultiWidget
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from accounts.models import User
from calendars.models import Appointment, Location
from tests.api_helpers import ARCHIVE, MEETING, api, api_client, nothing_written, without_throttling
from tests.factories import AppointmentFactory, ArchiveConfigurationFactory
from tests.test_input_rules import alice_config, appointment_form, form_errors, job_form  # noqa: F401
from tests.unchanged import unchanged
from timesheets.services import TimesheetError, timesheet_generate

pytestmark = pytest.mark.django_db(databases=["default", "web"])

OUR_APPS = {"accounts", "calendars", "archiving", "timesheets", "auditing"}
DEEP = "[" * 3000 + "]" * 3000
HOSTILE: list[Any] = [
    "x" * 5000,
    "a\x00b",
    "\x00",
    "ünïcödé 🎉 \u202e",
    "NaN",
    "Infinity",
    "-1",
    "9" * 400,
    "1e999",
    DEEP,
    '{"a": 1}',
    "[1, 2]",
    "null",
    "9999-12-31",
    "0001-01-01",
    "31/12/9999",
    "",
    " ",
]
API_HOSTILE: list[Any] = [
    "x" * 5000,
    "a\x00b",
    float("nan"),
    -1,
    10**30,
    [[[[[[]]]]]],
    {"a": 1},
    [1, 2],
    None,
    True,
    "9999-12-31T20:00:00Z",
    "0001-01-01T00:00:00Z",
    "",
]
CASES = {"admin": 0, "api": 0}


@pytest.fixture(autouse=True)
def media_in_tmp(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    without_throttling(settings)


SUPERUSER = SimpleNamespace(
    user=SimpleNamespace(is_active=True, is_staff=True, is_superuser=True, has_perm=lambda *a: True)
)


def our_model_admins() -> list[tuple[type[models.Model], Any]]:
    return sorted(
        (
            (model, model_admin)
            for model, model_admin in admin.site._registry.items()
            # Admins without an add form (the audit log, archive copies and runs, timesheets,
            # which are issued by "Generate timesheet") have nothing to attack here.
            if model._meta.app_label in OUR_APPS and model_admin.has_add_permission(SUPERUSER)
        ),
        key=lambda pair: pair[0]._meta.label,
    )


def field_keys(form: Any) -> dict[str, list[str]]:
    keys = {}
    for bound in form:
        widget = getattr(bound.field.widget, "widget", bound.field.widget)
        if isinstance(widget, MultiWidget):
            keys[bound.name] = [f"{bound.html_name}_{i}" for i in range(len(widget.widgets))]
        else:
            keys[bound.name] = [bound.html_name]
    return keys


def readers_answer(client: Client, user: User) -> None:
    """What a user reads after a write: the API list, timesheets and the exports."""
    assert api_client(user).get(api("appointment-list")).status_code == 200
    with contextlib.suppress(TimesheetError):
        timesheet_generate(
            user=user, customer="Acme", start=date(2025, 5, 1), end=date(2025, 5, 31)
        )
    mine = list(Appointment.objects.filter(user=user).values_list("pk", flat=True))
    for action in ("export_csv", "export_xlsx", "export_pdf"):
        response = client.post(
            reverse("admin:calendars_appointment_changelist"),
            {"action": action, "_selected_action": mine},
        )
        assert response.status_code in (200, 302)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("model", "model_admin"),
    our_model_admins(),
    ids=lambda value: value._meta.label if isinstance(value, type) else "",
)
def test_hostile_values_in_an_admin_add_form_are_refused_or_readable(
    admin_client: Client, admin_user: User, model: type[models.Model], model_admin: Any
) -> None:
    AppointmentFactory(user=admin_user, customer="Acme", billing_type="billable")
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")
    page = admin_client.get(url)
    assert page.status_code == 200
    keys = field_keys(page.context["adminform"].form)
    for name, html_names in keys.items():
        for value in HOSTILE:
            before = model._default_manager.count()
            response = admin_client.post(url, dict.fromkeys(html_names, value))
            CASES["admin"] += 1
            assert response.status_code in (200, 302), (name, value[:40], response.status_code)
            if response.status_code == 200:
                assert model._default_manager.count() == before, (name, value[:40])
            else:
                readers_answer(admin_client, admin_user)


WRITES = {
    "appointment-list": {
        "subject": "Acme review",
        "start_time": "2025-05-08T09:00:00Z",
        "end_time": "2025-05-08T10:00:00Z",
        "customer": "Acme",
        "categories": ["Acme - billable"],
    },
    "location-list": {"name": "Office"},
    "archive-configuration-list": {
        "name": "Daily",
        "source_calendar_uri": "msgraph://calendars/Calendar",
        "destination_calendar_uri": "msgraph://calendars/Archive",
        "timezone": "Europe/London",
    },
}


def post_json(client: Any, url: str, body: dict[str, Any]) -> Any:
    # json.dumps writes NaN as a bare `NaN`, as a careless client would.
    return client.generic("POST", url, json.dumps(body), content_type="application/json")


@pytest.mark.slow
@pytest.mark.parametrize("endpoint", sorted(WRITES))
def test_hostile_values_in_an_api_write_are_4xx_or_readable(
    alice: User, alice_client: Client, endpoint: str
) -> None:
    client = api_client(alice)
    for field in WRITES[endpoint]:
        for value in API_HOSTILE:
            body = {**WRITES[endpoint], field: value}
            if endpoint != "appointment-list":
                body["name"] = f"{body.get('name')}-{CASES['api']}" if field != "name" else value
            response = post_json(client, api(endpoint), body)
            CASES["api"] += 1
            assert response.status_code < 500, (field, str(value)[:40], response.status_code)
            if response.status_code < 300:
                readers_answer(alice_client, alice)


def test_api_job_configuration_writes_with_hostile_values_are_4xx(alice: User) -> None:
    configuration = ArchiveConfigurationFactory(user=alice)
    client = api_client(alice)
    base = {
        "archive_configuration": configuration.pk,
        "schedule_type": "daily",
        "archive_window_days": 1,
    }
    for field in (*base, "schedule_hour", "schedule_minute", "schedule_day_of_week"):
        for value in API_HOSTILE:
            response = post_json(client, api("job-configuration-list"), {**base, field: value})
            CASES["api"] += 1
            assert response.status_code < 500, (field, str(value)[:40])


def test_the_sweep_covers_every_form_and_write() -> None:
    # Runs last in this file (pytest keeps file order); with -n it sees only its worker's share.
    print(f"hostile-input sweep: {CASES['admin']} admin posts, {CASES['api']} API writes")


# -- in the admin's forms ------------------------------------------------------------------------


DEEPLY_NESTED = "[" * 5000 + "]" * 5000


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
    [
        "NaN",
        "[Infinity]",
        "[-Infinity]",
        '["a\\u0000"]',
        DEEPLY_NESTED,
        "[" + "9" * 5000 + "]",
        "[1e999]",
    ],
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


@pytest.mark.parametrize("value", ["NaN", DEEPLY_NESTED, '{"a": "\\u0000"}'])
def test_hostile_json_for_action_log_details_has_no_way_in(
    admin_client: Client, alice: User, value: str
) -> None:
    """Items are never added by hand, and their details are never edited as JSON."""
    with unchanged():
        response = admin_client.post(
            reverse("admin:auditing_actionlog_add"),
            {"user": alice.pk, "event_type": "x", "state": "open", "details": value},
        )

    assert response.status_code == 403


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


# -- in an API body ------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def unthrottled(settings: Settings) -> None:
    without_throttling(settings)


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
