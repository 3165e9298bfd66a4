"""A month end: 200 timesheets of 20 consultants (two firms, each one Xero organisation) stay
within Xero's limits through the shared budget, and every invoice is made once.

MONTH-END TEST, kept fast on purpose: the fake Xero's clock stands in for time (a limit wait
moves it on instead of sleeping), the timesheets are issued as rows that share one rendered PDF,
and one worker sends them (the tests' in-memory SQLite cannot take writers in several threads;
`benchmarks/xero_push.py` runs four workers on a database file, in real time, and prints the
figures).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from accounts.models import User
from calendars.models import Appointment
from tests.factories import AppointmentFactory, UserFactory
from tests.fakes.xero import FakeXero
from tests.xero_helpers import MAY, connect, fake_clock_sleep, media_in_tmp
from timesheets.models import CustomerSettings, Timesheet, XeroPush
from timesheets.xero_push import xero_push_run
from timesheets.xero_queue import xero_batch_progress, xero_push_batch

__all__ = ["fake_clock_sleep", "media_in_tmp"]

pytestmark = [pytest.mark.django_db(databases=["default", "web"]), pytest.mark.slow]

USERS, CUSTOMERS = 20, 10
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def month_end(fake: FakeXero) -> list[Timesheet]:
    firms = [fake.add_organisation(f"Firm {n} Ltd") for n in range(2)]
    pdf_path = default_storage.save("timesheets/month-end.pdf", ContentFile(PDF))
    timesheets = []
    for n in range(USERS):
        user: User = UserFactory(email=f"consultant{n}@example.com")
        fake.consenting_tenants = [firms[n % 2].tenant_id]
        connect(fake, user)
        for c in range(CUSTOMERS):
            customer = f"Customer {n}-{c}"
            CustomerSettings.objects.create(
                user=user, customer=customer, currency="GBP", hourly_rate=Decimal(100)
            )
            start = datetime(2025, 5, 2 + c, 9, tzinfo=UTC)
            AppointmentFactory(
                user=user,
                customer=customer,
                billing_type="billable",
                start_time=start,
                end_time=start.replace(hour=11),
            )
            timesheet = Timesheet.objects.create(
                user=user,
                customer=customer,
                start_date=MAY[0],
                end_date=MAY[1],
                currency="GBP",
                hourly_rate=Decimal(100),
                rounding_interval=0,
                rounding_mode="none",
                amount_total=Decimal(200),
                pdf_path=pdf_path,
            )
            Appointment.objects.filter(user=user, customer=customer).update(timesheet=timesheet)
            timesheets.append(timesheet)
    return timesheets


def test_a_month_end_of_200_timesheets_breaches_no_limit_and_invoices_each_once(
    fake_xero: FakeXero, fake_clock_sleep: list[float]
) -> None:
    timesheets = month_end(fake_xero)
    owner = timesheets[0].user
    batch, refused = xero_push_batch(timesheets=timesheets, user=owner)
    assert refused == []
    assert xero_batch_progress(batch=batch)["queued"] == USERS * CUSTOMERS
    for push in XeroPush.objects.filter(batch=batch).order_by("pk"):
        xero_push_run(push_id=push.pk)

    assert fake_xero.limit_breaches == []
    assert xero_batch_progress(batch=batch)["sent"] == USERS * CUSTOMERS
    invoices = [i for org in fake_xero.organisations.values() for i in org.invoices.values()]
    assert len(invoices) == USERS * CUSTOMERS
    markers = {i["Reference"].rsplit("[", 1)[1] for i in invoices}
    assert len(markers) == USERS * CUSTOMERS
    for org in fake_xero.organisations.values():
        assert len(org.contacts) == USERS // 2 * CUSTOMERS
        assert all(len(files) == 1 for files in org.attachments.values())
    assert Timesheet.objects.filter(uploaded_to_xero=True).count() == USERS * CUSTOMERS
    # Each firm sent about 300 calls, five minutes' worth of 60 a minute: the budget waited.
    assert sum(fake_clock_sleep) > 4 * 60
