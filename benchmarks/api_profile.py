"""Where an API list's time goes, layer by layer, next to its floor: cProfile in process.

    .venv/bin/python benchmarks/api_profile.py [--size 10000] [--requests 200] [--top 12]

The databases, seed and settings of api.py; each request through Django's WSGI handler and
every middleware (Django's test client, the API token, the throttle on Redis). For each list
and its floor (benchmarks/floor_urls.py), after `--warm` requests: the median time of a
request and the time its SQL took (every query on both databases, timed around the driver),
without the profiler; then `--requests` more under cProfile, each function's own time added up
by the layer its code lives in (this project, DRF, django-filter, Django, psycopg, the Redis
client, other packages, the standard library). A C function's time goes to the layer that
called it, so the time psycopg spends waiting on the socket is psycopg's. The profiler slows
every Python call down, so its milliseconds are larger than the median's: compare the layers
with each other and with the floor's, not with the clock.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import sysconfig
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
STDLIB = sysconfig.get_paths()["stdlib"]
PACKAGES = (
    ("rest_framework", "DRF"),
    ("django_filters", "django-filter"),
    ("django", "Django"),
    ("psycopg", "psycopg"),
    ("redis", "Redis client"),
)
LAYERS = ("ours", "DRF", "django-filter", "Django", "psycopg", "Redis client", "other", "stdlib")


def layer(filename: str) -> str:
    """The layer a function's code lives in, from its file's path."""
    if "site-packages" in filename:
        package = filename.split("site-packages" + os.sep, 1)[1].split(os.sep, 1)[0]
        return next((name for prefix, name in PACKAGES if package == prefix), "other")
    if filename.startswith(STDLIB) or filename.startswith("<frozen"):
        return "stdlib"
    return "ours"


def by_layer(stats: pstats.Stats) -> dict[str, float]:
    """Seconds of own time per layer; a built-in's time to its callers' layers."""
    table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    seconds: dict[str, float] = defaultdict(float)
    for (filename, _, _), (_, _, own, _, callers) in table.items():
        if filename != "~":
            seconds[layer(filename)] += own
            continue
        edges = [(caller, edge[2]) for caller, edge in callers.items()]
        share = sum(spent for _, spent in edges) or 1.0
        for (caller_file, _, _), spent in edges:
            place = layer(caller_file) if caller_file != "~" else "stdlib"
            seconds[place] += own * spent / share
    return seconds


@contextmanager
def sql_timer() -> Iterator[list[float]]:
    """Every query's time on every database, while the block runs."""
    from django.db import connections

    spent: list[float] = []

    def timed(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent.append(time.perf_counter() - started)

    with ExitStack() as stack:
        for alias in connections:
            stack.enter_context(connections[alias].execute_wrapper(timed))
        yield spent


def profile(ask: Callable[[], None], warm: int, requests: int) -> dict[str, Any]:
    """Median and SQL time of a request, and its profile by layer (milliseconds per request)."""
    for _ in range(warm):
        ask()
    times = []
    with sql_timer() as queries:
        for _ in range(requests):
            started = time.perf_counter()
            ask()
            times.append(time.perf_counter() - started)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        ask()
    profiler.disable()
    stats = pstats.Stats(profiler)
    return {
        "median": statistics.median(times) * 1000,
        "sql": sum(queries) * 1000 / requests,
        "queries": len(queries) / requests,
        "layers": {name: s * 1000 / requests for name, s in by_layer(stats).items()},
        "stats": stats,
        "requests": requests,
    }


def show(name: str, own: dict[str, Any], floor: dict[str, Any], top: int) -> None:
    print(
        f"{name}: {own['median']:.1f} ms a request, {own['sql']:.1f} ms of it SQL "
        f"({own['queries']:.0f} queries) | floor {floor['median']:.1f} ms, "
        f"{floor['sql']:.1f} ms SQL ({floor['queries']:.0f} queries) | "
        f"{own['median'] / floor['median']:.2f} x"
    )
    print(f"  {'profiled, ms a request':24} {'list':>7} {'floor':>7} {'above':>7}")
    for part in LAYERS:
        mine, bare = own["layers"].get(part, 0.0), floor["layers"].get(part, 0.0)
        print(f"  {part:24} {mine:7.2f} {bare:7.2f} {mine - bare:+7.2f}")
    mine, bare = sum(own["layers"].values()), sum(floor["layers"].values())
    print(f"  {'all':24} {mine:7.2f} {bare:7.2f} {mine - bare:+7.2f}")
    if top:
        print(f"  the list's {top} costliest functions (own time, C calls apart):")
        table: dict[Any, Any] = own["stats"].stats
        ranked = sorted(table.items(), key=lambda item: item[1][2], reverse=True)[:top]
        requests = own["requests"]
        for (filename, line, function), (_, calls, spent, _, _) in ranked:
            where = "built-in" if filename == "~" else f"{Path(filename).name}:{line}"
            print(
                f"    {spent * 1000 / requests:6.2f} ms {calls / requests:7.0f} calls  "
                f"{function} ({where})"
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=10_000, help="appointments and audit rows")
    parser.add_argument("--requests", type=int, default=200, help="requests timed and profiled")
    parser.add_argument("--warm", type=int, default=40, help="requests before timing")
    parser.add_argument("--top", type=int, default=0, help="list the N costliest functions")
    parser.add_argument("--only", help="the lists whose name starts with this")
    options = parser.parse_args()

    sys.path[:0] = [str(HERE), str(ROOT)]
    import api

    api.ensure_database(api.CORE_URL)
    api.ensure_database(api.WEB_URL)
    api.setup_django()
    from api_seed import api_key, bench_user
    from django.test import Client

    user = bench_user(options.size)
    headers = {"Authorization": f"Bearer {api_key(user)}"}
    client = Client()
    print(
        f"{options.size:,} appointments and audit rows; in process, PostgreSQL, cache "
        f"{api.CACHE_URL.split('://')[0]}; {options.requests} requests after {options.warm}"
    )

    def asker(path: str) -> Callable[[], None]:
        def ask() -> None:
            answer = client.get(path, headers=headers)
            if answer.status_code != 200:
                raise SystemExit(f"{path}: {answer.status_code}")

        return ask

    for name, path, floor_path in api.endpoints(options.size):
        if options.only and not name.startswith(options.only):
            continue
        own = profile(asker(path), options.warm, options.requests)
        floor = profile(asker(floor_path), options.warm, options.requests)
        show(name, own, floor, options.top)


if __name__ == "__main__":
    main()
