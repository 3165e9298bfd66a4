"""Connecting Microsoft 365: the admin's auth-code flow, the device-code command, sign-in."""

from __future__ import annotations

import io
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from accounts.microsoft import UserTokenCache, microsoft_access_token
from accounts.models import User
from auditing.models import AuditLog
from tests.fakes.microsoft import FakeMicrosoft
from tests.unchanged import unchanged

pytestmark = pytest.mark.django_db(databases=["default", "web"], transaction=False)


def start_connect(client: Client, user: User) -> str:
    response = client.get(reverse("admin:accounts_user_microsoft_connect", args=[user.pk]))
    assert response.status_code == 302
    return response["Location"]


def finish_at_callback(client: Client, location: str, **changes: str) -> object:
    parts = urlsplit(location)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    query.update(changes)
    return client.get(parts.path, query, follow=True)


def test_connect_from_the_user_page_stores_an_encrypted_token_cache(
    alice_client: Client, alice: User, fake_alice: FakeMicrosoft
) -> None:
    authorize = start_connect(alice_client, alice)
    assert authorize.startswith(fake_alice.authority)
    assert "code_challenge=" in authorize and "code_challenge_method=S256" in authorize

    response = finish_at_callback(alice_client, fake_alice.authorize_url_response(authorize))

    alice.refresh_from_db()
    assert "Microsoft 365 connected for alice@example.com as alice@example.com" in response.text
    assert alice.is_microsoft_connected
    assert alice.ms_access_token and alice.ms_refresh_token and alice.ms_token_expires_at
    assert alice.profile_photo_url.endswith(
        f"/users/{fake_alice.user(alice.email).oid}/photo/$value"
    )
    assert UserTokenCache.load(alice.ms_token_cache).client_kind == "confidential"
    assert AuditLog.objects.filter(
        action_type="microsoft", operation="connect", user=alice
    ).exists()


def test_a_callback_with_a_forged_state_connects_nothing(
    alice_client: Client, alice: User, fake_alice: FakeMicrosoft
) -> None:
    location = fake_alice.authorize_url_response(start_connect(alice_client, alice))

    response = finish_at_callback(alice_client, location, state="forged-state")

    alice.refresh_from_db()
    assert "did not match this sign-in" in response.text
    assert not alice.is_microsoft_connected


def test_a_callback_without_a_flow_in_progress_says_so(alice_client: Client) -> None:
    response = alice_client.get(reverse("microsoft-callback"), {"code": "x"}, follow=True)

    assert "No Microsoft 365 connection was in progress" in response.text


def test_a_refused_consent_is_reported_and_connects_nothing(
    alice_client: Client, alice: User, fake_alice: FakeMicrosoft
) -> None:
    start_connect(alice_client, alice)
    state = alice_client.session["microsoft_auth_flow"]["flow"]["state"]

    response = alice_client.get(
        reverse("microsoft-callback"),
        {"error": "access_denied", "error_description": "The user declined.", "state": state},
        follow=True,
    )

    alice.refresh_from_db()
    assert "Microsoft 365 was not connected: The user declined." in response.text
    assert not alice.is_microsoft_connected


def test_a_staff_member_cannot_connect_another_users_account(
    alice_client: Client, bob: User
) -> None:
    response = alice_client.get(reverse("admin:accounts_user_microsoft_connect", args=[bob.pk]))

    assert response.status_code == 404


def test_connecting_without_configuration_says_what_to_set(
    alice_client: Client, alice: User, settings: object
) -> None:
    settings.MS_CLIENT_ID = ""

    response = alice_client.get(
        reverse("admin:accounts_user_microsoft_connect", args=[alice.pk]), follow=True
    )

    assert "Microsoft 365 is not configured: set MS_CLIENT_ID and MS_CLIENT_SECRET" in (
        response.text
    )


