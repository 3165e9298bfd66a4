"""A profile photo URL is an https:// address and nothing else — in the model, the admin form,
the API and the database — because browsers are handed it."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User

pytestmark = pytest.mark.django_db(databases=["default", "web"])

REFUSED = [
    "javascript:alert(document.cookie)",
    "JavaScript:alert(1)",
    "data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=",
    "http://example.com/me.png",
    "//example.com/me.png",
    "https://",
]
ACCEPTED = "https://graph.microsoft.com/v1.0/users/0000/photo/$value"


@pytest.mark.parametrize("url", REFUSED)
def test_the_model_refuses_a_photo_url_that_is_not_https(alice: User, url: str) -> None:
    alice.profile_photo_url = url

    with pytest.raises(ValidationError) as refused:
        alice.full_clean()

    assert "https://" in str(refused.value.message_dict["profile_photo_url"])


def test_the_model_accepts_an_https_photo_url(alice: User) -> None:
    alice.profile_photo_url = ACCEPTED

    alice.full_clean()


def test_the_database_refuses_a_javascript_photo_url_written_past_the_model(alice: User) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=alice.pk).update(profile_photo_url="javascript:alert(1)")


def test_the_admin_form_shows_the_error_and_keeps_the_old_url(
    admin_client: Client, alice: User
) -> None:
    User.objects.filter(pk=alice.pk).update(profile_photo_url=ACCEPTED)

    response = admin_client.post(
        f"/admin/accounts/user/{alice.pk}/change/",
        {
            "email": alice.email,
            "name": alice.name,
            "timezone": alice.timezone,
            "profile_photo_url": "javascript:alert(1)",
            "role": alice.role,
            "is_active": "on",
            "is_staff": "on",
        },
    )

    assert response.status_code == 200
    assert "Enter an https:// address" in response.text
    alice.refresh_from_db()
    assert alice.profile_photo_url == ACCEPTED


@pytest.mark.parametrize("url", REFUSED)
def test_the_api_answers_400_for_a_photo_url_that_is_not_https(
    alice_api: APIClient, alice: User, url: str
) -> None:
    response = alice_api.patch("/api/v1/me/", {"profile_photo_url": url})

    assert response.status_code == 400
    assert "https://" in str(response.json()["profile_photo_url"])
    alice.refresh_from_db()
    assert alice.profile_photo_url is None


def test_the_api_changes_the_photo_to_an_https_url(alice_api: APIClient, alice: User) -> None:
    response = alice_api.patch("/api/v1/me/", {"profile_photo_url": ACCEPTED})

    assert response.status_code == 200
    assert response.json()["profile_photo_url"] == ACCEPTED
    alice.refresh_from_db()
    assert alice.profile_photo_url == ACCEPTED
