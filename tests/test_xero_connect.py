"""Connecting Xero: PKCE sign-in, encrypted rotating tokens, organisations, disconnect."""

from __future__ import annotations

import json
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.core.management import CommandError, call_command
from django.db import connection as db
from django.test import Client
from django.urls import reverse

from accounts.models import User
from auditing.models import ActionLog
from tests.fakes.xero import FakeXero, Organisation
from tests.unchanged import unchanged
from tests.xero_helpers import connect, fake_clock_sleep, media_in_tmp, org, xero_alice
from timesheets import xero, xero_client
from timesheets.models import XeroConnection

__all__ = ["fake_clock_sleep", "media_in_tmp", "org", "xero_alice"]

pytestmark = pytest.mark.django_db(databases=["default", "web"])


def test_connecting_asks_for_the_granular_scopes_with_pkce_and_picks_the_only_organisation(
    fake_xero: FakeXero, org: Organisation, alice: User
) -> None:
    url = xero.xero_connect_start(user=alice)
    assert "code_challenge_method=S256" in url
    assert "accounting.invoices" in url and "offline_access" in url
    connection = xero.xero_connect_finish(user=alice, redirect_url=fake_xero.consent(url))
    assert (connection.tenant_id, connection.tenant_name) == (org.tenant_id, org.name)


def test_tokens_are_stored_encrypted(xero_alice: User) -> None:
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT token_set FROM timesheet_xero_connections WHERE user_id = %s", [xero_alice.pk]
        )
        [stored] = cursor.fetchone()
    assert "refresh_token" not in stored
    assert json.loads(XeroConnection.objects.get(user=xero_alice).token_set)["refresh_token"]


def test_a_redirect_with_another_state_is_refused(
    fake_xero: FakeXero, org: Organisation, alice: User
) -> None:
    url = xero.xero_connect_start(user=alice)
    back = fake_xero.consent(url).replace("state=", "state=x")
    with pytest.raises(xero_client.XeroError, match="state"):
        xero.xero_connect_finish(user=alice, redirect_url=back)
    assert not XeroConnection.objects.get(user=alice).is_connected


def test_with_several_organisations_the_user_chooses_one(
    fake_xero: FakeXero, org: Organisation, alice: User
) -> None:
    other = fake_xero.add_organisation("Archer Holdings")
    connection = connect(fake_xero, alice)
    assert connection.tenant_id == ""
    assert len(connection.tenants) == 2
    chosen = xero.xero_tenant_choose(user=alice, tenant_id=other.tenant_id)
    assert chosen.tenant_name == "Archer Holdings"
    with pytest.raises(xero_client.XeroError):
        xero.xero_tenant_choose(user=alice, tenant_id="not-one-of-them")


def test_a_refresh_rotates_the_refresh_token_and_saves_the_new_one(
    fake_xero: FakeXero, xero_alice: User
) -> None:
    before = json.loads(XeroConnection.objects.get(user=xero_alice).token_set)
    fake_xero.expire_access_tokens()
    client = xero_client.XeroClient(XeroConnection.objects.get(user=xero_alice))
    assert client.connections()
    after = json.loads(XeroConnection.objects.get(user=xero_alice).token_set)
    assert after["refresh_token"] != before["refresh_token"]


def test_a_second_worker_with_a_stale_copy_uses_the_rotated_token_instead_of_the_spent_one(
    fake_xero: FakeXero, xero_alice: User
) -> None:
    first = xero_client.XeroClient(XeroConnection.objects.get(user=xero_alice))
    second = xero_client.XeroClient(XeroConnection.objects.get(user=xero_alice))
    fake_xero.expire_access_tokens()
    first.connections()
    # The second worker loaded the connection before the first refreshed: its refresh token is
    # spent at Xero, yet it goes on with the token the first one saved.
    assert second.connections()
    assert len(fake_xero.requests_to("/connect/token")) == 2  # the code, and one refresh


