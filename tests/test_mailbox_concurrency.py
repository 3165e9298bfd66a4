"""Outlook allows 4 concurrent requests and 10,000 requests in 10 minutes per app and mailbox
(concepts/throttling-limits.md): the fake answers 429 beyond either, and the client stays within
both by design."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import pytest
import requests

from accounts.models import User
from foundations.graph import GraphClient, RequestPace, transaction_id
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


# concepts/throttling-limits.md: 10,000 requests in 10 minutes per app and mailbox. The tests
# shrink the limit (a knob of the fake) to reach it quickly; the rule is the same.


def test_a_mailbox_past_its_request_limit_is_answered_429_with_retry_after(
    fake_alice: FakeMicrosoft, alice: User
) -> None:
    token = fake_alice.sign_in(alice.email)["access_token"]
    fake_alice.request_limit.limit = 3
    session = fake_alice.http_session()
    headers = {"Authorization": f"Bearer {token}"}

    answers = [session.get(f"{fake_alice.graph_url}/me/events", headers=headers) for _ in range(4)]

    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert answers[3].json()["error"]["code"] == "ApplicationThrottled"
    assert 1 <= int(answers[3].headers["Retry-After"]) <= 600


def test_each_item_of_a_batch_counts_against_the_request_limit(
    fake_alice: FakeMicrosoft, alice: User
) -> None:
    token = fake_alice.sign_in(alice.email)["access_token"]
    fake_alice.request_limit.limit = 5
    items = [{"id": str(n), "method": "GET", "url": "/me/events"} for n in range(8)]

    answer = fake_alice.http_session().post(
        f"{fake_alice.graph_url}/$batch",
        json={"requests": items},
        headers={"Authorization": f"Bearer {token}"},
    )

    statuses = sorted(item["status"] for item in answer.json()["responses"])
    assert answer.status_code == 200
    assert statuses == [200] * 5 + [429] * 3


def test_one_mailbox_over_its_request_limit_leaves_another_mailbox_alone(
    fake_alice: FakeMicrosoft, alice: User
) -> None:
    fake_alice.add_user("bob@example.com")
    alice_token = fake_alice.sign_in(alice.email)["access_token"]
    bob_token = fake_alice.sign_in("bob@example.com")["access_token"]
    fake_alice.request_limit.limit = 2
    session = fake_alice.http_session()

    def events(token: str) -> int:
        url = f"{fake_alice.graph_url}/me/events"
        return session.get(url, headers={"Authorization": f"Bearer {token}"}).status_code

    assert [events(alice_token) for _ in range(3)] == [200, 200, 429]
    assert events(bob_token) == 200


def test_the_graph_client_paces_a_mailbox_under_its_request_limit_and_copies_everything(
    fake_alice: FakeMicrosoft, alice: User
) -> None:
    token = fake_alice.sign_in(alice.email)["access_token"]
    fake_alice.request_limit.limit = 50
    fake_alice.request_limit.window = 1.0
    client = GraphClient(
        base_url=fake_alice.graph_url,
        token=lambda refresh: token,
        session=fake_alice.http_session(),
        pace=RequestPace(limit=50, window=1.0),
    )
    archive = client.create_calendar("Archive")
    start = datetime(2025, 6, 2, 9, tzinfo=UTC)
    bodies = [
        {
            "subject": f"Copy {n}",
            "start": {"dateTime": f"{(start + timedelta(hours=n)):%Y-%m-%dT%H:%M:%S}"},
            "end": {"dateTime": f"{(start + timedelta(hours=n, minutes=30)):%Y-%m-%dT%H:%M:%S}"},
            "transactionId": transaction_id("pace", n),
        }
        for n in range(120)
    ]
    for body in bodies:
        body["start"]["timeZone"] = body["end"]["timeZone"] = "UTC"

    results = client.create_events(archive["id"], bodies)

    assert [result.status for result in results] == [201] * 120
    assert len(fake_alice.events(alice.email, "Archive")) == 120
    assert fake_alice.request_limit.throttled == 0
