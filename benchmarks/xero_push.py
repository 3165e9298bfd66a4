"""Xero pushes against the tests' fake Xero: a month end, and one large timesheet.

    .venv/bin/python benchmarks/xero_push.py                  # month end: 200 timesheets
    .venv/bin/python benchmarks/xero_push.py --users 20 --timesheets 200 --orgs 4 \
        --workers 4 --scale 10
    .venv/bin/python benchmarks/xero_push.py --rows 1000      # one 1,000-row timesheet

Month end: `--users` consultants in `--orgs` Xero organisations (consultants of one firm share
its organisation, so they share its 60 calls a minute) issue `--timesheets` timesheets between
them, and `--workers` threads (each its own database connection, as django-q2 workers would)
send them all through the real push code, with the shared limits budget on a SQLite file.

The clock is SCALED: the fake Xero and the client both run on a clock where one real second is
`--scale` seconds of Xero's time, so Xero's limits (60 a minute, 5 at once, 5,000 a day, unscaled)
bind as they would, while a month end that takes Xero minutes takes seconds here. Every figure is
printed in Xero's time with the real seconds next to it. The floor is what 60 calls a minute per
organisation allows: the busiest organisation's calls beyond its first 60, / 60 minutes.
"""

from __future__ import annotations

import argparse
import logging
import os
import queue
import sys
import tempfile
import threading
import time
from collections import Counter
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
from django.db import connections  # noqa: E402

from accounts.models import User  # noqa: E402
from calendars.models import Appointment  # noqa: E402
from tests.fakes.xero import FakeXero  # noqa: E402
from timesheets import xero, xero_client  # noqa: E402
from timesheets.models import CustomerSettings, Timesheet, XeroPush  # noqa: E402
from timesheets.services import timesheet_generate, timesheet_void  # noqa: E402
from timesheets.xero_push import timesheet_xero_push, xero_push_run  # noqa: E402
from timesheets.xero_queue import xero_batch_progress, xero_push_batch  # noqa: E402


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
    result = timesheet_xero_push(timesheet=timesheet, user=user)
    seconds = time.perf_counter() - began
    [org] = fake.organisations.values()
    invoice = org.invoices[result.invoice_id]
    [attachment] = org.attachments[result.invoice_id]
    label = "a line per row" if per_row else "a line per section"
    print(
        f"  {rows:,} rows, {label}: {len(fake.log) - logged} requests "
        f"({result.requests_sent} sent by the client), {len(invoice['LineItems'])} invoice lines, "
        f"PDF {attachment['ContentLength'] / 1024:.0f} KiB, subtotal {invoice['SubTotal']:.2f} GBP "
        f"= timesheet {timesheet.amount_total:.2f}; {seconds:.2f} s"
    )
    # The next push bills a fresh timesheet of the same period: void this one and its draft
    # invoice, which releases the appointments (the void is not timed).
    timesheet_void(timesheet=timesheet, user=user, void_in_xero=True)


def start_fake(scale: float) -> FakeXero:
    fake = FakeXero().start()
    settings.XERO_CLIENT_ID = fake.client_id
    settings.XERO_CLIENT_SECRET = fake.client_secret
    settings.XERO_REDIRECT_URI = "https://bench.example/xero/callback/"
    settings.XERO_LOGIN_URL = settings.XERO_IDENTITY_URL = settings.XERO_API_URL = fake.base_url
    settings.XERO_CA_BUNDLE = fake.ca_bundle
    fake.scale_clock(scale)
    # The client lives on the fake's clock: a limit wait of 60 Xero seconds sleeps 60 / scale.
    xero_client.clock = fake.now
    xero_client.sleep = lambda seconds: time.sleep(seconds / scale)
    return fake


def connect(fake: FakeXero, user: User) -> None:
    url = xero.xero_connect_start(user=user)
    xero.xero_connect_finish(user=user, redirect_url=fake.consent(url))


