"""'Sign in with Microsoft' (django-allauth) logs existing users in and connects them."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.socialaccount.models import SocialToken
from django.test import Client

from accounts.models import User
from tests.fakes.microsoft import FakeMicrosoft

pytestmark = pytest.mark.django_db(databases=["default", "web"])


@pytest.fixture
def sign_in_allowed(fake_microsoft: FakeMicrosoft, settings: object) -> FakeMicrosoft:
    settings.MS_SIGNIN_DOMAINS = ["example.com"]
    return fake_microsoft


def sign_in_with_microsoft(client: Client, fake: FakeMicrosoft, email: str) -> object:
    started = client.post("/accounts/microsoft/login/?process=login&next=/admin/")
    assert started.status_code == 302
    fake.next_sign_in = email
    callback = urlsplit(fake.authorize_url_response(started["Location"]))
    query = {key: values[0] for key, values in parse_qs(callback.query).items()}
    return client.get(callback.path, query)


def test_the_admin_login_page_offers_microsoft_when_configured(
    client: Client, fake_microsoft: FakeMicrosoft
) -> None:
    response = client.get("/admin/login/")

    assert "Sign in with Microsoft" in response.text


def test_the_admin_login_page_hides_microsoft_when_not_configured(
    client: Client, settings: object
) -> None:
    settings.MS_CLIENT_ID = ""

    assert "Sign in with Microsoft" not in client.get("/admin/login/").text


def test_an_existing_user_signs_in_and_is_connected_without_tokens_in_allauth(
    client: Client, alice: User, sign_in_allowed: FakeMicrosoft
) -> None:
    sign_in_allowed.add_user(alice.email, name=alice.name)

    response = sign_in_with_microsoft(client, sign_in_allowed, alice.email)

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    alice.refresh_from_db()
    assert alice.is_microsoft_connected
    assert not SocialToken.objects.exists()


def test_an_unknown_microsoft_account_cannot_sign_up(
    client: Client, sign_in_allowed: FakeMicrosoft
) -> None:
    sign_in_allowed.add_user("stranger@example.com")

    response = sign_in_with_microsoft(client, sign_in_allowed, "stranger@example.com")

    assert not User.objects.filter(email="stranger@example.com").exists()
    assert client.get("/admin/").status_code == 302  # still asked to log in
    assert response.status_code == 200


def test_an_untrusted_domain_does_not_log_into_a_matching_user(
    client: Client, alice: User, fake_microsoft: FakeMicrosoft
) -> None:
    fake_microsoft.add_user(alice.email)

    sign_in_with_microsoft(client, fake_microsoft, alice.email)

    assert client.get("/admin/").status_code == 302
    alice.refresh_from_db()
    assert not alice.is_microsoft_connected


def test_connecting_records_the_immutable_microsoft_identity(
    connected_alice: User, fake_alice: FakeMicrosoft
) -> None:
    account = fake_alice.find_user(connected_alice.email)

    assert (connected_alice.ms_tenant_id, connected_alice.ms_object_id) == (
        account.tenant_id,
        account.oid,
    )


def test_a_token_from_another_tenant_with_alices_email_does_not_log_in(
    client: Client, connected_alice: User, sign_in_allowed: FakeMicrosoft
) -> None:
    # Another tenant's account (a guest, or one without a mailbox) carrying alice's address.
    impostor = sign_in_allowed.find_user(connected_alice.email)
    impostor.tenant_id = "72f988bf-86f1-41af-91ab-2d7cd011db47"
    impostor.oid = "00000000-0000-4000-8000-000000000bad"

    response = sign_in_with_microsoft(client, sign_in_allowed, connected_alice.email)

    assert response.status_code == 403
    assert "not the one connected" in response.content.decode()
    assert client.get("/admin/").status_code == 302
    connected_alice.refresh_from_db()
    assert connected_alice.ms_object_id != impostor.oid


def test_the_connected_account_still_signs_in(
    client: Client, connected_alice: User, sign_in_allowed: FakeMicrosoft
) -> None:
    response = sign_in_with_microsoft(client, sign_in_allowed, connected_alice.email)

    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
