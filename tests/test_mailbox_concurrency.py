"""Outlook allows 4 concurrent requests per app and mailbox (concepts/throttling-limits.md): the
fake answers 429 MailboxConcurrency beyond that, and the client stays within it by design."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta

import pytest
import requests

from accounts.models import User
from tests.archive_helpers import add_event, run_archive
from tests.factories import ArchiveConfigurationFactory
from tests.fakes.microsoft import FakeMicrosoft

pytestmark = pytest.mark.django_db(databases=["default", "web"])


def test_a_fifth_concurrent_request_to_one_mailbox_is_throttled(
    fake_alice: FakeMicrosoft, alice: User
) -> None:
    token = fake_alice.sign_in(alice.email)["access_token"]
    fake_alice.latency = 0.5
    session = fake_alice.http_session()

    def list_events(_: int) -> requests.Response:
        return session.get(
            f"{fake_alice.graph_url}/me/events", headers={"Authorization": f"Bearer {token}"}
        )

    with ThreadPoolExecutor(max_workers=5) as pool:
        statuses = sorted(response.status_code for response in pool.map(list_events, range(5)))

    assert statuses == [200, 200, 200, 200, 429]
    assert fake_alice.mailbox_throttled == 1


def test_a_batch_of_four_items_takes_all_four_slots(fake_alice: FakeMicrosoft, alice: User) -> None:
    token = fake_alice.sign_in(alice.email)["access_token"]
    fake_alice.latency = 0.5
    session = fake_alice.http_session()
    headers = {"Authorization": f"Bearer {token}"}
    items = [{"id": str(n), "method": "GET", "url": "/me/events"} for n in range(4)]

    def send(kind: str) -> int:
        if kind == "batch":
            url = f"{fake_alice.graph_url}/$batch"
            return session.post(url, json={"requests": items}, headers=headers).status_code
        return session.get(f"{fake_alice.graph_url}/me/calendars", headers=headers).status_code

    with ThreadPoolExecutor(max_workers=2) as pool:
        batch = pool.submit(send, "batch")
        while not fake_alice.graph_requests("/$batch"):
            pass
        single = pool.submit(send, "single")

    assert (batch.result(), single.result()) == (200, 429)


@pytest.mark.slow
def test_a_run_of_300_events_gets_no_concurrency_429s_and_sends_at_most_20_writes(
    fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    first = date(2025, 6, 2)
    for n in range(300):
        day = first + timedelta(days=n // 10)
        start = datetime(day.year, day.month, day.day, 8) + timedelta(minutes=45 * (n % 10))
        add_event(fake_alice, connected_alice, f"Meeting {n}", start.isoformat(), minutes=30)
    fake_alice.latency = 0.02
    configuration = ArchiveConfigurationFactory(user=connected_alice)

    result = run_archive(configuration, first, first + timedelta(days=29))

    assert result.status == "success", result.errors[:3]
    assert result.counts.fetched == 300
    assert fake_alice.mailbox_throttled == 0
    writes = [
        r
        for r in fake_alice.graph_requests()
        if not r.in_batch and r.method in {"POST", "PATCH", "DELETE", "PUT"}
    ]
    assert len(writes) <= 20
    assert len(fake_alice.events(connected_alice.email, "Billable Archive")) == 300
