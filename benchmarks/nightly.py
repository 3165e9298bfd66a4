"""The nightly fan-out: N users with a due daily job, real qcluster processes on Redis and
PostgreSQL, the fake Graph answering every request after a fixed latency.

    .venv/bin/python benchmarks/nightly.py [--users 100 1000] [--matrix 1x2 1x4 2x4]
        [--latency 0.1]

For each users x (clusters x workers) it creates fresh PostgreSQL databases (BENCH_PG, default
postgres://postgres@127.0.0.1:5432, names prefixed BENCH_DB_PREFIX, default `bench_nightly`,
dropped at the end), a Redis queue of its own
(BENCH_REDIS_URL, default redis://127.0.0.1:6379/7) and N users, each with one event yesterday
and a schedule due now; starts the clusters and waits until every configuration has a
successful ArchiveRun. Prints: due to done, runs per minute, Graph requests per run, the floor
(runs x requests per run x latency / total workers), double fires (a configuration run more
than once) and missed ones (never run), and each run's measured cost in worker-seconds, from
which the last line projects 10,000 users. Goal: runs per minute grows with workers until the
floor; due-to-done within 1.3 x floor + one guard cycle; 0 double fires, 0 missed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
import zoneinfo
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.microsoft import FakeMicrosoft  # noqa: E402

PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")
PREFIX = os.environ.get("BENCH_DB_PREFIX", "bench_nightly")
ZONE = "Europe/London"
GUARD_CYCLE = 30.0  # the scheduler looks at start, then every 30 s

SET_UP = """
import json, sys
from datetime import timedelta
import django
django.setup()
from django.utils import timezone
from django_q.models import Schedule
from tests.cluster_seed import connected_daily_job

given = json.load(sys.stdin)
for person in given["people"]:
    connected_daily_job(
        email=person["email"], refresh_token=person["refresh_token"], zone=given["zone"],
        hour=given["hour"], window_days=1,
    )
