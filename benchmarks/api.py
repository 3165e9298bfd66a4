"""Every list the API and the admin serve, each next to its floor measured in the same run.

    .venv/bin/python benchmarks/api.py [--size 100000] [--seconds 8] [--repeat 2] [--check]
        [--only api|admin]

Starts the app under gunicorn (2 workers, sync) on 127.0.0.1 against PostgreSQL
(BENCH_DATABASE_URL / BENCH_WEB_DATABASE_URL, default databases `adminassistant_bench` and
`adminassistant_bench_web` on 127.0.0.1:5432, created and migrated if missing) with the cache on
Redis (BENCH_CACHE_URL, default redis://127.0.0.1:6379/9: the production process model; the API
throttle stays on, at a rate this load never reaches). Seeds one consultant with `--size`
appointments (each archived once) and as many audit rows (benchmarks/api_seed.py), then drives
each API list with `wrk` (Debian's package: `sudo apt-get install -y wrk`), 8 connections, and
the bare floor view of the same page (benchmarks/floor_urls.py: same middleware, same token
authentication, same SQL through `values()`, a `JsonResponse`) right after it.

The admin's change lists (appointments, archive runs) and its home page are measured in this
process with Django's test client, signed in as the consultant (benchmarks/admin_pages.py): the
change lists against a floor page that reads the same first 100 rows and their count through the
ORM into one plain table, the home page against a floor page that runs its reads through the ORM
with `values()` and prints their row counts (floor_urls.py `admin_dashboard`). Query counts are
printed at this size and at a tenth of it: they must be the same.

Each API figure is printed with the workers' CPU per request (read from /proc around each wrk
run), which a busy shared machine disturbs far less than latency; its cost is that CPU divided
by its floor's (1.0 = at the floor), and the throughput ratio is printed next to it. `--check`
compares each cost with benchmarks/api_baseline.json and fails (exit status 1) when one is more
than 25 % worse or a page's query count grows with its rows; a figure found over its baseline is
measured twice more first and judged by the median of its three costs. The month page's target
(p99 <= 50 ms, at least 0.66 x the floor's throughput) is printed as met or missed: latency
depends on the machine's load, so it is a goal, not a check. `--write-baseline` stores this run's
costs. `--only admin` measures the admin pages alone (no gunicorn, no wrk: seconds, not minutes);
`--only api` the API lists alone.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
BASELINE = HERE / "api_baseline.json"
CORE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/adminassistant_bench"
)
WEB_URL = os.environ.get(
    "BENCH_WEB_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/adminassistant_bench_web"
)
CACHE_URL = os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/9")
CONNECTIONS = 8
TOLERANCE = 1.25
CONFIRMATIONS = 2
TARGET_P99_MS = 50.0
TARGET_THROUGHPUT = 0.66
DEEP_PAGES = 1800


def environment() -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": CORE_URL,
        "WEB_DATABASE_URL": WEB_URL,
        "CACHE_URL": CACHE_URL,
        "DJANGO_DEBUG": "0",
        "DJANGO_SETTINGS_MODULE": "floor_settings",
        "API_THROTTLE_RATE": "100000/second",
        "LOG_LEVEL": "WARNING",
        "ALLOWED_HOSTS": "127.0.0.1,testserver",
        "PYTHONPATH": os.pathsep.join([str(HERE), str(ROOT)]),
    }
    env.pop("REQUESTS_CA_BUNDLE", None)
    return env


def ensure_database(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    server = parts._replace(path="/postgres").geturl()
    with psycopg.connect(server, autocommit=True) as connection:
        found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if not found.fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')


def setup_django() -> None:
    os.environ.update(environment())
    sys.path[:0] = [str(HERE), str(ROOT)]
    import django

    django.setup()
    from django.core.management import call_command

    for alias in ("default", "web"):
        call_command("migrate", database=alias, verbosity=0)


def drf_cursor(position: str) -> str:
    # rest_framework.pagination.CursorPagination.encode_cursor: base64 of "p=<position>".
    return base64.b64encode(urlencode({"p": position}).encode("ascii")).decode("ascii")


def endpoints(size: int) -> list[tuple[str, str, str]]:
    """(name, API path, floor path) for every API list."""
    from api_seed import api_month, bench_email

    from calendars.models import Appointment

    user = bench_email(size)
    start, end = api_month(datetime.now(UTC))
    pages = min(DEEP_PAGES, size // 50 - 2)
    deep = (
        Appointment.objects.filter(user__email=user)
        .order_by("start_time", "id")
        .values_list("start_time", flat=True)[pages * 50 - 1]
    )
    month = f"start={start:%Y-%m-%dT%H:%M:%SZ}&end={end:%Y-%m-%dT%H:%M:%SZ}&page_size=50"
    after = deep.isoformat().replace("+", "%2B")
    return [
        (
            "appointments, month page",
            f"/api/v1/appointments/?{month}",
            f"/floor/appointments/?{month}",
        ),
        (
            f"appointments, cursor page {pages:,}",
            f"/api/v1/appointments/?cursor={drf_cursor(str(deep))}",
            f"/floor/appointments/?after={after}",
        ),
        ("timesheets", "/api/v1/timesheets/", "/floor/timesheets/"),
        ("action items", "/api/v1/action-log/", "/floor/action-log/"),
        (f"audit log ({size:,} rows)", "/api/v1/audit-log/", "/floor/audit-log/"),
    ]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def gunicorn(port: int, workers: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603 - our own gunicorn, fixed arguments
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "adminassistant.wsgi",
            f"--bind=127.0.0.1:{port}",
            f"--workers={workers}",
            "--log-level=warning",
        ],
        cwd=ROOT,
        env=environment(),
        start_new_session=True,
    )


def warm(base: str, paths: list[str], key: str) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    deadline = time.monotonic() + 60
    while True:
        try:
            requests.get(base + paths[0], headers=headers, timeout=30).raise_for_status()
            break
        except (requests.ConnectionError, requests.Timeout):
            if time.monotonic() > deadline:
                raise SystemExit("gunicorn did not answer within 60 s") from None
            time.sleep(0.3)
    for path in paths:
        for _ in range(20):  # every worker's connections, caches and plans
            answer = requests.get(base + path, headers=headers, timeout=30)
            answer.raise_for_status()
            assert len(answer.json()["results"]) == 50, (path, len(answer.json()["results"]))


def workers_cpu(master: int) -> float:
    """Seconds of CPU the gunicorn workers (the master's children) have used so far."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == master:  # ppid
            total += (int(fields[11]) + int(fields[12])) / tick  # utime + stime
    return total


def wrk(url: str, key: str, seconds: int, master: int) -> dict[str, float]:
    cpu_before = workers_cpu(master)
    output = subprocess.run(  # noqa: S603 - wrk from the system, fixed arguments
        [
            shutil.which("wrk") or "wrk",
            f"-c{CONNECTIONS}",
            "-t2",
            f"-d{seconds}s",
            "--latency",
            "-H",
            f"Authorization: Bearer {key}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Non-2xx" in output or "Socket errors" in output:
        raise SystemExit(f"wrk saw errors on {url}:\n{output}")
    units = {"us": 0.001, "ms": 1.0, "s": 1000.0}

    def latency(percent: str) -> float:
        found = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        assert found, output
        return float(found[1]) * units[found[2]]

    cpu = workers_cpu(master) - cpu_before
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    count = re.search(r"(\d+) requests in", output)
    assert rate and count, output
    return {
        "rps": float(rate[1]),
        "p50": latency("50"),
        "p99": latency("99"),
        "cpu_ms": cpu * 1000 / int(count[1]),
    }


def median_run(runs: list[dict[str, float]]) -> dict[str, float]:
    return {name: statistics.median(run[name] for run in runs) for name in runs[0]}


def measure_api(
    size: int, seconds: int, repeat: int, workers: int, key: str, names: set[str] | None = None
) -> list[dict]:
    """Each API list (or only those in `names`) and its floor, in turns; its cost is the median
    of the turns' CPU ratios."""
    lists = [row for row in endpoints(size) if names is None or row[0] in names]
    if not lists:
        return []
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = gunicorn(port, workers)
    rows = []
    try:
        warm(base, [path for _, api, floor in lists for path in (api, floor)], key)
        for name, api, floor in lists:
            api_runs, floor_runs = [], []
            for _ in range(repeat):  # alternate, so a burst of load elsewhere hits both
                floor_runs.append(wrk(base + floor, key, seconds, server.pid))
                api_runs.append(wrk(base + api, key, seconds, server.pid))
            mine, bare = median_run(api_runs), median_run(floor_runs)
            cost = statistics.median(
                own["cpu_ms"] / its["cpu_ms"] for own, its in zip(api_runs, floor_runs, strict=True)
            )
            rows.append({"name": name, **mine, "floor": bare, "cost": cost})
            print(
                f"  {name:30} {mine['rps']:5.0f} req/s p50 {mine['p50']:5.1f} p99 "
                f"{mine['p99']:6.1f} ms {mine['cpu_ms']:5.1f} ms CPU | floor {bare['rps']:5.0f} "
                f"req/s p50 {bare['p50']:5.1f} p99 {bare['p99']:6.1f} ms {bare['cpu_ms']:5.1f} ms "
                f"CPU | {bare['rps'] / mine['rps']:.2f} x time, {cost:.2f} x CPU",
                flush=True,
            )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=100_000, help="appointments and audit rows")
    parser.add_argument("--seconds", type=int, default=8, help="wrk duration per figure")
    parser.add_argument("--repeat", type=int, default=2, help="runs per figure (median)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--check", action="store_true", help="fail on a regression")
    parser.add_argument("--write-baseline", action="store_true")
    parser.add_argument("--only", choices=["api", "admin"], help="measure one half alone")
    options = parser.parse_args()
    if options.only != "admin" and not shutil.which("wrk"):
        raise SystemExit("This benchmark drives the API with wrk: sudo apt-get install -y wrk")

    ensure_database(CORE_URL)
    ensure_database(WEB_URL)
    setup_django()
    from admin_pages import measure_admin
    from api_seed import api_key, bench_user

    user = bench_user(options.size)
    small = bench_user(options.size // 10)
    load = os.getloadavg()
    print(
        f"{options.size:,} appointments and audit rows; gunicorn {options.workers} workers, "
        f"{CONNECTIONS} connections, PostgreSQL, cache {CACHE_URL.split('://')[0]}; "
        f"load average {load[0]:.1f} {load[1]:.1f} on {os.cpu_count()} cores"
    )
    key = api_key(user)

    def measure(names: set[str] | None = None) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        if options.only != "admin":
            print(
                "API lists (wrk; median of --repeat runs; time = floor req/s / own, "
                "CPU = own / floor)"
            )
            rows += measure_api(
                options.size, options.seconds, options.repeat, options.workers, key, names
            )
        if options.only != "api":
            print("Admin pages (in process, median of 15, signed in as the consultant):")
            rows += measure_admin(user=user, small=small, names=names)
        return [row for row in rows if names is None or row["name"] in names]

    rows = measure()
    if options.check:
        confirm(rows, options, measure)
    print(f"load average after: {' '.join(f'{n:.1f}' for n in os.getloadavg())}")
    verdict(rows, options)


def regressions(rows: list[dict[str, Any]], options: argparse.Namespace) -> set[str]:
    before = baseline_costs(options)
    return {
        row["name"]
        for row in rows
        if row["name"] in before and row["cost"] > before[row["name"]] * TOLERANCE
    }


def confirm(
    rows: list[dict[str, Any]],
    options: argparse.Namespace,
    measure: Callable[[set[str]], list[dict[str, Any]]],
) -> None:
    """A figure over its baseline is measured CONFIRMATIONS more times and judged by the median
    of its costs: on a shared machine one run's floor can land in a quiet moment (a floor at
    half its usual CPU has failed CI on its own), while a real regression shows in every run."""
    suspects = regressions(rows, options)
    if not suspects:
        return
    print(f"over the baseline: {', '.join(sorted(suspects))}; measured {CONFIRMATIONS} more times")
    costs = {row["name"]: [row["cost"]] for row in rows if row["name"] in suspects}
    for _ in range(CONFIRMATIONS):
        for again in measure(suspects):
            costs[again["name"]].append(again["cost"])
    for row in rows:
        if row["name"] in costs:
            row["cost"] = statistics.median(costs[row["name"]])
            print(
                f"  {row['name']}: "
                f"{', '.join(f'{cost:.2f}' for cost in costs[row['name']])} x the floor, "
                f"median {row['cost']:.2f} x"
            )


def baseline_costs(options: argparse.Namespace) -> dict[str, float]:
    baseline = json.loads(BASELINE.read_text()) if BASELINE.exists() else {}
    return baseline.get(f"size {options.size}", {})


def verdict(rows: list[dict[str, Any]], options: argparse.Namespace) -> None:
    if options.only != "admin":
        month_target(rows[0])
    problems: list[str] = []
    for row in rows:
        if "queries" in row and row["queries"] != row["queries_small"]:
            problems.append(
                f"{row['name']}: {row['queries']} queries, {row['queries_small']} small"
            )
    key = f"size {options.size}"
    baseline = json.loads(BASELINE.read_text()) if BASELINE.exists() else {}
    before = baseline.get(key, {})
    for row in rows:
        was = before.get(row["name"])
        if was is None:
            continue
        if row["cost"] > was * TOLERANCE:
            problems.append(f"{row['name']}: {row['cost']:.2f} x the floor, baseline {was:.2f} x")
    if options.write_baseline:
        # A run of one half keeps the other half's stored costs.
        baseline[key] = {**before, **{row["name"]: round(row["cost"], 2) for row in rows}}
        BASELINE.write_text(json.dumps(baseline, indent=2, sort_keys=True) + "\n")
        print(f"wrote {BASELINE.relative_to(ROOT)} [{key}]")
    elif not before:
        print(f"no baseline for {key} in {BASELINE.relative_to(ROOT)}: nothing to compare")
    for problem in problems:
        print(f"FAIL {problem}")
    if options.check and problems:
        raise SystemExit(1)
    if options.check:
        print(f"check: every figure within {TOLERANCE - 1:.0%} of its baseline")


def month_target(month: dict[str, Any]) -> None:
    met = (
        month["p99"] <= TARGET_P99_MS and month["rps"] >= TARGET_THROUGHPUT * month["floor"]["rps"]
    )
    print(
        f"target: month page p99 <= {TARGET_P99_MS:.0f} ms (measured {month['p99']:.1f}) and "
        f">= {TARGET_THROUGHPUT} x the floor's throughput (measured "
        f"{month['rps'] / month['floor']['rps']:.2f} x): {'met' if met else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
