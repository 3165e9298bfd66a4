"""Personal API tokens: made in the admin, shown once, stored hashed, used, revoked, expired."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from accounts.models import ApiToken, User
from auditing.models import AuditLog
from tests.api_helpers import api, token_key, without_throttling

pytestmark = pytest.mark.django_db(databases=["default", "web"])

KEY_IN_MESSAGE = re.compile(r"The key of “[^”]+” is (\S+) ")


@pytest.fixture(autouse=True)
def unthrottled(settings: Settings) -> None:
    without_throttling(settings)


def bearer(key: str, scheme: str = "Bearer") -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {key}")
    return client


def create_in_admin(client: Client, name: str = "billing script") -> tuple[str, str]:
    """Add a token in the admin; returns the key shown and the page after saving."""
    response = client.post(
        reverse("admin:accounts_apitoken_add"), {"name": name, "expires_at_0": "", "_save": "1"}
    )
    assert response.status_code == 302, response.content.decode()
    page = client.get(response["Location"]).content.decode()
    match = KEY_IN_MESSAGE.search(page)
    assert match, page
    return match[1], page


def test_creating_a_token_in_the_admin_shows_its_key_once(alice_client: Client) -> None:
    key, _ = create_in_admin(alice_client)

    token = ApiToken.objects.get()
    again = alice_client.get(reverse("admin:accounts_apitoken_change", args=[token.pk]))
    listing = alice_client.get(reverse("admin:accounts_apitoken_changelist"))

    assert token.key_prefix == key[:8]
    assert key not in again.content.decode()
    assert key not in listing.content.decode()
    assert token.key_prefix in listing.content.decode()


def test_a_token_created_in_the_admin_authenticates_as_its_owner(
    alice: User, alice_client: Client
) -> None:
    key, _ = create_in_admin(alice_client)

    response = bearer(key).get(api("me"))

    assert response.status_code == 200
    assert response.json()["email"] == alice.email


def test_only_the_hash_of_the_key_is_stored(alice: User, alice_client: Client) -> None:
    import hashlib

    key, _ = create_in_admin(alice_client)

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM api_tokens")
        row = cursor.fetchone()
    stored = " ".join(str(value) for value in row)
    assert key not in stored
    assert hashlib.sha256(key.encode()).hexdigest() in stored
    audit = " ".join(str(r.__dict__) for r in AuditLog.objects.all())
    assert key not in audit


def test_the_token_scheme_is_accepted_too(alice: User) -> None:
    response = bearer(token_key(alice), scheme="Token").get(api("me"))

    assert response.status_code == 200


def test_a_revoked_token_is_refused_with_401(alice: User, alice_client: Client) -> None:
    key = token_key(alice)
    token = ApiToken.objects.get()

    alice_client.post(
        reverse("admin:accounts_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    response = bearer(key).get(api("me"))

    token.refresh_from_db()
    assert token.revoked_at is not None
    assert response.status_code == 401
    assert "was revoked" in response.json()["detail"]
    assert AuditLog.objects.filter(action_type="api_token", operation="revoke").exists()


def test_an_expired_token_is_refused_with_401(alice: User) -> None:
    key = token_key(alice, expires_at=timezone.now() - timedelta(minutes=1))

    response = bearer(key).get(api("me"))

    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_a_token_with_a_future_expiry_works(alice: User) -> None:
    key = token_key(alice, expires_at=timezone.now() + timedelta(days=1))

    assert bearer(key).get(api("me")).status_code == 200


def test_an_unknown_key_is_refused_with_401_and_a_bearer_challenge(alice: User) -> None:
    response = bearer("not-a-real-key").get(api("appointment-list"))

    assert response.status_code == 401
    assert response.json() == {"detail": "Unknown API token."}
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_no_credentials_is_a_401(db: None) -> None:
    response = APIClient().get(api("appointment-list"))

    assert response.status_code == 401


def test_a_token_of_an_inactive_user_is_refused(alice: User) -> None:
    key = token_key(alice)
    User.objects.filter(pk=alice.pk).update(is_active=False)

    assert bearer(key).get(api("me")).status_code == 401


def test_use_is_recorded_at_most_once_a_minute(alice: User) -> None:
    key = token_key(alice)
    client = bearer(key)

    client.get(api("me"))
    first = ApiToken.objects.get().last_used_at
    client.get(api("me"))
    second = ApiToken.objects.get().last_used_at
    ApiToken.objects.update(last_used_at=first - timedelta(minutes=2))
    client.get(api("me"))
    third = ApiToken.objects.get().last_used_at

    assert first is not None
    assert second == first
    assert third > first


def test_bob_does_not_see_alices_tokens_in_the_admin(alice: User, bob_client: Client) -> None:
    token_key(alice)
    token = ApiToken.objects.get()

    listing = bob_client.get(reverse("admin:accounts_apitoken_changelist"))
    page = bob_client.get(reverse("admin:accounts_apitoken_change", args=[token.pk]))

    assert token.key_prefix not in listing.content.decode()
    assert page.status_code == 404


def test_a_session_works_for_the_browsable_api(alice_client: Client) -> None:
    response = alice_client.get(api("appointment-list"), HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert "Appointment" in response.content.decode()


# -- the new key is shown once, from the server side ---------------------------------------------


def test_a_new_api_key_is_shown_once_and_never_set_in_a_cookie(alice_client: Client) -> None:
    created = alice_client.post(reverse("admin:accounts_apitoken_add"), {"name": "script"})
    token = ApiToken.objects.get()

    shown = alice_client.get(created["Location"])
    again = alice_client.get(created["Location"])

    key = next(str(m) for m in shown.context["messages"] if "copy it now" in str(m))
    key = key.split(" is ", 1)[1].split(" ", 1)[0]
    assert ApiToken.hash_key(key) == token.key_hash
    for response in (created, shown):
        assert all(key not in morsel.value for morsel in response.cookies.values())
        assert "messages" not in response.cookies
    assert key not in again.content.decode()
