"""The admin home page with 100,000 appointments.

    .venv/bin/python benchmarks/dashboard.py [--appointments 100000] [--repeat 5] [--postgres]
        [--profile N]

Seeds a scratch database with one consultant's appointments spread over several years (five
customers with rates in GBP and EUR, one with none; one in ten travel; most of them billed on
timesheets, the last months unbilled), open action items and a nightly archive with last
night's run, then renders the home page as that consultant and prints the number of queries and
the median time per request, first with 2,000 appointments and then with all of them: the query
count must be the same.

The floor is the page's reads without the page (benchmarks/floor_urls.py, `/floor/admin/
dashboard/`, the same floor benchmarks/admin_pages.py measures the home page against): a bare
view under the same middleware and session that runs the same queries through the ORM with
`values()` (the month's and the unbilled appointments counted in groups that bill alike, the
terms that price them, the open items and the appointments they hold back, the archive
configurations with their runs and schedules, the reconnect items, the recent actions) and
prints each read's number of rows: what the figures cost to read, priced, summed and formatted
by nothing, as the API lists' floors are the same SQL through `values()` into `JsonResponse`.
Goal: the page at most 1.5 x that floor. Printed beside it, timed in the same turns: the two
aggregates alone (benchmarks/dashboard_floor.py, the floor of earlier rounds, which no admin
page can meet on PostgreSQL), and an admin page with next to nothing on it (the password change
form), what any admin page costs before its content. Each figure is the median wall time and,
beside it, the median CPU time of this process (steadier on a shared machine; with SQLite it
includes the database's work, with PostgreSQL it does not).

SQLite scratch files by default; `--postgres` uses the databases bench_dashboard and
bench_dashboard_web on 127.0.0.1:5432 (user postgres; dropped and created afresh) and runs
ANALYZE after seeding, as autovacuum would on a server.
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PARSER = argparse.ArgumentParser()
PARSER.add_argument("--appointments", type=int, default=100_000)
PARSER.add_argument("--repeat", type=int, default=5)
PARSER.add_argument(
    "--postgres", action="store_true", help="bench_dashboard and bench_dashboard_web"
)
PARSER.add_argument(
    "--profile", type=int, default=0, metavar="N", help="then print where N pages' time goes"
)
ARGS = PARSER.parse_args()
POSTGRES = "postgres://postgres@127.0.0.1:5432/"
SCRATCH = Path(tempfile.mkdtemp(prefix="dashboard-bench-"))
atexit.register(shutil.rmtree, SCRATCH, ignore_errors=True)
if ARGS.postgres:
    import psycopg

    with psycopg.connect(POSTGRES + "postgres", autocommit=True) as server:
        for name in ("bench_dashboard", "bench_dashboard_web"):
            server.execute(f"DROP DATABASE IF EXISTS {name}")
            server.execute(f"CREATE DATABASE {name}")
    os.environ["DATABASE_URL"] = POSTGRES + "bench_dashboard"
    os.environ["WEB_DATABASE_URL"] = POSTGRES + "bench_dashboard_web"
else:
    os.environ["DATABASE_URL"] = f"sqlite:///{SCRATCH / 'core.sqlite3'}"
    os.environ["WEB_DATABASE_URL"] = f"sqlite:///{SCRATCH / 'web.sqlite3'}"
os.environ.setdefault("VAR_DIR", str(SCRATCH))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "floor_settings")  # the app, and /floor/
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
sys.path.insert(0, str(ROOT))

import django  # noqa: E402

django.setup()

from dashboard_floor import dashboard_floor  # noqa: E402  (benchmarks/, the script's folder)
from django.core.management import call_command  # noqa: E402
from django.db import connections  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from seeding import archive_configuration  # noqa: E402

from accounts.models import User  # noqa: E402
from adminassistant.dashboard import attention_at_stake  # noqa: E402
from archiving.models import ArchiveRun, JobConfiguration  # noqa: E402
from auditing.models import ActionLog  # noqa: E402
from calendars.models import Appointment  # noqa: E402
from foundations.startup import freeze_start_up  # noqa: E402
from timesheets.models import CustomerSettings, Timesheet  # noqa: E402

CUSTOMERS = ["Acme", "Globex", "Initech", "Umbrella", "Hooli"]
RATES = {"Acme": ("GBP", "120"), "Globex": ("EUR", "135"), "Initech": ("GBP", "95")}
SMALL = 2_000
# An admin page with next to nothing on it: what any admin page costs before its content.
CHROME = "/admin/password_change/"
FLOOR = "/floor/admin/dashboard/"


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
        # Each item names the unbilled appointments it holds back, as the archive's own do
        # (an overlap its two members, the others one): the attention panel prices them.
        unbilled = list(
            Appointment.objects.filter(user=user, timesheet__isnull=True)
            .order_by("-start_time")
            .values_list("pk", flat=True)[:80]
        )
        pairs = iter(unbilled[:40])
        ActionLog.objects.bulk_create(
            [
                *(
                    ActionLog(
                        user=user,
                        event_type="overlap",
                        key=f"overlap-{n}",
                        state=ActionLog.State.OPEN,
                        details={"appointments": [{"id": next(pairs)}, {"id": next(pairs)}]},
                    )
                    for n in range(20)
                ),
                *(
                    ActionLog(
                        user=user,
                        event_type=kind,
                        key=f"{kind}-{n}",
                        state=ActionLog.State.OPEN,
                        details={"appointment": unbilled[40 + 20 * i + n]},
                    )
                    for i, kind in enumerate(["uncategorised", "source_deleted"])
                    for n in range(20)
                ),
            ]
        )
        for customer, (currency, rate) in RATES.items():
            CustomerSettings.objects.create(
                user=user, customer=customer, currency=currency, hourly_rate=rate
            )
        # Archive health: the consultant's nightly archive and last night's run.
        configuration = archive_configuration(user)
        JobConfiguration.objects.create(
            user=user,
            archive_configuration=configuration,
            schedule_type="daily",
            schedule_hour=23,
            schedule_minute=30,
        )
        finished = now - timedelta(hours=9)
        ArchiveRun.objects.create(
            configuration=configuration,
            start=finished.date(),
            end=finished.date(),
            correlation_id="bench-last-night",
            status=ArchiveRun.Status.SUCCESS,
            started_at=finished - timedelta(minutes=1),
            finished_at=finished,
        )


def medians(*runs: Callable[[], Any], repeat: int) -> list[tuple[float, float]]:
    """The median wall and CPU seconds of each run, after one warm-up run of each. The runs
    take turns, so a change in the machine's load weighs on each alike."""
    timings: list[tuple[list[float], list[float]]] = [([], []) for _ in runs]
    for run in runs:
        run()
    for _ in range(repeat):
        for run, (wall, cpu) in zip(runs, timings, strict=True):
            began, began_cpu = time.perf_counter(), time.process_time()
            run()
            wall.append(time.perf_counter() - began)
            cpu.append(time.process_time() - began_cpu)
    return [(statistics.median(wall), statistics.median(cpu)) for wall, cpu in timings]


