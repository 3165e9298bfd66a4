"""The admin home page with 100,000 appointments.

    .venv/bin/python benchmarks/dashboard.py [--appointments 100000] [--repeat 5]

Seeds a scratch database with one consultant's appointments spread over several years (five
customers with rates in GBP and EUR, one with none; one in ten travel; most of them billed on
timesheets, the last months unbilled) and open action items, then renders the home page as that
consultant and prints the number of queries and the median time per request, first with 2,000
appointments and then with all of them: the query count must be the same.

The floor is the bare ORM read the page is built on: the rows of the month's and of the unbilled
billable appointments as plain values (`timesheets.selectors.customer_hours` reads exactly
these, then prices them in Python). Goal: the page at most 1.5 x that floor.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = Path(tempfile.mkdtemp(prefix="dashboard-bench-"))
os.environ["DATABASE_URL"] = f"sqlite:///{SCRATCH / 'core.sqlite3'}"
os.environ["WEB_DATABASE_URL"] = f"sqlite:///{SCRATCH / 'web.sqlite3'}"
os.environ.setdefault("VAR_DIR", str(SCRATCH))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adminassistant.settings")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
sys.path.insert(0, str(ROOT))

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connections  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounts.models import User  # noqa: E402
from auditing.models import ActionLog  # noqa: E402
from calendars.models import Appointment  # noqa: E402
from timesheets.models import CustomerSettings, Timesheet  # noqa: E402
from timesheets.selectors import HOURS_COLUMNS  # noqa: E402

CUSTOMERS = ["Acme", "Globex", "Initech", "Umbrella", "Hooli"]
RATES = {"Acme": ("GBP", "120"), "Globex": ("EUR", "135"), "Initech": ("GBP", "95")}
SMALL = 2_000


def seed(user: User, count: int, now: datetime, *, offset: int = 0) -> None:
    # Eight a day, back from the end of this month: 100,000 reach about 34 years back, and this
    # month holds a full month's work.
    month_end = (now.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    start = month_end.replace(hour=16, minute=0, second=0, microsecond=0)
    billed_before = now - timedelta(days=90)
    timesheet = Timesheet.objects.get_or_create(
        user=user, customer="Acme", start_date=datetime(1990, 1, 1).date(), end_date=now.date()
    )[0]
    batch = []
    for n in range(offset, offset + count):
        begins = start - timedelta(days=n // 8, hours=n % 8)
        batch.append(
            Appointment(
                user=user,
                ms_event_id=f"bench-{n}",
                subject=f"Work item {n}",
                customer=CUSTOMERS[n % len(CUSTOMERS)],
                billing_type="billable" if n % 7 else "non-billable",
                is_travel=n % 10 == 0,
                categories=["Work"],
                is_archived=True,
                timesheet=timesheet if begins < billed_before else None,
                start_time=begins,
                end_time=begins + timedelta(minutes=45),
            )
        )
        if len(batch) == 5000:
            Appointment.objects.bulk_create(batch)
            batch = []
    Appointment.objects.bulk_create(batch)
    if offset == 0:
        ActionLog.objects.bulk_create(
            ActionLog(user=user, event_type=kind, key=f"{kind}-{n}", state=ActionLog.State.OPEN)
            for kind in ["overlap", "uncategorised", "source_deleted"]
            for n in range(20)
        )
        for customer, (currency, rate) in RATES.items():
            CustomerSettings.objects.create(
                user=user, customer=customer, currency=currency, hourly_rate=rate
            )


def page(client: Client, repeat: int) -> tuple[int, int, float]:
    """Queries on default and web, and the median seconds, of the home page."""
    client.get("/admin/")  # warm templates and caches
    timings = []
    for _ in range(repeat):
        with (
            CaptureQueriesContext(connections["default"]) as core,
            CaptureQueriesContext(connections["web"]) as web,
        ):
            began = time.perf_counter()
            response = client.get("/admin/")
            timings.append(time.perf_counter() - began)
        assert response.status_code == 200, response.status_code
    return len(core), len(web), statistics.median(timings)


def floor(user: User, repeat: int) -> float:
    """The median seconds of the two bare reads the page's figures are computed from."""
    from foundations.days import today_in

    first = today_in(user.timezone).replace(day=1)
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    mine = Appointment.objects.filter(user=user)
    reads = [
        mine.in_period(first, last, user.timezone).billable(),
        mine.filter(is_archived=True).unlocked().billable(),
    ]
    timings = []
    for _ in range(repeat):
        began = time.perf_counter()
        for query in reads:
            list(query.order_by().values_list("customer", *HOURS_COLUMNS).iterator(5000))
        timings.append(time.perf_counter() - began)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--appointments", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    for alias in ("default", "web"):
        call_command("migrate", database=alias, verbosity=0)
    user = User.objects.create_user(
        "consultant@example.com", "bench-password-1", is_staff=True, timezone="Europe/London"
    )
    now = datetime.now(UTC)
    client = Client()
    client.force_login(user)
    seed(user, SMALL, now)
    small_core, small_web, small_median = page(client, args.repeat)
    print(
        f"{SMALL:,} appointments: {small_core} queries on default + {small_web} on web, "
        f"median {small_median * 1000:.0f} ms"
    )
    began = time.perf_counter()
    seed(user, args.appointments - SMALL, now, offset=SMALL)
    print(f"seeded {args.appointments:,} appointments in {time.perf_counter() - began:.1f} s")
    core, web, median = page(client, args.repeat)
    bare = floor(user, args.repeat)
    month = Appointment.objects.filter(start_time__gte=now.replace(day=1, hour=0, minute=0)).count()
    unbilled = Appointment.objects.filter(timesheet__isnull=True).count()
    print(
        f"{args.appointments:,} appointments ({month:,} this month, {unbilled:,} unbilled): "
        f"{core} queries on default + {web} on web "
        f"({'the same' if (core, web) == (small_core, small_web) else 'NOT the same'} as with "
        f"{SMALL:,}); median {median * 1000:.0f} ms over {args.repeat} requests"
    )
    print(
        f"floor (the bare ORM reads of the month's and the unbilled rows): {bare * 1000:.0f} ms; "
        f"page / floor = {median / bare:.2f} (goal <= 1.5)"
    )


if __name__ == "__main__":
    main()
