"""Connections in one place: Microsoft 365 and Xero side by side on the dashboard and the user
page, each with its state and its action."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from accounts.connections import user_connections
from accounts.models import User
from auditing.models import ActionLog
from tests.fakes.microsoft import FakeMicrosoft
from tests.fakes.xero import FakeXero
from tests.xero_helpers import connect, org  # noqa: F401  (a fixture)

pytestmark = pytest.mark.django_db(databases=["default", "web"])


def states(client: Client, user: User) -> dict[str, tuple[str, str, str]]:
    context = client.get(reverse("admin:index")).context
    (mine,) = [row for row in context["connections"] if row["user"] == user]
    return {c.service: (c.state, c.detail, c.action_url) for c in mine["connections"]}


def test_unconfigured_services_say_what_to_set(alice: User, alice_client: Client) -> None:
    shown = states(alice_client, alice)
    assert shown["Microsoft 365"][:2] == (
        "not configured",
        "set MS_CLIENT_ID and MS_CLIENT_SECRET",
    )
    assert shown["Xero"][0] == "not configured" and "XERO_CLIENT_ID" in shown["Xero"][1]


def test_microsoft_says_which_account_it_is_connected_as(
    connected_alice: User, fake_alice: FakeMicrosoft
) -> None:
    client = Client()
    client.force_login(connected_alice)
    assert states(client, connected_alice)["Microsoft 365"][:2] == (
        "connected",
        "as alice@example.com",
    )


def test_xero_offers_connect_then_names_the_organisation(
    alice: User,
    alice_client: Client,
    fake_xero: FakeXero,
    org: object,  # noqa: F811
) -> None:
    assert states(alice_client, alice)["Xero"] == (
        "not connected",
        "",
        reverse("admin:timesheets_xeroconnection_connect"),
    )
    connect(fake_xero, alice)
    state, detail, url = states(alice_client, alice)["Xero"]
    assert (state, detail) == ("connected", "to Archer Consulting Ltd")
    assert url.startswith("/admin/timesheets/xeroconnection/")


def test_an_expired_sign_in_asks_to_reconnect_with_the_action(
    alice: User, alice_client: Client, settings: Settings
) -> None:
    settings.MS_CLIENT_ID, settings.MS_CLIENT_SECRET = "client", "secret"
    settings.XERO_CLIENT_ID, settings.XERO_CLIENT_SECRET = "client", "secret"
    for kind in (ActionLog.EventType.RECONNECT_MICROSOFT, ActionLog.EventType.RECONNECT_XERO):
        ActionLog.objects.open_item(user=alice, event_type=kind, key="x", description="expired")
    shown = states(alice_client, alice)
    assert shown["Microsoft 365"][0] == shown["Xero"][0] == "needs reconnecting"
    assert shown["Microsoft 365"][2] == reverse(
        "admin:accounts_user_microsoft_connect", args=[alice.pk]
    )


def test_the_user_page_shows_both_connections(
    alice: User, alice_client: Client, settings: Settings
) -> None:
    settings.MS_CLIENT_ID, settings.MS_CLIENT_SECRET = "client", "secret"
    body = alice_client.get(reverse("admin:accounts_user_change", args=[alice.pk])).text
    assert 'data-service="Microsoft 365"' in body and 'data-service="Xero"' in body
    assert reverse("admin:accounts_user_microsoft_connect", args=[alice.pk]) in body


def test_only_the_user_may_connect_their_own_xero(
    alice: User, admin_user: User, settings: Settings
) -> None:
    settings.XERO_CLIENT_ID, settings.XERO_CLIENT_SECRET = "client", "secret"
    seen_by_admin = user_connections(users=[alice], viewer=admin_user)[alice.pk]
    xero = next(c for c in seen_by_admin if c.service == "Xero")
    assert xero.state == "not connected" and xero.action_url == ""
