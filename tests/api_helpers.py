"""Helpers for the REST API tests: clients that send a personal API token, URLs, throttling."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from accounts.models import ApiToken, User
from archiving.models import ArchiveConfiguration
from auditing.models import AuditLog
from calendars.models import Appointment, Location


def token_key(user: User, **fields: Any) -> str:
    """A new API token for the user; returns its key (the only time it is readable)."""
    fields.setdefault("name", "tests")
    token = ApiToken(user=user, **fields)
    key = token.set_new_key()
    token.save()
    return key


def api_client(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_key(user)}")
    return client


def api(name: str, *args: Any) -> str:
    return reverse(f"api:{name}", args=args)


def without_throttling(settings: Settings) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": dict.fromkeys(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]),
    }


def results(response: Any) -> list[dict[str, Any]]:
    return response.json()["results"]


def ids(response: Any) -> set[int]:
    return {row["id"] for row in results(response)}


# Bodies the input tests post, valid but for the field a test spoils.
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


def nothing_written() -> bool:
    """No appointment, location, archive configuration or API audit row exists."""
    return not (
        Appointment.objects.exists()
        or Location.objects.exists()
        or ArchiveConfiguration.objects.exists()
        or AuditLog.objects.filter(action_type="api").exists()
    )
