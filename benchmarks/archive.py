"""The archive run against the fake Graph: a 30-day window of 2,000 events (recurring series and
overlapping bookings among them), archived once and then again with nothing changed.

    .venv/bin/python benchmarks/archive.py

Uses DATABASE_URL / WEB_DATABASE_URL when set (the script migrates them and adds its own users),
else fresh SQLite files in a temporary folder. Prints, for each run, the Graph requests (reads and
writes, and the sub-requests inside $batch), the database queries on both aliases and the wall
time. The same is done with 1,000 events, and the query counts of both sizes are set side by side,
by kind, to show what grows with the number of events. Targets: a first run makes at most 1 write
request per 15 events and no database query per event; a re-run makes only read requests.

    .venv/bin/python benchmarks/archive.py --realistic

The realistic run: 2,000 events against the strict fake with 100 ms per request (and per wave of 4
batch items) and Outlook's limit of 4 concurrent requests per mailbox. Prints the wall time, the
requests sent, the 429s received and the floor: write sub-requests x latency / 4 (Graph runs 4
items of a batch at once) plus reads x latency. Targets: <= 1.3 x the floor, 0 concurrency 429s.
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
import uuid
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import seeding
from tests.fakes.microsoft import FakeMicrosoft

FIRST_DAY = date(2025, 5, 1)
DAYS = 30


@dataclass
class Figures:
    events: int
    fetched: int
    conflicts: int
    seconds: float
    graph: Counter[str]
    queries: dict[str, int]
    query_writes: int
    query_kinds: Counter[str]

    @property
    def write_requests(self) -> int:
        return self.graph["POST"] + self.graph["PATCH"] + self.graph["DELETE"]

    @property
    def total_queries(self) -> int:
        return sum(self.queries.values())


def django_setup(fake: FakeMicrosoft, scratch: Path) -> None:
    seeding.scratch_databases(scratch, keep_configured=True)
    seeding.microsoft_fake_settings(fake)
    seeding.django_start()


def connect(fake: FakeMicrosoft, email: str) -> Any:
    """A user connected the way "Sign in with Microsoft" does, and their configuration."""
    return seeding.archive_configuration(seeding.connected_user(fake, email))


def seed(fake: FakeMicrosoft, email: str, events: int) -> None:
    seeding.archive_calendar_seed(fake, email, events, first_day=FIRST_DAY, days=DAYS)


def measure(fake: FakeMicrosoft, configuration: Any, events: int) -> Figures:
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    from archiving.phrases import DateRange
    from archiving.run import archive_run

    dates = DateRange(FIRST_DAY, FIRST_DAY + timedelta(days=DAYS - 1))
    seen = len(fake.requests)
    with ExitStack() as stack:
        captured = {
            alias: stack.enter_context(CaptureQueriesContext(connections[alias]))
            for alias in ("default", "web")
        }
        began = time.perf_counter()
        result = archive_run(configuration=configuration, dates=dates)
        seconds = time.perf_counter() - began
    if result.status != "success":
        raise SystemExit(f"the run ended {result.status}: {result.errors[:3]}")
    graph: Counter[str] = Counter()
    for request in fake.requests[seen:]:
        if request.kind == "identity":
            graph["identity"] += 1
        elif request.in_batch:
            graph[f"batched {request.method}"] += 1
        else:
            graph[request.method] += 1
            if request.path.endswith("/$batch"):
                graph["$batch"] += 1
    statements = [q["sql"] for c in captured.values() for q in c]
    return Figures(
        events=events,
        fetched=result.counts.fetched,
        conflicts=result.counts.conflicts,
        seconds=seconds,
        graph=graph,
        queries={alias: len(c) for alias, c in captured.items()},
        query_writes=sum(
            sql.lstrip().split(None, 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}
            for sql in statements
        ),
        query_kinds=Counter(query_kind(sql) for sql in statements),
    )


QUERY_KINDS = (
    ("transaction", re.compile(r"^(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)", re.I)),
    ("appointment insert", re.compile(r'^INSERT INTO "appointments"', re.I)),
    ("appointment update", re.compile(r'^UPDATE "appointments"', re.I)),
    ("action item", re.compile(r'"action_log"', re.I)),
    ("audit row", re.compile(r'"audit_log"', re.I)),
    ("run lock", re.compile(r'^UPDATE "archive_configurations"', re.I)),
)


def query_kind(sql: str) -> str:
    """What a query is for, to show where the count grows."""
    text = sql.lstrip()
    return next((kind for kind, pattern in QUERY_KINDS if pattern.search(text)), "other")


def report(title: str, figures: Figures) -> None:
    g = figures.graph
    print(
        f"{title}: {figures.fetched:,} events fetched, {figures.conflicts} overlap conflicts, "
        f"{figures.seconds:.2f} s"
    )
    print(
        f"  Graph requests: {g['GET']} reads (GET), {figures.write_requests} writes "
        f"(POST {g['POST']}, PATCH {g['PATCH']}; $batch {g['$batch']}) carrying "
        f"{g['batched POST']:,} created and {g['batched PATCH']:,} updated events; "
        f"{g['identity']} identity requests"
    )
    print(
        f"  database queries: {figures.total_queries} (default {figures.queries['default']}, "
        f"web {figures.queries['web']}), {figures.query_writes} of them writes"
    )


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


LATENCY = 0.1


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="archive-benchmark-") as scratch:
        if "--realistic" in sys.argv[1:]:
            run_realistic(Path(scratch))
        else:
            run_benchmark(Path(scratch))


def run_realistic(scratch: Path, events: int = 2000) -> None:
    with FakeMicrosoft() as fake:
        fake.max_page_size = 1000
        django_setup(fake, scratch)
        email = f"bench-real-{uuid.uuid4().hex[:8]}@example.com"
        configuration = connect(fake, email)
        seed(fake, email, events)
        fake.latency = LATENCY
        throttled = fake.mailbox_throttled
        figures = measure(fake, configuration, events)
        throttled = fake.mailbox_throttled - throttled
        g = figures.graph
        sub_writes = g["batched POST"] + g["batched PATCH"] + g["batched DELETE"]
        requests_sent = g["GET"] + figures.write_requests
        floor = sub_writes * LATENCY / 4 + g["GET"] * LATENCY
        report(f"{events:,} events, realistic first run ({LATENCY * 1000:.0f} ms latency)", figures)
        print(
            f"  wall {figures.seconds:.2f} s, {requests_sent} requests sent, "
            f"{throttled} MailboxConcurrency 429s; floor {floor:.2f} s "
            f"({sub_writes} write sub-requests x {LATENCY} s / 4 + {g['GET']} reads x {LATENCY} s)"
        )
        print(
            f"  target: wall <= 1.3 x floor ({1.3 * floor:.2f} s): "
            f"{figures.seconds / floor:.2f} x {verdict(figures.seconds <= 1.3 * floor)}; "
            f"0 concurrency 429s: {verdict(throttled == 0)}"
        )


def run_benchmark(scratch: Path) -> None:
    sizes = (2000, 1000)
    results: dict[int, tuple[Figures, Figures]] = {}
    with FakeMicrosoft() as fake:
        fake.max_page_size = 1000  # Graph's own cap for calendarView pages
        django_setup(fake, scratch)
        for events in sizes:
            email = f"bench-{events}-{uuid.uuid4().hex[:8]}@example.com"
            configuration = connect(fake, email)
            seed(fake, email, events)
            first = measure(fake, configuration, events)
            again = measure(fake, configuration, events)
            results[events] = (first, again)
            report(f"{events:,} events, first run", first)
            report(f"{events:,} events, re-run   ", again)
            if first.fetched != events:
                raise SystemExit(f"expected {events} events in the window, got {first.fetched}")
            copies = len(fake.events(email, "Archive"))
            allowed = events / 15
            print(
                f"  target: first run <= {allowed:.0f} write requests (1 per 15 events): "
                f"{first.write_requests} ({first.write_requests / events:.4f} per event, "
                f"{copies:,} copies) {verdict(first.write_requests <= allowed)}"
            )
            print(
                f"  target: re-run only reads: {again.graph['GET']} reads, "
                f"{again.write_requests} writes "
                f"{verdict(again.write_requests == 0 and again.graph['batched POST'] == 0)}"
            )
            print()
    small, big = (results[size] for size in sorted(sizes))
    for run, title in ((0, "first run"), (1, "re-run")):
        growth = (big[run].total_queries - small[run].total_queries) / (
            big[run].events - small[run].events
        )
        print(
            f"database queries, {title}: {small[run].events:,} events {small[run].total_queries}, "
            f"{big[run].events:,} events {big[run].total_queries}: "
            f"{growth:.3f} more per extra event"
        )
        kinds = sorted(set(small[run].query_kinds) | set(big[run].query_kinds))
        for kind in kinds:
            print(f"  {kind:<20} {small[run].query_kinds[kind]:>4} {big[run].query_kinds[kind]:>5}")
        print(
            "  target: the query count does not follow the number of events "
            f"(at most 1 more query per 10 more events): {verdict(growth <= 0.1)}"
        )


if __name__ == "__main__":
    main()
