"""Where Xero is configured and connected, the demo sends one timesheet to it as a draft."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from pytest_django.fixtures import Settings

from tests.factories import UserFactory
from tests.fakes.xero import FakeXero, Organisation
from tests.xero_helpers import connect, fake_clock_sleep, media_in_tmp, org  # noqa: F401
from timesheets.models import Timesheet

pytestmark = [pytest.mark.django_db(databases=["default", "web"]), pytest.mark.slow]


def test_the_demo_sends_last_months_acme_timesheet_to_xero_as_a_draft(
    fake_xero: FakeXero,
    org: Organisation,  # noqa: F811
    settings: Settings,
) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    admin = UserFactory(email="admin@example.com", superuser=True)
    connect(fake_xero, admin)

    call_command("demo", "--days", "40", "--password", "demo-secret-42", stdout=StringIO())

    issued = Timesheet.objects.filter(user=admin, customer="Acme", status="issued")
    sent = issued.latest("start_date")  # last month's
    assert sent.xero_invoice_id and sent.uploaded_to_xero
    [invoice] = org.invoices.values()
    assert invoice["Status"] == "DRAFT" and invoice["Type"] == "ACCREC"