def test_disconnect_clears_every_token_column(alice_client: Client, connected_alice: User) -> None:
    response = alice_client.post(
        reverse("admin:accounts_user_microsoft_disconnect", args=[connected_alice.pk]),
        follow=True,
    )

    connected_alice.refresh_from_db()
    assert "Microsoft 365 disconnected" in response.text
    assert (
        connected_alice.ms_access_token,
        connected_alice.ms_refresh_token,
        connected_alice.ms_token_cache,
        connected_alice.ms_token_expires_at,
    ) == (None, None, None, None)


class DeviceSignIn:
    """Runs `connect_microsoft` in a thread, as an operator at a terminal would."""

    def __init__(self, email: str) -> None:
        self.out = io.StringIO()
        self.errors: list[BaseException] = []
        self.thread = threading.Thread(target=self._run, args=(email,))
        self.thread.start()
        deadline = time.monotonic() + 10
        while "enter the code" not in self.out.getvalue() and time.monotonic() < deadline:
            if not self.thread.is_alive():
                break
            time.sleep(0.02)

    def _run(self, email: str) -> None:
        try:
            call_command("connect_microsoft", email, stdout=self.out)
        except BaseException as error:
            self.errors.append(error)

    @property
    def user_code(self) -> str:
        return self.out.getvalue().split("enter the code ")[1].split()[0]

    def wait(self) -> None:
        self.thread.join(timeout=20)


@pytest.mark.django_db(databases=["default", "web"], transaction=True)
def test_device_code_command_prints_the_code_and_connects_after_approval(
    alice: User, fake_alice: FakeMicrosoft
) -> None:
    fake_alice.allow_public_client_flows = True
    fake_alice.device_code_interval = 0
    sign_in = DeviceSignIn("ALICE@example.com")
    assert f"{fake_alice.base_url}/devicelogin" in sign_in.out.getvalue()

    fake_alice.approve_device_code(sign_in.user_code, alice.email)
    sign_in.wait()

    assert not sign_in.errors
    assert "Connected Microsoft 365 for ALICE@example.com as alice@example.com" in (
        sign_in.out.getvalue()
    )
    alice.refresh_from_db()
    assert UserTokenCache.load(alice.ms_token_cache).client_kind == "public"
    # A device-code token is refreshed as a public client, as Entra ID demands.
    assert microsoft_access_token(user=alice, force_refresh=True)
    assert fake_alice.token_requests["refresh_token"] == 1


@pytest.mark.django_db(databases=["default", "web"], transaction=True)
def test_device_code_command_says_when_sign_in_was_declined(
    alice: User, fake_alice: FakeMicrosoft
) -> None:
    fake_alice.allow_public_client_flows = True
    fake_alice.device_code_interval = 0
    sign_in = DeviceSignIn(alice.email)

    fake_alice.deny_device_code(sign_in.user_code)
    sign_in.wait()

    assert isinstance(sign_in.errors[0], CommandError)
    assert "Microsoft 365 was not connected" in str(sign_in.errors[0])
    alice.refresh_from_db()
    assert not alice.is_microsoft_connected


@pytest.mark.django_db(databases=["default", "web"], transaction=True)
def test_device_code_command_says_to_allow_public_client_flows_when_entra_refuses_them(
    alice: User, fake_alice: FakeMicrosoft
) -> None:
    fake_alice.device_code_interval = 0
    sign_in = DeviceSignIn(alice.email)

    fake_alice.approve_device_code(sign_in.user_code, alice.email)
    sign_in.wait()

    [error] = sign_in.errors
    assert isinstance(error, CommandError)
    assert "'Allow public client flows' to Yes" in str(error)
    assert "\n" not in str(error)
    alice.refresh_from_db()
    assert not alice.is_microsoft_connected


def test_device_code_command_refuses_an_unknown_user(fake_microsoft: FakeMicrosoft) -> None:
    with (
        unchanged(microsoft=fake_microsoft),
        pytest.raises(CommandError, match="No user has the email address nobody@example\\.com"),
    ):
        call_command("connect_microsoft", "nobody@example.com")