def test_an_expired_refresh_token_opens_a_reconnect_item_that_connecting_closes(
    fake_xero: FakeXero, xero_alice: User
) -> None:
    fake_xero.expire_access_tokens()
    fake_xero.expire_refresh_tokens()
    with pytest.raises(xero_client.XeroReconnectNeeded):
        xero_client.XeroClient(XeroConnection.objects.get(user=xero_alice)).connections()
    xero.reconnect_item(xero_alice, "expired")
    assert ActionLog.objects.filter(event_type="reconnect_xero").open().count() == 1
    connect(fake_xero, xero_alice)
    assert ActionLog.objects.filter(event_type="reconnect_xero").open().count() == 0


def test_disconnecting_revokes_the_token_at_xero_and_forgets_it(
    fake_xero: FakeXero, xero_alice: User
) -> None:
    assert xero.xero_disconnect(user=xero_alice)
    assert fake_xero.requests_to("/connect/revocation", "POST")
    assert all(grant.revoked for grant in fake_xero.grants)
    assert not XeroConnection.objects.get(user=xero_alice).is_connected


def test_the_connect_command_prints_the_url_and_takes_the_redirect_from_stdin(
    fake_xero: FakeXero, org: Organisation, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = StringIO()
    captured: dict[str, str] = {}

    def readline() -> str:
        url = next(line for line in out.getvalue().splitlines() if line.startswith("https://"))
        captured["url"] = url
        return fake_xero.consent(url) + "\n"

    monkeypatch.setattr("sys.stdin", type("In", (), {"readline": staticmethod(readline)})())
    call_command("connect_xero", alice.email, stdout=out)
    assert "Connected to Xero: Archer Consulting Ltd" in out.getvalue()
    assert XeroConnection.objects.get(user=alice).is_connected


def test_the_connect_command_refuses_an_unknown_user(fake_xero: FakeXero) -> None:
    with unchanged(xero=fake_xero), pytest.raises(CommandError, match="No user"):
        call_command("connect_xero", "nobody@example.com", redirect_url="https://x/?code=1")


def test_check_warns_when_xero_is_not_configured(settings: object) -> None:
    from timesheets.checks import xero_settings_check

    settings.XERO_CLIENT_ID = ""
    [warning] = xero_settings_check()
    assert warning.id == "timesheets.W001"


# -- in the admin --------------------------------------------------------------------------------


def test_the_admin_connects_through_xeros_sign_in_page(
    fake_xero: FakeXero, org: Organisation, alice: User, alice_client: Client
) -> None:
    start = alice_client.get(reverse("admin:timesheets_xeroconnection_connect"))
    assert start.status_code == 302
    back = urlsplit(fake_xero.consent(start["Location"]))
    callback = reverse("admin:timesheets_xeroconnection_callback")
    answer = alice_client.get(f"{callback}?{back.query}")
    assert answer.status_code == 302
    assert XeroConnection.objects.get(user=alice).tenant_name == org.name


def test_the_connection_page_never_shows_the_tokens(
    fake_xero: FakeXero, org: Organisation, xero_alice: User, alice_client: Client
) -> None:
    import json

    connection = XeroConnection.objects.get(user=xero_alice)
    tokens = json.loads(connection.token_set)
    page = alice_client.get(reverse("admin:timesheets_xeroconnection_change", args=[connection.pk]))
    assert page.status_code == 200
    assert org.name in page.text
    assert tokens["refresh_token"] not in page.text
    assert tokens["access_token"] not in page.text


def test_choosing_the_organisation_in_the_admin_saves_its_name(
    fake_xero: FakeXero, org: Organisation, alice: User, alice_client: Client
) -> None:
    from tests.xero_helpers import connect

    other = fake_xero.add_organisation("Archer Holdings")
    connection = connect(fake_xero, alice)
    url = reverse("admin:timesheets_xeroconnection_change", args=[connection.pk])
    answer = alice_client.post(url, {"user": alice.pk, "tenant_id": other.tenant_id})
    assert answer.status_code == 302, answer.text[:2000]
    assert XeroConnection.objects.get(pk=connection.pk).tenant_name == "Archer Holdings"


def test_the_connections_page_offers_connect_xero(
    fake_xero: FakeXero, alice_client: Client
) -> None:
    page = alice_client.get(reverse("admin:timesheets_xeroconnection_changelist"))
    assert reverse("admin:timesheets_xeroconnection_connect") in page.text
