"""A table of hostile values, posted to every field of every admin add form of our apps and to
every field of the API's writes: each answer is a form error or a 4xx and writes nothing, and after
any accepted write the API list, timesheet generation and the three exports still answer.

The table is fixed (no randomness), so the sweep runs the same cases every time: see
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

from accounts.models import User
from calendars.models import Appointment
from tests.api_helpers import api, api_client, without_throttling
from tests.factories import AppointmentFactory, ArchiveConfigurationFactory
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