Schedule.objects.update(next_run=timezone.now() - timedelta(seconds=1))
"""


@contextlib.contextmanager
def databases(run: str) -> Iterator[dict[str, str]]:
    names = [f"{PREFIX}_core_{run}", f"{PREFIX}_web_{run}"]
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as server:
        for name in names:
            server.execute(f'CREATE DATABASE "{name}"')
    try:
        yield {"DATABASE_URL": f"{PG}/{names[0]}", "WEB_DATABASE_URL": f"{PG}/{names[1]}"}
    finally:
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as server:
            for name in names:
                server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def python(env: dict[str, str], *args: str, stdin: str = "") -> None:
    subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        text=True,
        check=True,
        capture_output=True,
    )


def succeeded(core_url: str) -> int:
    with psycopg.connect(core_url) as connection:
        return connection.execute(
            "SELECT count(*) FROM archive_runs WHERE status = 'success'"
        ).fetchone()[0]


def fires(core_url: str) -> tuple[int, int]:
    """(configurations run more than once, configurations never run successfully)."""
    with psycopg.connect(core_url) as connection:
        double = connection.execute(
            "SELECT count(*) FROM (SELECT configuration_id FROM archive_runs "
            "GROUP BY configuration_id HAVING count(*) > 1) AS twice"
        ).fetchone()[0]
        missed = connection.execute(
            "SELECT count(*) FROM archive_configurations AS c WHERE NOT EXISTS (SELECT 1 FROM "
            "archive_runs AS r WHERE r.configuration_id = c.id AND r.status = 'success')"
        ).fetchone()[0]
    return double, missed


def one(users: int, clusters: int, workers: int, latency: float, scratch: Path) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adminassistant.settings")
    os.environ.setdefault("VAR_DIR", str(scratch / "var"))
    import django

    django.setup()
    from accounts.microsoft import microsoft_scopes

    scopes = tuple(microsoft_scopes())
    run = uuid.uuid4().hex[:8]
    with FakeMicrosoft() as fake, databases(run) as urls:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "MS_", "Q_"))}
        env.update(urls)
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "adminassistant.settings",
                "VAR_DIR": str(scratch / "var"),
                "MS_CLIENT_ID": fake.client_id,
                "MS_CLIENT_SECRET": fake.client_secret,
                "MS_TENANT_ID": fake.tenant,
                "MS_AUTHORITY_HOST": fake.authority_host,
                "MS_GRAPH_URL": fake.graph_url,
                "MS_CA_BUNDLE": fake.ca_bundle,
                "REDIS_URL": REDIS_URL,
                "Q_CLUSTER_NAME": f"wt15-bench-{run}",
                "Q_WORKERS": str(workers),
                "Q_GUARD_CYCLE": str(GUARD_CYCLE),
                "LOG_LEVEL": "WARNING",
            }
        )
        for alias in ("default", "web"):
            python(env, "manage.py", "migrate", "--database", alias, "--verbosity", "0")
        yesterday = datetime.now(zoneinfo.ZoneInfo(ZONE)).date() - timedelta(days=1)
        people = []
        for number in range(users):
            email = f"bench{number:04d}@example.com"
            fake.add_user(email, name=email)
            fake.add_calendar(email, "Archive")
            fake.add_event(
                email,
                subject=f"Acme {number}",
                start={"dateTime": f"{yesterday}T10:00:00", "timeZone": ZONE},
                end={"dateTime": f"{yesterday}T11:00:00", "timeZone": ZONE},
                categories=["Acme - billable"],
            )
            token = fake.sign_in(email, scopes)["refresh_token"]
            people.append({"email": email, "refresh_token": token})
        given = {"people": people, "zone": ZONE, "hour": (datetime.now().hour + 12) % 24}
        python(env, "-c", SET_UP, stdin=json.dumps(given))
        before = len(fake.graph_requests())
        fake.inject(delay=latency, times=None)
        processes = [
            subprocess.Popen(
                [sys.executable, "manage.py", "qcluster"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            for _ in range(clusters)
        ]
        due = time.monotonic()
        try:
            while succeeded(urls["DATABASE_URL"]) < users and time.monotonic() - due < 1800:
                time.sleep(0.5)
            elapsed = time.monotonic() - due
        finally:
            for process in processes:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
            for process in processes:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=20)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
        done = succeeded(urls["DATABASE_URL"])
        double, missed = fires(urls["DATABASE_URL"])
        requests_per_run = (len(fake.graph_requests()) - before) / max(done, 1)
        throttled = fake.request_limit.throttled + fake.mailbox_throttled
        floor = users * requests_per_run * latency / (clusters * workers)
        return {
            "users": users,
            "setup": f"{clusters}x{workers}",
            "done": done,
            "due_to_done": elapsed,
            "runs_per_minute": done / elapsed * 60,
            "requests_per_run": requests_per_run,
            "floor": floor,
            "goal": 1.3 * floor + GUARD_CYCLE,
            "double": double,
            "throttled": throttled,
            "missed": missed,
            # worker-seconds one run really took, guard cycle included
            "run_cost": elapsed * clusters * workers / max(done, 1),
            "workers": clusters * workers,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--matrix", nargs="+", default=["1x2", "1x4", "2x4"])
    parser.add_argument("--latency", type=float, default=0.1)
    options = parser.parse_args()
    print(
        f"{'users':>6} {'setup':>5} {'done':>5} {'due→done s':>11} {'runs/min':>9} "
        f"{'req/run':>8} {'floor s':>8} {'goal s':>7} {'double':>6} {'missed':>6} "
        f"{'s/run':>6}"
    )
    rows = []
    for users in options.users:
        for setup in options.matrix:
            clusters, workers = (int(part) for part in setup.split("x"))
            with tempfile.TemporaryDirectory() as scratch:
                row = one(users, clusters, workers, options.latency, Path(scratch))
            rows.append(row)
            print(
                f"{row['users']:>6} {row['setup']:>5} {row['done']:>5} "
                f"{row['due_to_done']:>11.1f} {row['runs_per_minute']:>9.1f} "
                f"{row['requests_per_run']:>8.1f} {row['floor']:>8.1f} {row['goal']:>7.1f} "
                f"{row['double']:>6} {row['missed']:>6} {row['run_cost']:>6.2f}",
                flush=True,
            )
    biggest = max(rows, key=lambda row: (row["users"], row["workers"]))
    for workers in sorted({biggest["workers"], 8, 16}):
        projected = 10_000 * biggest["run_cost"] / workers
        print(
            f"projection: 10,000 users on {workers} workers take about {projected / 60:.0f} min "
            f"from due to done ({biggest['run_cost']:.2f} worker-seconds a run, measured with "
            f"{biggest['users']:,} users on {biggest['setup']})"
        )
    print(
        f"throttled by the fake: {sum(row.get('throttled', 0) for row in rows)} "
        "(Graph's per-mailbox limits; every user is a mailbox of its own)"
    )


if __name__ == "__main__":
    main()
