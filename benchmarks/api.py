"""API speed: GET /api/v1/appointments/ for one month, 50 per page, 8 concurrent connections.

    .venv/bin/python benchmarks/api.py [--requests 4000] [--workers 4]

Starts the app under gunicorn on 127.0.0.1 against PostgreSQL (BENCH_DATABASE_URL and
BENCH_WEB_DATABASE_URL, default: databases `adminassistant_bench` and `adminassistant_bench_web` on
127.0.0.1:5432, created and migrated if missing), loads 100,000 appointments for one user, and
drives the endpoint with `wrk` when it is installed (Debian's package), else with a bounded
Python client (8 threads, keep-alive). Prints requests per second and p50/p99 latency.
Target: p99 <= 100 ms.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
CORE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/adminassistant_bench"
)
WEB_URL = os.environ.get(
    "BENCH_WEB_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/adminassistant_bench_web"
)
APPOINTMENTS = 100_000
CONNECTIONS = 8
PATH = "/api/v1/appointments/?start=2025-06-01T00:00:00Z&end=2025-07-01T00:00:00Z&page_size=50"


def ensure_database(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    server = parts._replace(path="/postgres").geturl()
    with psycopg.connect(server, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')


def environment() -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": CORE_URL,
        "WEB_DATABASE_URL": WEB_URL,
        "DJANGO_DEBUG": "0",
        "DJANGO_SETTINGS_MODULE": "adminassistant.settings",
        "API_THROTTLE_RATE": "off",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("REQUESTS_CA_BUNDLE", None)
    return env


def prepare() -> str:
    """Migrate, load the appointments once, and return a fresh API key."""
    os.environ.update(environment())
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    from accounts.models import ApiToken, User
    from calendars.models import Appointment

    for alias in ("default", "web"):
        call_command("migrate", database=alias, verbosity=0)
    user, _ = User.objects.get_or_create(
        email="bench@example.com", defaults={"name": "Bench Mark", "is_staff": True}
    )
    have = Appointment.objects.filter(user=user).count()
    if have < APPOINTMENTS:
        print(f"Loading {APPOINTMENTS - have:,} appointments...", flush=True)
        start = datetime(2023, 1, 1, 8, tzinfo=UTC)
        step = timedelta(minutes=15)  # 100,000 appointments over about three years
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
                    start_time=start + step * n,
                    end_time=start + step * n + timedelta(minutes=14),
                )
                for n in range(have, APPOINTMENTS)
            ],
            batch_size=5000,
        )
    token = ApiToken(user=user, name="benchmark")
    key = token.set_new_key()
    token.save()
    return key


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(url: str, key: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(url, headers={"Authorization": f"Bearer {key}"}, timeout=5).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.3)
    raise SystemExit("gunicorn did not answer within 60 s")


def python_client(url: str, key: str, total: int) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    failures = 0
    lock = threading.Lock()
    remaining = [total]

    def worker() -> None:
        nonlocal failures
        session = requests.Session()
        session.trust_env = False
        session.headers["Authorization"] = f"Bearer {key}"
        while True:
            with lock:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
            began = time.perf_counter()
            response = session.get(url, timeout=30)
            elapsed = time.perf_counter() - began
            with lock:
                latencies.append(elapsed)
                failures += not response.ok

    threads = [threading.Thread(target=worker) for _ in range(CONNECTIONS)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began, latencies, failures


def wrk_client(url: str, key: str, seconds: int) -> str:
    result = subprocess.run(  # noqa: S603 - wrk from the system, fixed arguments
        [
            shutil.which("wrk") or "wrk",
            f"-c{CONNECTIONS}",
            f"-t{min(CONNECTIONS, 2)}",
            f"-d{seconds}s",
            "--latency",
            "-H",
            f"Authorization: Bearer {key}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--seconds", type=int, default=20, help="wrk duration")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 2, help="gunicorn workers (one a core)"
    )
    options = parser.parse_args()

    ensure_database(CORE_URL)
    ensure_database(WEB_URL)
    key = prepare()
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 - our own gunicorn, fixed arguments
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "adminassistant.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(options.workers),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=environment(),
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}{PATH}"
    try:
        wait_until_up(url, key)
        for _ in range(50):  # warm every worker's connections and caches
            requests.get(url, headers={"Authorization": f"Bearer {key}"}, timeout=30)
        print(
            f"GET {PATH}\n{APPOINTMENTS:,} appointments, {CONNECTIONS} connections, "
            f"gunicorn {options.workers} workers, PostgreSQL"
        )
        if shutil.which("wrk"):
            print(wrk_client(url, key, options.seconds))
            print("target: p99 <= 100 ms (read the 99% line above)")
            return
        elapsed, latencies, failures = python_client(url, key, options.requests)
        latencies.sort()
        p50 = statistics.median(latencies) * 1000
        p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
        print(
            f"python client: {len(latencies)} requests in {elapsed:.1f} s = "
            f"{len(latencies) / elapsed:.0f} req/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
            f"{failures} failed"
        )
        print(f"target: p99 <= 100 ms: {'met' if p99 <= 100 else 'MISSED'}")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
