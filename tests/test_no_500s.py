"""No URL of the site answers 500 to a visitor: every pattern the URL resolver knows, filled
with sample values, asked anonymously, as a staff member and as a superuser, by GET and by an
empty POST (with a valid CSRF token), answers something other than 500.

The routes are read from the resolver when this module is collected, so a URL added anywhere
(our apps, the admin, allauth, DRF's router) is swept without touching this file."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.socialaccount.models import SocialApp
from django.test import Client

from accounts.models import User
from tests.fakes.microsoft import FakeMicrosoft
from tests.url_sweep import (
    TASK_ID,
    Route,
    answers,
    one_of_everything,
    reaches,
    route_path,
    url_routes,
)
from timesheets.models import BillingProfile

pytestmark = [pytest.mark.django_db(databases=["default", "web"]), pytest.mark.slow]

ROUTES = url_routes()


@pytest.fixture
def everything(alice: User, admin_user: User) -> dict[str, str]:
    return one_of_everything(alice)


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.label)
def test_no_url_answers_500_to_anyone(
    route: Route, everything: dict[str, str], alice: User, admin_user: User
) -> None:
    path = route_path(route, everything)
    assert reaches(path, route), f"{path} does not reach {route.label}"

    results = answers(route, path, [None, alice, admin_user])

    assert [result for result in results if result[1] == 500] == [], path


SIGN_IN_ROUTES = [
    route for route in ROUTES if route.label.startswith(("accounts/", "microsoft/", "admin/login"))
]


@pytest.mark.parametrize("route", SIGN_IN_ROUTES, ids=lambda route: route.label)
def test_no_sign_in_url_answers_500_with_microsoft_configured(
    route: Route,
    everything: dict[str, str],
    alice: User,
    admin_user: User,
    fake_microsoft: FakeMicrosoft,
) -> None:
    path = route_path(route, everything)
    assert reaches(path, route), f"{path} does not reach {route.label}"

    results = answers(route, path, [None, alice, admin_user])

    assert [result for result in results if result[1] == 500] == [], path


def test_the_sweep_covers_the_admin_the_api_allauth_and_our_own_urls() -> None:
    labels = {route.label for route in ROUTES}

    assert "accounts/microsoft/login/" in labels
    assert "microsoft/callback/" in labels
    assert "admin/login/" in labels
    assert any(label.startswith("api/v1/") for label in labels)
    assert len(ROUTES) > 250


@pytest.mark.parametrize(
    "path", ["/accounts/microsoft/login/", "/accounts/microsoft/login/callback/?code=x&state=y"]
)
def test_microsoft_sign_in_links_say_microsoft_is_not_configured(
    client: Client, settings: Any, path: str
) -> None:
    settings.MS_CLIENT_ID = ""

    response = client.get(path)

    assert response.status_code == 404
    assert "<title>Sign in with Microsoft is not available | Admin Assistant</title>" in (
        response.text
    )
    assert "MS_CLIENT_ID" in response.text


def test_starting_a_microsoft_sign_in_by_post_says_so_too(client: Client, settings: Any) -> None:
    settings.MS_CLIENT_ID = ""

    response = client.post("/accounts/microsoft/login/?process=login")

    assert response.status_code == 404
    assert "Sign in with Microsoft is not available" in response.text


@pytest.mark.parametrize("settings_text", ["", "null", "[1, 2]"])
def test_a_social_application_without_a_settings_object_is_a_form_error(
    admin_client: Client, settings_text: str
) -> None:
    response = admin_client.post(
        "/admin/socialaccount/socialapp/add/",
        {
            "provider": "microsoft",
            "provider_id": "",
            "name": "Microsoft",
            "client_id": "abc",
            "secret": "s3cret",
            "key": "",
            "settings": settings_text,
            "sites": ["1"],
        },
    )

    assert response.status_code == 200
    assert "Enter a JSON object" in response.text
    assert "configured by the MS_CLIENT_ID" in response.text
    assert not SocialApp.objects.exists()


def test_a_second_billing_profile_is_a_form_error_for_a_staff_member(
    alice: User, alice_client: Client
) -> None:
    BillingProfile.objects.create(user=alice, currency="GBP", hourly_rate=100)

    response = alice_client.post(
        "/admin/timesheets/billingprofile/add/", {"currency": "EUR", "hourly_rate": "90"}
    )

    assert response.status_code == 200
    assert "already exists" in response.text
    assert list(BillingProfile.objects.values_list("currency", flat=True)) == ["GBP"]


def test_an_archive_run_asked_with_a_format_suffix_answers_json(
    alice_api: Any, everything: dict[str, str]
) -> None:
    response = alice_api.get(f"/api/v1/archive-runs/{TASK_ID}.json")

    assert response.status_code == 200
    assert response.json()["task_id"] == TASK_ID
