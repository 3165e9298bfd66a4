"""The API throttles each scope at its own rate: over it, a request answers 429."""

from __future__ import annotations

import pytest
from pytest_django.fixtures import Settings

from accounts.models import User
from archiving.models import ArchiveConfiguration
from tests.api_helpers import api, api_client
from tests.factories import ArchiveConfigurationFactory
from tests.unchanged import unchanged

pytestmark = pytest.mark.django_db(databases=["default", "web"])


def test_a_scope_over_its_rate_answers_429(alice: User, settings: Settings) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api": "2/minute", "archive-run": None},
    }
    client = api_client(alice)

    statuses = [client.get(api("location-list")).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


def test_archive_runs_have_their_own_rate(alice: User, settings: Settings) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api": None, "archive-run": "1/hour"},
    }
    configuration: ArchiveConfiguration = ArchiveConfigurationFactory(user=alice)
    client = api_client(alice)
    url = api("archive-configuration-run", configuration.pk)

    first = client.post(url, {}, format="json")
    with unchanged():
        second = client.post(url, {}, format="json")
    listing = client.get(api("archive-configuration-list"))

    assert (first.status_code, second.status_code, listing.status_code) == (202, 429, 200)
    assert "Retry-After" in second
