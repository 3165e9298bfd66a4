"""Sending a 1,000-row timesheet to Xero: requests sent and time, against the tests' fake Xero.

    .venv/bin/python benchmarks/xero_push.py [--rows 1000]

Issues a priced timesheet of `--rows` appointments in a scratch database, connects a user to the
fake Xero (tests/fakes/xero.py, HTTPS on 127.0.0.1) and pushes it twice: once with one invoice
line per section, once with a line per row. The figures are the client's own (PKCE connect not
counted): HTTP requests sent, invoice lines, PDF size, wall time. The network is loopback, so
real Xero adds its round trips (about 4 of them) on top.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = Path(tempfile.mkdtemp(prefix="xero-bench-"))
os.environ["DATABASE_URL"] = f"sqlite:///{SCRATCH / 'core.sqlite3'}"
os.environ["WEB_DATABASE_URL"] = f"sqlite:///{SCRATCH / 'web.sqlite3'}"
os.environ.setdefault("VAR_DIR", str(SCRATCH))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adminassistant.settings")
sys.path.insert(0, str(ROOT))

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

from accounts.models import User  # noqa: E402
from calendars.models import Appointment  # noqa: E402
from tests.fakes.xero import FakeXero  # noqa: E402
from timesheets import xero  # noqa: E402
from timesheets.models import CustomerSettings  # noqa: E402
from timesheets.services import timesheet_generate, timesheet_void  # noqa: E402


def seed(user: User, count: int) -> None:
    start = datetime(2025, 1, 1, 8, tzinfo=UTC)
    Appointment.objects.bulk_create(
        [
            Appointment(
                user=user,
                ms_event_id=f"bench-{n}",
                subject=f"Acme work item {n}",
                customer="Acme",
                billing_type="billable",
                categories=["Acme - billable"],
                is_archived=True,
                is_travel=n % 10 == 0,
                start_time=start + timedelta(minutes=10 * n),
                end_time=start + timedelta(minutes=10 * n + 9),
            )
            for n in range(count)
        ],
        batch_size=2000,
    )


def push(fake: FakeXero, user: User, *, per_row: bool, rows: int) -> None:
    CustomerSettings.objects.filter(user=user).update(xero_line_per_row=per_row)
    timesheet = timesheet_generate(
        user=user, customer="Acme", start=date(2025, 1, 1), end=date(2025, 12, 31)
    ).timesheet
    logged = len(fake.log)
    began = time.perf_counter()
    result = xero.timesheet_xero_push(timesheet=timesheet, user=user)
    seconds = time.perf_counter() - began
    [org] = fake.organisations.values()
    invoice = org.invoices[result.invoice_id]
    [attachment] = org.attachments[result.invoice_id]
    label = "a line per row" if per_row else "a line per section"
    print(
        f"  {rows:,} rows, {label}: {len(fake.log) - logged} requests "
        f"({result.requests_sent} sent by the client), {len(invoice['LineItems'])} invoice lines, "
        f"PDF {attachment['ContentLength'] / 1024:.0f} KiB, total {invoice['Total']:.2f} GBP "
        f"= timesheet {timesheet.amount_total:.2f}; {seconds:.2f} s"
    )
    # The next push bills a fresh timesheet of the same period: void this one and its draft
    # invoice, which releases the appointments (the void is not timed).
    timesheet_void(timesheet=timesheet, user=user, void_in_xero=True)


def main() -> None:
    rows = int(sys.argv[sys.argv.index("--rows") + 1]) if "--rows" in sys.argv else 1000
    settings.MEDIA_ROOT = SCRATCH / "media"
    for alias in ("default", "web"):
        call_command("migrate", database=alias, verbosity=0)
    fake = FakeXero().start()
    settings.XERO_CLIENT_ID = fake.client_id
    settings.XERO_CLIENT_SECRET = fake.client_secret
    settings.XERO_REDIRECT_URI = "https://bench.example/xero/callback/"
    settings.XERO_LOGIN_URL = settings.XERO_IDENTITY_URL = settings.XERO_API_URL = fake.base_url
    settings.XERO_CA_BUNDLE = fake.ca_bundle
    fake.add_organisation("Bench Ltd")
    user = User.objects.create_user("bench@example.com", "bench-password-123", name="Bench")
    CustomerSettings.objects.create(
        user=user,
        customer="Acme",
        display_name="Acme",
        currency="GBP",
        hourly_rate=Decimal("120.00"),
        xero_account_code="200",
    )
    seed(user, rows)
    url = xero.xero_connect_start(user=user)
    xero.xero_connect_finish(user=user, redirect_url=fake.consent(url))
    print(f"Sending a {rows:,}-row timesheet to the fake Xero (loopback HTTPS)")
    try:
        push(fake, user, per_row=False, rows=rows)
        # Each push is a new invoice for a new timesheet; the fake's minute window would
        # otherwise carry the first push's calls.
        fake.advance(61)
        push(fake, user, per_row=True, rows=rows)
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
