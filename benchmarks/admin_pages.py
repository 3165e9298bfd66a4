"""The admin pages of the API benchmark (benchmarks/api.py), measured in its process.

Each page is fetched with Django's test client, signed in as the consultant, 15 times after a
warm-up; the figure is the median. The change lists' floor is a page that reads the same 100
rows through the ORM into one plain table (floor_urls.py); the home page's floor is the bare ORM
aggregate its figures are priced from, the month's and the unbilled appointments counted in
groups that bill alike (`dashboard_floor`, benchmarks/dashboard_floor.py: the same function
benchmarks/dashboard.py measures the page against). The query count is taken at the full size
and for the consultant with a tenth of the rows: a page whose count grows with the rows reads
them one by one.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from dashboard_floor import dashboard_floor
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
    ("admin: home page (dashboard)", "/admin/", dashboard_floor),
]


def timed(fetch: Callable[[], Any]) -> float:
    fetch()
    timings = []
    for _ in range(REPEAT):
        began = time.perf_counter()
        fetch()
        timings.append(time.perf_counter() - began)
    return statistics.median(timings) * 1000


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


def measure_admin(*, user: User, small: User) -> list[dict[str, Any]]:
    client, small_client = Client(), Client()
    client.force_login(user)
    small_client.force_login(small)
    rows = []
    for name, path, floor in PAGES:
        count = queries(client, path)
        count_small = queries(small_client, path)
        ms = timed(lambda path=path: page(client, path))
        if isinstance(floor, str):
            floor_ms = timed(lambda floor=floor: page(client, floor))
            kind = "same rows, plain table"
        else:
            floor_ms = timed(lambda floor=floor: floor(user))
            kind = "its ORM aggregates"
        rows.append(
            {
                "name": name,
                "ms": ms,
                "floor_ms": floor_ms,
                "cost": ms / floor_ms,
                "queries": count,
                "queries_small": count_small,
            }
        )
        print(
            f"  {name:32} {ms:6.1f} ms, {count} queries ({count_small} at a tenth) | floor "
            f"{floor_ms:6.1f} ms ({kind})"
            f" | {ms / floor_ms:.2f} x",
            flush=True,
        )
    return rows
