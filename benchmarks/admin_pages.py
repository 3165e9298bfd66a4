"""The admin pages of the API benchmark (benchmarks/api.py), measured in its process.

Each page is fetched with Django's test client, signed in as the consultant, 15 times after a
warm-up; the figure is the median wall time, printed with the median CPU time of this process
(time.process_time: the Python side, which a busy shared machine disturbs least; the database's
own CPU is in the wall time only). The change lists' floor is a page that reads the same first
100 rows through the ORM into one plain table under their count, as any paginated list must
(floor_urls.py: Django's Paginator); the home page's floor is a page that runs the home page's
reads through the ORM with `values()` and prints their row counts, pricing and formatting
nothing (floor_urls.py `admin_dashboard`, the same floor benchmarks/dashboard.py measures the
page against). The query count is taken at the full size
and for the consultant with a tenth of the rows: a page whose count grows with the rows reads
them one by one.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User

REPEAT = 15
PAGES = [
    (
        "admin: appointment change list",
        "/admin/calendars/appointment/",
        "/floor/admin/appointments/",
    ),
    (
        "admin: archive run change list",
        "/admin/archiving/archiverun/",
        "/floor/admin/archive-runs/",
    ),
    ("admin: home page (dashboard)", "/admin/", "/floor/admin/dashboard/"),
]


def timed_in_turns(
    fetch: Callable[[], Any], floor: Callable[[], Any]
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Median wall and CPU milliseconds of `fetch` and of `floor`, after a warm-up, fetched in
    turns so that a change of the machine's load weighs on both alike."""
    fetch()
    floor()
    times: dict[int, tuple[list[float], list[float]]] = {0: ([], []), 1: ([], [])}
    for _ in range(REPEAT):
        for which, call in enumerate((fetch, floor)):
            began, began_cpu = time.perf_counter(), time.process_time()
            call()
            times[which][1].append(time.process_time() - began_cpu)
            times[which][0].append(time.perf_counter() - began)
    (walls, cpus), (floor_walls, floor_cpus) = times[0], times[1]
    return (
        (statistics.median(walls) * 1000, statistics.median(cpus) * 1000),
        (statistics.median(floor_walls) * 1000, statistics.median(floor_cpus) * 1000),
    )


def page(client: Client, path: str) -> Any:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response


def queries(client: Client, path: str) -> int:
    with (
        CaptureQueriesContext(connections["default"]) as core,
        CaptureQueriesContext(connections["web"]) as web,
    ):
        page(client, path)
    return len(core) + len(web)


def measure_admin(
    *, user: User, small: User, names: set[str] | None = None
) -> list[dict[str, Any]]:
    client, small_client = Client(), Client()
    client.force_login(user)
    small_client.force_login(small)
    rows = []
    for name, path, floor in PAGES:
        if names is not None and name not in names:
            continue
        count = queries(client, path)
        count_small = queries(small_client, path)
        bare: Callable[[], Any] = lambda floor=floor: page(client, floor)  # noqa: E731
        kind = (
            "its reads, row counts" if "dashboard" in floor else "same rows and count, plain table"
        )
        (ms, cpu_ms), (floor_ms, floor_cpu_ms) = timed_in_turns(
            lambda path=path: page(client, path), bare
        )
        rows.append(
            {
                "name": name,
                "ms": ms,
                "floor_ms": floor_ms,
                "cost": ms / floor_ms,
                "cpu_ms": cpu_ms,
                "floor_cpu_ms": floor_cpu_ms,
                "queries": count,
                "queries_small": count_small,
            }
        )
        print(
            f"  {name:32} {ms:6.1f} ms ({cpu_ms:5.1f} CPU), {count} queries ({count_small} at a "
            f"tenth) | floor {floor_ms:6.1f} ms ({floor_cpu_ms:5.1f} CPU, "
            f"{kind}) | {ms / floor_ms:.2f} x"
            f" time, {cpu_ms / max(floor_cpu_ms, 0.001):.2f} x CPU",
            flush=True,
        )
    return rows
