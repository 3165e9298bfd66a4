"""pytest fixtures for the fake Microsoft services (loaded with `pytest_plugins`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_django.fixtures import Settings

from .microsoft import FakeMicrosoft
from .xero import FakeXero


@pytest.fixture(scope="session")
def fake_microsoft_server() -> Iterator[FakeMicrosoft]:
    """One HTTPS server for the whole session; use `fake_microsoft` in tests."""
    with FakeMicrosoft() as fake:
        yield fake


@pytest.fixture
def fake_microsoft(
    fake_microsoft_server: FakeMicrosoft, settings: Settings
) -> Iterator[FakeMicrosoft]:
    """A fresh fake (no users, no faults, empty log) with the MS_* settings pointing at it."""
    fake = fake_microsoft_server
    fake.reset()
    settings.MS_CLIENT_ID = fake.client_id
    settings.MS_CLIENT_SECRET = fake.client_secret
    settings.MS_TENANT_ID = fake.tenant
    settings.MS_AUTHORITY_HOST = fake.authority_host
    settings.MS_GRAPH_URL = fake.graph_url
    settings.MS_CA_BUNDLE = fake.ca_bundle
    yield fake
    crashes = list(fake.server_errors)
    fake.reset()
    if crashes:
        pytest.fail("the fake Microsoft server crashed while answering:\n" + crashes[0])


@pytest.fixture(scope="session")
def fake_xero_server() -> Iterator[FakeXero]:
    fake = FakeXero().start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_xero(fake_xero_server: FakeXero, settings: Settings) -> Iterator[FakeXero]:
    """A fresh fake Xero with the XERO_* settings pointing at it (identity, login and API)."""
    fake = fake_xero_server
    fake.reset()
    settings.XERO_CLIENT_ID = fake.client_id
    settings.XERO_CLIENT_SECRET = fake.client_secret
    settings.XERO_REDIRECT_URI = "https://adminassistant.example/xero/callback/"
    settings.XERO_LOGIN_URL = fake.base_url
    settings.XERO_IDENTITY_URL = fake.base_url
    settings.XERO_API_URL = fake.base_url
    settings.XERO_CA_BUNDLE = fake.ca_bundle
    fake.redirect_uris = {settings.XERO_REDIRECT_URI}
    yield fake
    crashes = list(fake.server_errors)
    fake.reset()
    if crashes:
        pytest.fail("the fake Xero server crashed while answering:\n" + crashes[0])
