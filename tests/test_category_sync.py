"""Outlook master categories sync into Categories; graph_status reports the connection."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from accounts.models import User
from calendars.models import Category
from tests.api_helpers import api, api_client, without_throttling
from tests.fakes.microsoft import FakeMicrosoft
from tests.unchanged import FAILURE_RECORDS, unchanged

pytestmark = pytest.mark.django_db(databases=["default", "web"])


@pytest.fixture
def outlook_categories(fake_alice: FakeMicrosoft, connected_alice: User) -> FakeMicrosoft:
    fake_alice.add_category(connected_alice.email, "Acme - billable", "preset0")
    fake_alice.add_category(connected_alice.email, "Globex - non-billable", "preset3")
    fake_alice.add_category(connected_alice.email, "Online", "preset7")
    return fake_alice


def test_the_admin_button_copies_outlook_categories(
    alice_client: Client, connected_alice: User, outlook_categories: FakeMicrosoft
) -> None:
    response = alice_client.post(reverse("admin:calendars_category_sync"), follow=True)

    assert "Outlook categories synced: 3 created, 0 updated, 0 unchanged." in response.text
    rows = Category.objects.filter(user=connected_alice).order_by("name")
    assert [(c.name, c.color) for c in rows] == [
        ("Acme - billable", "preset0"),
        ("Globex - non-billable", "preset3"),
        ("Online", "preset7"),
    ]
    assert all(c.ms_category_id for c in rows)


def test_a_second_sync_updates_by_id_and_matches_names_ignoring_case(
    connected_alice: User, outlook_categories: FakeMicrosoft
) -> None:
    Category.objects.create(user=connected_alice, name="ACME - BILLABLE", color="preset9")

    call_command("sync_categories", connected_alice.email)
    call_command("sync_categories", connected_alice.email)

    assert Category.objects.filter(user=connected_alice).count() == 3
    acme = Category.objects.get(user=connected_alice, name="Acme - billable")
    assert acme.color == "preset0"


def test_sync_leaves_other_users_categories_alone(
    connected_alice: User, bob: User, outlook_categories: FakeMicrosoft
) -> None:
    Category.objects.create(user=bob, name="Acme - billable", color="preset1")

    call_command("sync_categories", connected_alice.email)

    assert Category.objects.get(user=bob).color == "preset1"


def test_sync_without_a_connection_is_a_message_not_a_crash(
    alice_client: Client, alice: User, fake_alice: FakeMicrosoft
) -> None:
    response = alice_client.post(reverse("admin:calendars_category_sync"), follow=True)

    assert "Categories were not synced: alice@example.com has not connected Microsoft 365" in (
        response.text
    )
    assert not Category.objects.exists()


def test_sync_command_fails_clearly_when_microsoft_is_not_configured(
    alice: User, settings: object
) -> None:
    settings.MS_CLIENT_ID = ""

    with (
        unchanged(allow_new=FAILURE_RECORDS),
        pytest.raises(CommandError, match="Microsoft 365 is not configured"),
    ):
        call_command("sync_categories", alice.email)


def test_graph_status_shows_the_account_expiry_and_calendars(
    connected_alice: User, fake_alice: FakeMicrosoft, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_alice.add_calendar(connected_alice.email, "Billable Archive")

    call_command("graph_status", connected_alice.email)

    out = capsys.readouterr().out
    assert "alice@example.com is connected to Microsoft 365 as Alice Archer" in out
    assert "Access token expires 20" in out
    assert "Calendar (default)" in out
    assert "Billable Archive" in out


def test_graph_status_of_a_user_who_never_connected_says_so(
    alice: User, fake_alice: FakeMicrosoft
) -> None:
    with (
        unchanged(microsoft=fake_alice),
        pytest.raises(CommandError, match="has not connected Microsoft 365"),
    ):
        call_command("graph_status", alice.email)


# -- through the API -----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def unthrottled(settings: Settings) -> None:
    without_throttling(settings)


def test_syncing_categories_copies_outlook_categories(
    connected_alice: User, fake_alice: FakeMicrosoft
) -> None:
    fake_alice.add_category(connected_alice.email, "Acme - billable", "preset0")
    fake_alice.add_category(connected_alice.email, "Online", "preset7")

    response = api_client(connected_alice).post(api("calendar-sync-categories"))

    assert response.status_code == 200
    assert response.json() == {"created": 2, "updated": 0, "unchanged": 0}
    assert Category.objects.filter(user=connected_alice).count() == 2


def test_syncing_categories_without_microsoft_365_is_409(
    alice_api: APIClient, fake_alice: FakeMicrosoft
) -> None:
    with unchanged(microsoft=fake_alice, allow_new=FAILURE_RECORDS):
        response = alice_api.post(api("calendar-sync-categories"))

    assert response.status_code == 409


def test_syncing_categories_when_graph_fails_is_502(
    connected_alice: User, fake_alice: FakeMicrosoft
) -> None:
    fake_alice.inject(status=500, path_contains="/outlook/masterCategories", times=None)

    client = api_client(connected_alice)

    with unchanged(microsoft=fake_alice, allow_new=FAILURE_RECORDS):
        response = client.post(api("calendar-sync-categories"))

    assert response.status_code == 502
