"""Every call to Microsoft has a connect and a read timeout: Graph, msal and allauth alike."""

from __future__ import annotations

import pytest
import requests
from django.test import override_settings

from accounts.adapters import SocialAccountAdapter
from accounts.microsoft import (
    MicrosoftTokenError,
    microsoft_access_token,
    microsoft_http_session,
)
from accounts.models import User
from tests.fakes.microsoft import FakeMicrosoft

pytestmark = pytest.mark.django_db(databases=["default", "web"])

STALLED = 3.0  # seconds the fake holds a stalled answer; the read timeout below is shorter
SHORT = {"MS_CONNECT_TIMEOUT": 1.0, "MS_READ_TIMEOUT": 0.3}


@override_settings(**SHORT)
def test_a_stalled_token_endpoint_fails_the_refresh_instead_of_hanging(
    connected_alice: User, fake_alice: FakeMicrosoft
) -> None:
    fake_alice.inject(delay=STALLED, path_contains="/token", identity=True, times=None)

    with pytest.raises((MicrosoftTokenError, requests.Timeout)):
        microsoft_access_token(user=connected_alice, force_refresh=True)


@override_settings(**SHORT)
def test_allauths_requests_session_times_out(fake_microsoft: FakeMicrosoft) -> None:
    session = SocialAccountAdapter().get_requests_session()
    fake_microsoft.inject(delay=STALLED, identity=True, times=None)

    with pytest.raises(requests.ReadTimeout):
        session.get(f"{fake_microsoft.authority}/v2.0/.well-known/openid-configuration")


@override_settings(**SHORT)
def test_the_session_keeps_a_timeout_the_caller_sets(fake_microsoft: FakeMicrosoft) -> None:
    session = microsoft_http_session()
    fake_microsoft.inject(delay=1.0, identity=True, times=None)

    response = session.get(
        f"{fake_microsoft.authority}/v2.0/.well-known/openid-configuration", timeout=(1, 5)
    )

    assert response.status_code == 200


def test_timeouts_come_from_settings() -> None:
    with override_settings(MS_CONNECT_TIMEOUT=4.0, MS_READ_TIMEOUT=20.0):
        assert microsoft_http_session().timeout == (4.0, 20.0)
