"""Microsoft's ceiling: one mailbox with 10,000 events to copy, against Graph's own limits.

    .venv/bin/python benchmarks/graph_ceiling.py [--events 10000] [--speed 5] [--latency 0.1]

The fake Graph enforces Outlook's documented per-app-and-mailbox limits strictly
(tests/fakes/limits.py and microsoft.py): 4 concurrent requests, 10,000 requests in 10 minutes,
each item of a $batch counted singly, throttled requests counted too. The real Graph client
reads the source calendar (calendarView pages) and copies every event with $batch writes, as
an archive run does; its pacing (foundations.http.RequestPace) and retries do the rest.

The clock is scaled for speed: with `--speed 5` the fake's 10-minute window lasts 120 s and
each request (each wave of 4 batch items) takes latency / 5, so Graph's 10 minutes take two
here. The client must outrun the ceiling for the ceiling to be what is measured: the line
"paced" says how long it waited for the window (0 s means the client itself was the limit).
Every figure is converted back to Graph's own time and printed with the factor. The ceiling
is 10,000 requests per 10 minutes = 1,000 per minute; the target is at least 90 % of it in
copies per minute, with no throttling error reaching the user.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archiving.gateway import SOURCE_ID_PROPERTY
from foundations.graph import GraphClient, RequestPace, transaction_id
from tests.fakes.limits import REQUESTS_PER_WINDOW, WINDOW_SECONDS
from tests.fakes.microsoft import FakeMicrosoft

EMAIL = "ceiling@example.com"
START = datetime(2025, 5, 1, tzinfo=UTC)
DAYS = 30
TARGET = 0.9


def iso(moment: datetime) -> dict[str, str]:
    return {"dateTime": moment.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"}


def copy_body(event: dict, n: int) -> dict:
    return {
        "subject": event["subject"],
        "start": event["start"],
        "end": event["end"],
        "transactionId": transaction_id("ceiling", n),
        "singleValueExtendedProperties": [{"id": SOURCE_ID_PROPERTY, "value": event["id"]}],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--speed", type=float, default=5.0, help="clock scale (1 = real time)")
    parser.add_argument("--latency", type=float, default=0.1, help="Graph seconds per request")
    options = parser.parse_args()
    speed = options.speed
    window = WINDOW_SECONDS / speed
    with FakeMicrosoft() as fake:
        fake.max_page_size = 1000  # Graph's own cap for calendarView pages
        fake.latency = options.latency / speed
        fake.request_limit.window = window
        fake.add_user(EMAIL, name="Ceiling")
        step = timedelta(days=DAYS) / options.events
        for n in range(options.events):
            fake.add_event(
                EMAIL,
                subject=f"Meeting {n}",
                start=iso(START + step * n),
                end=iso(START + step * n + step / 2),
            )
        token = fake.sign_in(EMAIL, ("Calendars.ReadWrite",))["access_token"]
        client = GraphClient(
            base_url=fake.graph_url,
            token=lambda refresh: token,
            session=fake.http_session(),
            pace=RequestPace(window=window),
        )
        archive = client.create_calendar("Archive")
        began = time.perf_counter()
        events = list(client.calendar_view(None, START, START + timedelta(days=DAYS)))
        results = client.create_events(
            archive["id"], [copy_body(event, n) for n, event in enumerate(events)]
        )
        seconds = time.perf_counter() - began
        copied = sum(result.ok for result in results)
        failed = len(results) - copied
        throttled = fake.request_limit.throttled + fake.mailbox_throttled
        in_archive = len(fake.events(EMAIL, "Archive"))

    graph_minutes = seconds * speed / 60
    per_minute = copied / graph_minutes
    ceiling = REQUESTS_PER_WINDOW / (WINDOW_SECONDS / 60)
    share = per_minute / ceiling
    print(
        f"clock x{speed:g}: Graph's 10-minute window lasts {window:.0f} s here, a request "
        f"{options.latency * 1000:.0f} ms of Graph time ({options.latency / speed * 1000:.0f} ms "
        "here); figures below are in Graph time"
    )
    print(
        f"{len(events):,} events read, {copied:,} copied ({in_archive:,} in the archive "
        f"calendar) in {graph_minutes:.1f} Graph minutes ({seconds:.0f} s here): "
        f"{client.requests_sent:,} HTTP requests, paced {client.pace.waited * speed:.0f} s"
    )
    print(
        f"copies per minute: {per_minute:,.0f}, ceiling {ceiling:,.0f} requests per minute "
        f"(10,000 per 10 minutes, batch items counted singly): {share:.0%} of it "
        f"(target >= {TARGET:.0%}: {'met' if share >= TARGET else 'MISSED'})"
    )
    print(
        f"throttled by the fake: {throttled}; throttling errors reaching the user: {failed} "
        f"(target 0: {'met' if failed == 0 else 'MISSED'})"
    )
    if share < TARGET or failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
