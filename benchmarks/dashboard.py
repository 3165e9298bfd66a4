"""The admin home page with 100,000 appointments.

    .venv/bin/python benchmarks/dashboard.py [--appointments 100000] [--repeat 5]

Seeds a scratch database with one consultant's appointments spread over several years (five
customers, one in ten travel, most of them billed on timesheets, the last months unbilled) and
open action items, then renders the home page as that consultant and prints the number of
queries and the time per request. The query count must not grow with the appointments.
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
from timesheets.models import Timesheet  # noqa: E402

CUSTOMERS = ["Acme", "Globex", "Initech", "Umbrella", "Hooli"]


def seed(user: User, count: int, now: datetime) -> None:
    # Eight a day, back from the end of this month: 100,000 reach about 34 years back, and this
    # month holds a full month's work.
    month_end = (now.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    start = month_end.replace(hour=16, minute=0, second=0, microsecond=0)
    billed_before = now - timedelta(days=90)
    timesheet = Timesheet.objects.create(
        user=user, customer="Acme", start_date=datetime(1990, 1, 1).date(), end_date=now.date()
    )
    batch = []
    for n in range(count):
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
    ActionLog.objects.bulk_create(
        ActionLog(user=user, event_type=kind, key=f"{kind}-{n}", state=ActionLog.State.OPEN)
        for kind in ["overlap", "uncategorised", "source_deleted"]
        for n in range(20)
    )


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
    began = time.perf_counter()
    seed(user, args.appointments, datetime.now(UTC))
    print(f"seeded {args.appointments:,} appointments in {time.perf_counter() - began:.1f} s")
    client = Client()
    client.force_login(user)
    client.get("/admin/")  # warm templates and caches
    timings = []
    for _ in range(args.repeat):
        with (
            CaptureQueriesContext(connections["default"]) as core,
            CaptureQueriesContext(connections["web"]) as web,
        ):
            began = time.perf_counter()
            response = client.get("/admin/")
            timings.append(time.perf_counter() - began)
        assert response.status_code == 200, response.status_code
    month = Appointment.objects.filter(
        start_time__gte=datetime.now(UTC).replace(day=1, hour=0, minute=0)
    ).count()
    unbilled = Appointment.objects.filter(timesheet__isnull=True).count()
    print(
        f"home page: {len(core)} queries on default + {len(web)} on web; "
        f"median {statistics.median(timings) * 1000:.0f} ms, best {min(timings) * 1000:.0f} ms "
        f"over {args.repeat} requests ({month:,} appointments this month, {unbilled:,} unbilled)"
    )


if __name__ == "__main__":
    main()
