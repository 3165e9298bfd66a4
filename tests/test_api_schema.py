"""The OpenAPI schema, and schemathesis against it: generated requests to every operation find
no server error and no response the schema does not describe.

schemathesis calls the WSGI application in-process (no network), authenticated with Alice's API
token, with a bounded and derandomized number of examples per operation so the run is
repeatable and fast.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from pytest_django.fixtures import Settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import User
from adminassistant.wsgi import application
from auditing.models import ActionLog
from calendars.models import Calendar, Category, Location
from tests.api_helpers import token_key, without_throttling
from tests.factories import AppointmentFactory, ArchiveConfigurationFactory
from timesheets.models import Timesheet

pytestmark = pytest.mark.django_db(databases=["default", "web"])

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def alices_key(alice: User, settings: Settings, tmp_path: Any) -> str:
    """Alice's token, and one row of each kind so that some generated ids hit a real row."""
    without_throttling(settings)
    settings.MEDIA_ROOT = tmp_path / "media"
    configuration = ArchiveConfigurationFactory(user=alice)
    Calendar.objects.create(user=alice, name="Calendar")
    Location.objects.create(user=alice, name="Office")
    Category.objects.create(user=alice, name="Acme - billable")
    AppointmentFactory(user=alice, customer="Acme")
    Timesheet.objects.create(
        user=alice, customer="Acme", start_date=date(2025, 5, 1), end_date=date(2025, 5, 31)
    )
    ActionLog.objects.create(user=alice, event_type="uncategorised")
    assert configuration.pk
    return token_key(alice)


@pytest.fixture
def connections_kept_open() -> Iterator[None]:
    """Called as a WSGI app, Django closes database connections after each request; the
    test's transaction lives on them (Django's own test client disconnects the same way)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# Fetched from the app itself at collection time: the schema view needs no database.
schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.mark.slow
@schema.parametrize()
@hypothesis_settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_generated_requests_get_no_server_error_and_answers_the_schema_describes(
    case: Any, alices_key: str, connections_kept_open: None
) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {alices_key}"}, checks=CHECKS)


def test_the_schema_is_openapi_3_and_describes_every_resource(client: Client) -> None:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    document = response.json()
    assert document["openapi"].startswith("3.")
    paths = set(document["paths"])
    for prefix in (
        "me",
        "appointments",
        "categories",
        "locations",
        "calendars",
        "timesheets",
        "archive-configurations",
        "archive-runs",
        "job-configurations",
        "audit-log",
        "action-log",
    ):
        assert any(path.startswith(f"/api/v1/{prefix}/") for path in paths), prefix
    run = document["paths"]["/api/v1/archive-configurations/{id}/run/"]["post"]
    assert {"202", "400", "401", "404", "429"} <= set(run["responses"])
    pdf = document["paths"]["/api/v1/timesheets/{id}/pdf/"]["get"]["responses"]["200"]
    assert pdf["content"]["application/pdf"]["schema"] == {"type": "string", "format": "binary"}
    locked = document["paths"]["/api/v1/appointments/{id}/"]["patch"]["responses"]
    assert "409" in locked
    assert "apiToken" in document["components"]["securitySchemes"]


def test_the_interactive_docs_use_no_cdn(client: Client) -> None:
    page = client.get("/api/docs/").content.decode()

    assert "swagger-ui" in page
    assert "cdn" not in page.lower()
    assert "/static/drf_spectacular_sidecar/" in page
