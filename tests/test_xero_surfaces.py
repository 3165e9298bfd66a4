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
    answer = alice_client.post(reverse("api:timesheet-xero", args=[timesheet.pk]))
    assert answer.status_code == 409
    assert "not connected" in answer.text


def test_the_api_answers_502_when_xero_refuses_and_bob_cannot_push_alices(
    fake_xero: FakeXero,
    org: Organisation,
    xero_alice: User,
    alice_client: Client,
    bob_client: Client,
) -> None:
    timesheet = priced_timesheet(xero_alice, xero_tax_type="NOPE")
    url = reverse("api:timesheet-xero", args=[timesheet.pk])
    assert bob_client.post(url).status_code == 404
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
