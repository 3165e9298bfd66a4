"""Personas shared by every test: alice owns data, bob is another staff user, admin sees all.

Only fixtures live here; the helpers tests import are plain modules (tests/web_helpers.py,
tests/microsoft_helpers.py, tests/api_helpers.py, tests/archive_helpers.py,
tests/cluster_helpers.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from accounts.microsoft import graph_client
from accounts.models import User
from calendars.models import Appointment, Category, Location
from foundations.graph import GraphClient, RetryPolicy
from tests.api_helpers import api_client
from tests.cluster_helpers import (
    GUARD_CYCLE,
    databases_from,
    migrated_template,
    process_environment,
)
from tests.factories import AppointmentFactory, UserFactory
from tests.fakes.microsoft import FakeMicrosoft
from tests.microsoft_helpers import RecordedSleep, connect_microsoft
from tests.web_helpers import logged_in

pytest_plugins = ["tests.fakes.fixtures"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A browser or cluster test is slow too: the quick run (-m "not slow") leaves it out.

    Every test has a node id of its own. schemathesis names each operation's test
    (`test_x[GET /api/v1/me/]`) but, under pytest 9, all 66 get the function's node id, and a
    scheduler that goes by node id (pytest-xdist's `--dist loadgroup`) ran one of them and
    reported the run green. The operation goes into the id here, and a run whose ids still
    repeat stops before it starts instead of leaving tests out unseen."""
    for item in items:
        if item.get_closest_marker("browser") or item.get_closest_marker("cluster"):
            item.add_marker(pytest.mark.slow)
        if isinstance(item, pytest.Function) and item.parent is not None:
            parameters = item.name.partition("[")[2].removesuffix("]")
            if parameters and "[" not in item.nodeid:
                item._id = item.parent.id.child(item.originalname).with_params(parameters)
    repeated = [nodeid for nodeid, count in Counter(i.nodeid for i in items).items() if count > 1]
    if repeated:
        raise pytest.UsageError(
            "These tests share a node id, so a scheduler that goes by node id would run one of "
            "each: " + ", ".join(sorted(repeated))
        )


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


@pytest.fixture(scope="session")
def cluster_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A pair of databases migrated once per test process, which each cluster test copies."""
    with migrated_template(tmp_path_factory.mktemp("cluster-template")) as template:
        yield template


@pytest.fixture
def cluster_databases(cluster_template: dict[str, str], tmp_path: Path) -> Iterator[dict[str, str]]:
    """DATABASE_URL and WEB_DATABASE_URL of fresh, migrated databases on the backend under test,
    for processes other than this one."""
    with databases_from(cluster_template, tmp_path) as urls:
        yield urls


@pytest.fixture
def cluster_env(
    cluster_databases: dict[str, str], fake_microsoft: FakeMicrosoft, tmp_path: Path
) -> dict[str, str]:
    """The environment of every subprocess: its databases, the fake Microsoft, our keys.

    Nothing of the test run's own database, Microsoft or queue settings leaks in, so the broker
    is the default one: the ORM on the `web` database.
    """
    return {
        **process_environment(),
        **cluster_databases,
        "DJANGO_SETTINGS_MODULE": "adminassistant.settings",
        "DJANGO_ENV": "development",
        "SECRET_KEY": django_settings.SECRET_KEY,
        "FIELD_ENCRYPTION_KEYS": ",".join(django_settings.FIELD_ENCRYPTION_KEYS),
        "VAR_DIR": str(tmp_path / "var"),
        "MS_CLIENT_ID": fake_microsoft.client_id,
        "MS_CLIENT_SECRET": fake_microsoft.client_secret,
        "MS_TENANT_ID": fake_microsoft.tenant,
        "MS_AUTHORITY_HOST": fake_microsoft.authority_host,
        "MS_GRAPH_URL": fake_microsoft.graph_url,
        "MS_CA_BUNDLE": fake_microsoft.ca_bundle,
        "Q_WORKERS": "1",
        "Q_GUARD_CYCLE": GUARD_CYCLE,
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }
