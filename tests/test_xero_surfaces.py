"""Xero from the admin, the API and the command: connect, push, push again, refusals."""

from __future__ import annotations

from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.fakes.xero import FakeXero, Organisation
from tests.unchanged import FAILURE_RECORDS, unchanged
from tests.xero_helpers import (
    MAY,
    acme,
    fake_clock_sleep,
    media_in_tmp,
    org,
    priced_timesheet,
    xero_alice,
)
from timesheets.models import Timesheet, XeroConnection

__all__ = ["fake_clock_sleep", "media_in_tmp", "org", "xero_alice"]

pytestmark = pytest.mark.django_db(databases=["default", "web"])


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


def test_the_admin_send_to_xero_action_creates_the_draft_and_again_creates_nothing(
    fake_xero: FakeXero, org: Organisation, xero_alice: User, alice_client: Client
) -> None:
    timesheet = priced_timesheet(xero_alice)
    changelist = reverse("admin:timesheets_timesheet_changelist")
    form = {"action": "send_to_xero", "_selected_action": [timesheet.pk]}
    first = alice_client.post(changelist, form, follow=True)
    assert "draft invoice INV-0001 in Xero created" in first.text
    second = alice_client.post(changelist, form, follow=True)
    assert "already existed" in second.text
    assert len(org.invoices) == 1


def test_the_api_sends_a_timesheet_to_xero(
    fake_xero: FakeXero, org: Organisation, xero_alice: User, alice_client: Client
) -> None:
    timesheet = priced_timesheet(xero_alice)
    url = reverse("api:timesheet-xero", args=[timesheet.pk])
    answer = alice_client.post(url)
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["invoice_number"], body["contact"], body["created"]) == (
        "INV-0001",
        "created",
        True,
    )
    assert body["timesheet"]["uploaded_to_xero"] is True
    assert body["timesheet"]["amount_total"] == "465.000"
    again = alice_client.post(url).json()
    assert (again["invoice_id"], again["created"]) == (body["invoice_id"], False)


def test_the_api_answers_409_when_xero_is_not_connected(
    fake_xero: FakeXero, alice: User, alice_client: Client
) -> None:
    timesheet = priced_timesheet(alice)
    with unchanged(xero=fake_xero, allow_new=["auditing.AuditLog"]):
        answer = alice_client.post(reverse("api:timesheet-xero", args=[timesheet.pk]))
    assert answer.status_code == 409
    assert "not connected" in answer.text
    from auditing.models import ActionLog

    assert not ActionLog.objects.exists()  # set-up to do, not a failure to chase


def test_the_api_answers_502_when_xero_refuses_and_bob_cannot_push_alices(
    fake_xero: FakeXero,
    org: Organisation,
    xero_alice: User,
    alice_client: Client,
    bob_client: Client,
) -> None:
    timesheet = priced_timesheet(xero_alice, xero_tax_type="NOPE")
    url = reverse("api:timesheet-xero", args=[timesheet.pk])
    with unchanged(xero=fake_xero):
        assert bob_client.post(url).status_code == 404
    # Xero keeps the contact the push made before it refused the invoice: only rows are checked.
    with unchanged(allow_new=FAILURE_RECORDS):
        answer = alice_client.post(url)
    assert answer.status_code == 502
    assert "TaxType code 'NOPE'" in answer.text


def test_the_timesheet_command_issues_and_uploads_to_xero(
    fake_xero: FakeXero, org: Organisation, xero_alice: User
) -> None:
    from decimal import Decimal

    from timesheets.models import CustomerSettings

    CustomerSettings.objects.create(
        user=xero_alice,
        customer="Acme",
        display_name="Acme",
        currency="GBP",
        hourly_rate=Decimal(100),
    )
    acme(xero_alice, 6, 60)
    out = StringIO()
    call_command(
        "timesheet",
        xero_alice.email,
        customer="Acme",
        start=str(MAY[0]),
        end=str(MAY[1]),
        upload=["xero"],
        stdout=out,
    )
    assert "Draft invoice INV-0001 in Xero (contact created)" in out.getvalue()
    assert Timesheet.objects.get().uploaded_to_xero


def test_the_timesheet_command_says_in_one_line_when_xero_is_not_connected(
    fake_xero: FakeXero, alice: User
) -> None:
    from decimal import Decimal

    from timesheets.models import CustomerSettings

    CustomerSettings.objects.create(
        user=alice, customer="Acme", currency="GBP", hourly_rate=Decimal(100)
    )
    acme(alice, 6, 60)
    with pytest.raises(CommandError, match="sending it to Xero failed: Xero is not connected"):
        call_command(
            "timesheet",
            alice.email,
            customer="Acme",
            start=str(MAY[0]),
            end=str(MAY[1]),
            upload=["xero"],
            stdout=StringIO(),
        )


def test_a_push_through_the_api_is_audited_under_the_requests_correlation_id(
    fake_xero: FakeXero, org: Organisation, xero_alice: User, alice_client: Client
) -> None:
    from auditing.models import AuditLog

    timesheet = priced_timesheet(xero_alice)
    alice_client.post(
        reverse("api:timesheet-xero", args=[timesheet.pk]), HTTP_X_REQUEST_ID="push-trace-1"
    )
    row = AuditLog.objects.get(operation="xero_push")
    assert (row.correlation_id, row.status) == ("push-trace-1", "success")


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