def get_page(client: Client, path: str = "/admin/") -> None:
    response = client.get(path)
    assert response.status_code == 200, response.status_code


def queries(client: Client, path: str = "/admin/") -> tuple[int, int]:
    """Queries on default and web of one home page (or of `path`)."""
    with (
        CaptureQueriesContext(connections["default"]) as core,
        CaptureQueriesContext(connections["web"]) as web,
    ):
        get_page(client, path)
    return len(core), len(web)


def floor_queries(client: Client) -> int:
    return sum(queries(client, FLOOR))


def ms(seconds: tuple[float, float]) -> str:
    return f"{seconds[0] * 1000:.0f} ms (CPU {seconds[1] * 1000:.0f} ms)"


def analyze() -> None:
    if connections["default"].vendor == "postgresql":
        with connections["default"].cursor() as cursor:
            cursor.execute("ANALYZE")


def main() -> None:
    for alias in ("default", "web"):
        call_command("migrate", database=alias, verbosity=0)
    user = User.objects.create_user(
        "consultant@example.com", "bench-password-1", is_staff=True, timezone="Europe/London"
    )
    now = datetime.now(UTC)
    client = Client()
    client.force_login(user)
    seed(user, SMALL, now)
    analyze()
    small_queries = queries(client)
    (small,) = medians(lambda: get_page(client), repeat=ARGS.repeat)
    load = os.getloadavg()
    print(
        f"{connections['default'].vendor}; load average {load[0]:.1f} {load[1]:.1f} on "
        f"{os.cpu_count()} cores; {SMALL:,} appointments: {small_queries[0]} queries on default "
        f"+ {small_queries[1]} on web, median {ms(small)}"
    )
    began = time.perf_counter()
    seed(user, ARGS.appointments - SMALL, now, offset=SMALL)
    analyze()
    print(f"seeded {ARGS.appointments:,} appointments in {time.perf_counter() - began:.1f} s")
    core, web = queries(client)
    # As a web process does before its first request (adminassistant/wsgi.py): what start-up
    # and the seeding left lives on in the permanent generation, out of the collector's walks.
    freeze_start_up()
    page, floor, aggregates, chrome = medians(
        lambda: get_page(client),
        lambda: get_page(client, FLOOR),
        lambda: dashboard_floor(user),
        lambda: get_page(client, CHROME),
        repeat=ARGS.repeat,
    )
    month = Appointment.objects.filter(start_time__gte=now.replace(day=1, hour=0, minute=0)).count()
    unbilled = Appointment.objects.filter(timesheet__isnull=True).count()
    same = "the same" if (core, web) == small_queries else "NOT the same"
    print(
        f"{ARGS.appointments:,} appointments ({month:,} this month, {unbilled:,} unbilled): "
        f"{core} queries on default + {web} on web ({same} as with {SMALL:,}); "
        f"median {ms(page)} over {ARGS.repeat} requests"
    )
    print(
        f"floor ({FLOOR}: the page's {floor_queries(client)} reads through values(), under the "
        f"same middleware and session): {ms(floor)}; page / floor = {page[0] / floor[0]:.2f} "
        f"(CPU {page[1] / floor[1]:.2f}) (goal <= 1.5)"
    )
    print(
        f"the month's and the unbilled aggregates alone ({dashboard_floor(user)} groups, no "
        f"request): {ms(aggregates)}; page / aggregates = {page[0] / aggregates[0]:.2f}"
    )
    print(
        f"an admin page with one small form ({CHROME}, the same middleware, header and "
        f"navigation): {ms(chrome)} = {chrome[0] / floor[0]:.2f} x the floor"
    )
    at_stake = attention_at_stake(user)
    print(f"the attention panel's amount at stake: {' + '.join(at_stake) or 'none'}")
    load = os.getloadavg()
    print(f"load average {load[0]:.1f} {load[1]:.1f} at the end")
    if ARGS.profile:
        profile(lambda: get_page(client), ARGS.profile)


def profile(run: Callable[[], Any], times: int) -> None:
    """cProfile of `times` pages: the 40 functions with the most cumulative time, what each
    panel of the page costs, then one page's queries on default, slowest first."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(times):
        run()
    profiler.disable()
    stats = pstats.Stats(profiler).sort_stats("cumulative")
    stats.print_stats(40)
    stats.print_callees("dashboard_context")
    with CaptureQueriesContext(connections["default"]) as core:
        run()
    for query in sorted(core.captured_queries, key=lambda query: -float(query["time"])):
        print(f"{float(query['time']) * 1000:7.2f} ms  {query['sql'][:150]}")


if __name__ == "__main__":
    main()
