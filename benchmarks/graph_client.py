"""Graph client speed against the fake Graph: a 30-day calendarView of 2,000 events, and
1,000 event writes in $batch requests.

    .venv/bin/python benchmarks/graph_client.py

Prints requests issued and wall time for each. Target: writes take at most 1/15 of the
requests of one request per event.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archiving.gateway import SOURCE_ID_PROPERTY
from benchmarks import seeding
from foundations.graph import GraphClient, transaction_id
from tests.fakes.microsoft import FakeMicrosoft

EMAIL = "bench@example.com"
START = datetime(2025, 5, 1, tzinfo=UTC)
READ_EVENTS = 2000
WRITE_EVENTS = 1000


def main() -> None:
    with FakeMicrosoft() as fake:
        fake.max_page_size = 1000  # Graph's own cap for calendarView pages
        fake.add_user(EMAIL, name="Bench Mark")
        # 2,000 events over 30 days
        seeding.events_seed(fake, EMAIL, READ_EVENTS, start=START, every=timedelta(minutes=21))
        token = fake.sign_in(EMAIL, ("Calendars.ReadWrite",))["access_token"]
        client = GraphClient(
            base_url=fake.graph_url, token=lambda refresh: token, session=fake.http_session()
        )

        began = time.perf_counter()
        events = list(client.calendar_view(None, START, START + timedelta(days=30)))
        read_seconds = time.perf_counter() - began
        read_requests = client.requests_sent
        assert len(events) == READ_EVENTS, len(events)

        archive = client.create_calendar("Archive")
        client.requests_sent = 0
        bodies = [
            {
                "subject": f"Copy {n}",
                "start": seeding.graph_time(START + timedelta(hours=n)),
                "end": seeding.graph_time(START + timedelta(hours=n, minutes=30)),
                "transactionId": transaction_id("bench", n),
                "singleValueExtendedProperties": [{"id": SOURCE_ID_PROPERTY, "value": str(n)}],
            }
            for n in range(WRITE_EVENTS)
        ]
        began = time.perf_counter()
        results = client.create_events(archive["id"], bodies)
        write_seconds = time.perf_counter() - began
        write_requests = client.requests_sent
        assert sum(r.ok for r in results) == WRITE_EVENTS

    ratio = write_requests / WRITE_EVENTS
    print(
        f"read  {READ_EVENTS} events (30-day calendarView): {read_requests} requests, "
        f"{read_seconds:.2f} s"
    )
    print(
        f"write {WRITE_EVENTS} events ($batch):               {write_requests} requests, "
        f"{write_seconds:.2f} s"
    )
    print(
        f"write requests per event: {ratio:.3f} (target <= {1 / 15:.3f}: "
        f"{'met' if ratio <= 1 / 15 else 'MISSED'})"
    )


if __name__ == "__main__":
    main()