def month_end_seed(fake: FakeXero, *, users: int, timesheets: int, orgs: int) -> list[Timesheet]:
    """Consultants, their customers and issued timesheets; one real PDF is rendered and shared
    (rendering is benchmarks/timesheet_documents.py's subject, not this one's)."""
    firms = [fake.add_organisation(f"Firm {n} Ltd") for n in range(orgs)]
    issued: list[Timesheet] = []
    pdf_path = ""
    for n in range(users):
        user = User.objects.create_user(f"consultant{n}@example.com", "bench-password-123")
        fake.consenting_tenants = [firms[n % orgs].tenant_id]
        connect(fake, user)
        for c in range(timesheets // users):
            customer = f"Customer {n}-{c}"
            CustomerSettings.objects.create(
                user=user,
                customer=customer,
                legal_name=f"{customer} Ltd",
                currency="GBP",
                hourly_rate=Decimal(120),
                xero_account_code="200",
            )
            start = datetime(2025, 5, 1 + c % 28, 9, tzinfo=UTC)
            Appointment.objects.create(
                user=user,
                ms_event_id=f"month-end-{n}-{c}",
                subject="Workshop",
                customer=customer,
                billing_type="billable",
                categories=[f"{customer} - billable"],
                is_archived=True,
                start_time=start,
                end_time=start + timedelta(hours=2),
            )
            if not pdf_path:
                first = timesheet_generate(
                    user=user,
                    customer=customer,
                    start=date(2025, 5, 1),
                    end=date(2025, 5, 31),
                    formats=["pdf"],
                ).timesheet
                pdf_path = first.pdf_path or ""
                issued.append(first)
                continue
            timesheet = Timesheet.objects.create(
                user=user,
                customer=customer,
                start_date=date(2025, 5, 1),
                end_date=date(2025, 5, 31),
                currency="GBP",
                hourly_rate=Decimal(120),
                rounding_interval=0,
                rounding_mode="none",
                amount_total=Decimal(240),
                pdf_path=pdf_path,
            )
            Appointment.objects.filter(user=user, customer=customer).update(timesheet=timesheet)
            issued.append(timesheet)
    return issued


def month_end(args: argparse.Namespace) -> None:
    fake = start_fake(args.scale)
    try:
        issued = month_end_seed(fake, users=args.users, timesheets=args.timesheets, orgs=args.orgs)
        seeded = len(fake.log)
        batch, refused = xero_push_batch(timesheets=issued, user=issued[0].user)
        assert not refused, refused
        work: queue.Queue[int] = queue.Queue()
        for push_id in (
            XeroPush.objects.filter(batch=batch)
            .order_by("queued_at", "pk")
            .values_list("pk", flat=True)
        ):
            work.put(push_id)
        failures: list[str] = []

        def worker() -> None:
            try:
                while True:
                    try:
                        push_id = work.get_nowait()
                    except queue.Empty:
                        return
                    try:
                        xero_push_run(push_id=push_id)
                    except xero_client.XeroError as error:
                        failures.append(str(error))
            finally:
                connections.close_all()

        print(
            f"Month end: {len(issued)} timesheets of {args.users} consultants in {args.orgs} "
            f"Xero organisations, {args.workers} workers; clock scaled x{args.scale:g} "
            f"(1 real second = {args.scale:g} Xero seconds; Xero's limits unscaled)"
        )
        began_real, began_xero = time.perf_counter(), fake.now()
        threads = [threading.Thread(target=worker) for _ in range(args.workers)]
        for thread in threads:
            thread.start()
        last = ""
        while any(t.is_alive() for t in threads):
            progress = xero_batch_progress(batch=batch)
            line = f"  progress: {progress['sent']} sent, {progress['failed']} failed"
            if line != last and progress["sent"] % 50 < 5:
                print(line, flush=True)
                last = line
            time.sleep(0.5)
        real, xero_time = time.perf_counter() - began_real, fake.now() - began_xero
        report(fake, seeded, issued, batch, failures, real=real, xero_time=xero_time, args=args)
    finally:
        fake.stop()


def report(
    fake: FakeXero,
    seeded: int,
    issued: list[Timesheet],
    batch: str,
    failures: list[str],
    *,
    real: float,
    xero_time: float,
    args: argparse.Namespace,
) -> None:
    pushed = fake.log[seeded:]
    api = [r for r in pushed if r.path.startswith("/api.xro/")]
    identity = [r for r in pushed if r.path == "/connect/token"]
    per_org = Counter(r.headers.get("xero-tenant-id", "") for r in api)
    pushes = list(XeroPush.objects.filter(batch=batch))
    waits = sum(p.limit_waits for p in pushes)
    invoices = sum(len(org.invoices) for org in fake.organisations.values())
    # Seconds of Xero time at 60 calls a minute: the first 60 may go at once, each further 60
    # needs another minute.
    floor = max(max(per_org.values()) - 60, 0) / 60 * 60
    progress = xero_batch_progress(batch=batch)
    print(f"  sent {progress['sent']}, failed {progress['failed']} {failures[:1]}")
    print(
        f"  invoices in Xero: {invoices} for {len(issued)} timesheets; 429s from Xero: "
        f"{len(fake.limit_breaches)} {dict(Counter(fake.limit_breaches))}"
    )
    print(
        f"  requests: {len(api)} to the Accounting API = {len(api) / len(issued):.2f} per "
        f"timesheet (+{len(identity)} token refreshes); busiest organisation "
        f"{max(per_org.values())}"
    )
    print(f"  limit waits in the workers (shared budget): {waits}")
    print(
        f"  wall time: {xero_time:.0f} s of Xero time ({real:.1f} s real) against a floor of "
        f"{floor:.0f} s (the busiest organisation's calls beyond its first 60, at 60 a "
        "minute) = "
        f"{xero_time / floor:.2f} x the floor"
    )


def large_timesheet(rows: int) -> None:
    fake = start_fake(1.0)
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
    connect(fake, user)
    print(f"Sending a {rows:,}-row timesheet to the fake Xero (loopback HTTPS)")
    try:
        push(fake, user, per_row=False, rows=rows)
        # Each push is a new invoice for a new timesheet; the fake's minute window would
        # otherwise carry the first push's calls.
        fake.advance(61)
        push(fake, user, per_row=True, rows=rows)
    finally:
        fake.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, help="Send one timesheet of this many rows instead.")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--timesheets", type=int, default=200)
    parser.add_argument("--orgs", type=int, default=4)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--scale", type=float, default=10.0)
    args = parser.parse_args()
    logging.getLogger("django-q").setLevel(logging.WARNING)
    settings.MEDIA_ROOT = SCRATCH / "media"
    for alias in ("default", "web"):
        call_command("migrate", database=alias, verbosity=0)
    if args.rows:
        large_timesheet(args.rows)
    else:
        month_end(args)


if __name__ == "__main__":
    main()
