"""Personas shared by every test: alice owns data, bob is another staff user, admin sees all.

Only fixtures live here; the helpers tests import are plain modules (tests/web_helpers.py,
tests/microsoft_helpers.py, tests/api_helpers.py, tests/archive_helpers.py).
"""

from __future__ import annotations

import pytest
from django.test import Client
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from accounts.microsoft import graph_client
from accounts.models import User
from calendars.models import Appointment, Category, Location
from foundations.graph import GraphClient, RetryPolicy
from tests.api_helpers import api_client
from tests.factories import AppointmentFactory, UserFactory
from tests.fakes.microsoft import FakeMicrosoft
from tests.microsoft_helpers import RecordedSleep, connect_microsoft
from tests.web_helpers import logged_in

pytest_plugins = ["tests.fakes.fixtures"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A browser or cluster test is slow too: the quick run (-m "not slow") leaves it out."""
    for item in items:
        if item.get_closest_marker("browser") or item.get_closest_marker("cluster"):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Settings) -> None:
    """Tests log in often; the production hasher's cost would dominate the suite's time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def alice(db: None) -> User:
    return UserFactory(email="alice@example.com", name="Alice Archer", timezone="Europe/London")


@pytest.fixture
def bob(db: None) -> User:
    return UserFactory(email="bob@example.com", name="Bob Baker", timezone="Europe/Berlin")


@pytest.fixture
def admin_user(db: None) -> User:
    return UserFactory(email="admin@example.com", name="Ada Admin", superuser=True)


@pytest.fixture
def alice_client(alice: User) -> Client:
    return logged_in(alice)


@pytest.fixture
def bob_client(bob: User) -> Client:
    return logged_in(bob)


@pytest.fixture
def admin_client(admin_user: User) -> Client:
    return logged_in(admin_user)


@pytest.fixture
def alice_api(alice: User) -> APIClient:
    """Alice through the REST API, with a personal API token."""
    return api_client(alice)


@pytest.fixture
def alice_appointment(alice: User) -> Appointment:
    category = Category.objects.create(user=alice, name="Acme - billable", color="preset0")
    location = Location.objects.create(user=alice, name="Acme HQ")
    return AppointmentFactory(
        user=alice,
        subject="Acme design review",
        category=category,
        location=location,
        customer="Acme",
        billing_type=Appointment.BillingType.BILLABLE,
        categories=["Acme - billable"],
    )


@pytest.fixture
def fake_alice(fake_microsoft: FakeMicrosoft, alice: User) -> FakeMicrosoft:
    """Alice has a Microsoft 365 mailbox in the fake."""
    fake_microsoft.add_user(alice.email, name=alice.name)
    return fake_microsoft


@pytest.fixture
def connected_alice(fake_alice: FakeMicrosoft, alice: User) -> User:
    return connect_microsoft(fake_alice, alice)


@pytest.fixture
def recorded_sleep() -> RecordedSleep:
    return RecordedSleep()


@pytest.fixture
def alice_graph(connected_alice: User, recorded_sleep: RecordedSleep) -> GraphClient:
    return graph_client(user=connected_alice, retry=RetryPolicy(sleep=recorded_sleep))
