"""The Graph client against the fake: paging, batches, retries, typed errors, uploads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from accounts.microsoft import graph_client
from accounts.models import User
from archiving.gateway import SOURCE_ID_PROPERTY, ArchiveGateway
from foundations.graph import (
    GraphClient,
    GraphConnectionError,
    GraphNotFoundError,
    GraphThrottledError,
    RetryPolicy,
    transaction_id,
)
from tests.fakes.microsoft import FakeMicrosoft
from tests.microsoft_helpers import RecordedSleep

pytestmark = pytest.mark.django_db(databases=["default", "web"])

MAY_8 = datetime(2025, 5, 8, tzinfo=UTC)


def seed_events(fake: FakeMicrosoft, email: str, count: int, calendar: str = "Calendar") -> None:
    for n in range(count):
        start = MAY_8 + timedelta(minutes=10 * n)
        fake.add_event(
            email,
            calendar,
            subject=f"Event {n}",
            start={"dateTime": start.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
            end={
                "dateTime": (start + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S"),
                "timeZone": "UTC",
            },
        )


def new_event(n: int) -> dict:
    start = MAY_8 + timedelta(hours=n)
    return {
        "subject": f"Copy {n}",
        "start": {"dateTime": start.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
        "end": {
            "dateTime": (start + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%S"),
            "timeZone": "UTC",
        },
        "transactionId": transaction_id("test", n),
        "singleValueExtendedProperties": [{"id": SOURCE_ID_PROPERTY, "value": f"source-{n}"}],
    }


def test_calendar_view_follows_every_next_link(
    alice_graph: GraphClient, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    fake_alice.max_page_size = 10
    seed_events(fake_alice, connected_alice.email, 125)

    events = list(alice_graph.calendar_view(None, MAY_8, MAY_8 + timedelta(days=1)))

    assert [e["subject"] for e in events] == [f"Event {n}" for n in range(125)]
    assert len(fake_alice.graph_requests(path_contains="calendarView")) == 13


def test_calendar_view_refuses_naive_datetimes(alice_graph: GraphClient) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        list(alice_graph.calendar_view(None, datetime(2025, 5, 8), datetime(2025, 5, 9)))


def test_every_request_asks_for_immutable_ids_and_the_time_zone(
    connected_alice: User, fake_alice: FakeMicrosoft, recorded_sleep: RecordedSleep
) -> None:
    before = len(fake_alice.graph_requests())
    client = graph_client(user=connected_alice)
    client.list_calendars()
    client.create_events(client.resolve_calendar("Calendar")["id"], [new_event(1)])

    graph = fake_alice.graph_requests()[before:]
    assert graph
    assert all(r.prefer.get("IdType") == "ImmutableId" for r in graph)
    # Asked in UTC: Graph refuses most IANA names (resources/datetimetimezone.md).
    assert all(r.prefer.get("outlook.timezone") == "UTC" for r in graph)


def test_45_writes_go_in_3_batches(
    alice_graph: GraphClient, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    calendar = alice_graph.create_calendar("Archive")

    results = alice_graph.create_events(calendar["id"], [new_event(n) for n in range(45)])

    assert all(r.status == 201 for r in results)
    assert [r.body["subject"] for r in results] == [f"Copy {n}" for n in range(45)]
    assert len(fake_alice.graph_requests(path_contains="$batch", method="POST")) == 3
    assert len(fake_alice.events(connected_alice.email, "Archive")) == 45


def test_the_same_transaction_ids_never_duplicate_events(
    alice_graph: GraphClient, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    calendar = alice_graph.create_calendar("Archive")
    first = alice_graph.create_events(calendar["id"], [new_event(n) for n in range(5)])

    again = alice_graph.create_events(calendar["id"], [new_event(n) for n in range(5)])

    assert [r.body["id"] for r in again] == [r.body["id"] for r in first]
    assert len(fake_alice.events(connected_alice.email, "Archive")) == 5


def test_events_are_found_by_their_source_id(alice_graph: GraphClient) -> None:
    calendar = alice_graph.create_calendar("Archive")
    alice_graph.create_events(calendar["id"], [new_event(n) for n in range(3)])

    found = ArchiveGateway(alice_graph, calendar["id"]).copies_find("source-1")

    assert [e["subject"] for e in found] == ["Copy 1"]


def test_429_waits_for_retry_after_and_then_succeeds(
    alice_graph: GraphClient, fake_alice: FakeMicrosoft, recorded_sleep: RecordedSleep
) -> None:
    fake_alice.inject(status=429, retry_after=7, path_contains="/calendars", times=2)

    calendars = alice_graph.list_calendars()

    assert [c["name"] for c in calendars] == ["Calendar"]
    assert recorded_sleep.waits == [7.0, 7.0]


def test_retry_after_as_an_http_date_is_honoured(
    connected_alice: User, fake_alice: FakeMicrosoft, recorded_sleep: RecordedSleep
) -> None:
    now = datetime(2025, 5, 8, 12, 0, 0, tzinfo=UTC)
    policy = RetryPolicy(sleep=recorded_sleep, now=now.timestamp)
    client = graph_client(user=connected_alice, retry=policy)
    fake_alice.inject(
        status=503,
        retry_after=format_datetime(now + timedelta(seconds=12), usegmt=True),
        path_contains="/calendars",
    )

    client.list_calendars()

    assert recorded_sleep.waits == [12.0]


def test_503_without_retry_after_backs_off_and_then_succeeds(
    alice_graph: GraphClient, fake_alice: FakeMicrosoft, recorded_sleep: RecordedSleep
) -> None:
    fake_alice.inject(status=503, path_contains="/calendars", times=3)

    alice_graph.list_calendars()

    assert len(recorded_sleep.waits) == 3
    assert recorded_sleep.waits[0] <= 1.0 < recorded_sleep.waits[2] <= 4.0


def test_a_persistent_503_ends_in_a_typed_error_after_bounded_attempts(
    alice_graph: GraphClient, fake_alice: FakeMicrosoft, recorded_sleep: RecordedSleep
) -> None:
    fault = fake_alice.inject(status=503, path_contains="/calendars", times=None)

    with pytest.raises(GraphThrottledError, match="answered 503") as raised:
        alice_graph.list_calendars()

    assert raised.value.status == 503
    assert fault.hits == alice_graph.retry.max_attempts
    assert len(recorded_sleep.waits) == alice_graph.retry.max_attempts - 1


def test_a_dropped_connection_is_retried(
    alice_graph: GraphClient, fake_alice: FakeMicrosoft, recorded_sleep: RecordedSleep
) -> None:
    fake_alice.inject(drop=True, path_contains="/calendars")

    assert alice_graph.list_calendars()
    assert len(recorded_sleep.waits) == 1


def test_connections_that_keep_dropping_end_in_a_typed_error(
    alice_graph: GraphClient, fake_alice: FakeMicrosoft
) -> None:
    fake_alice.inject(drop=True, path_contains="/calendars", times=None)

    with pytest.raises(GraphConnectionError, match="failed after 6 attempts"):
        alice_graph.list_calendars()


def test_a_slow_answer_past_the_timeout_is_retried(
    connected_alice: User, fake_alice: FakeMicrosoft, recorded_sleep: RecordedSleep
) -> None:
    client = graph_client(user=connected_alice, retry=RetryPolicy(sleep=recorded_sleep))
    client.timeout = (2.0, 0.3)
    fake_alice.inject(delay=1.0, path_contains="/calendars")

    assert client.list_calendars()
    assert len(recorded_sleep.waits) == 1


def test_a_throttled_item_inside_a_batch_is_sent_again(
    alice_graph: GraphClient,
    fake_alice: FakeMicrosoft,
    connected_alice: User,
    recorded_sleep: RecordedSleep,
) -> None:
    calendar = alice_graph.create_calendar("Archive")
    fake_alice.inject(
        status=429, retry_after=3, path_contains="/events", method="POST", on_request=5
    )

    results = alice_graph.create_events(calendar["id"], [new_event(n) for n in range(10)])

    assert all(r.status == 201 for r in results)
    assert recorded_sleep.waits == [3.0]
    assert len(fake_alice.events(connected_alice.email, "Archive")) == 10


def test_a_not_found_answer_is_an_error_not_an_empty_result(alice_graph: GraphClient) -> None:
    with pytest.raises(GraphNotFoundError, match="404"):
        list(alice_graph.calendar_view("no-such-calendar", MAY_8, MAY_8 + timedelta(days=1)))


@pytest.mark.parametrize(
    ("asked", "found"),
    [("Billable Archive", "Billable Archive"), ("  billable   ARCHIVE ", "Billable Archive")],
)
def test_calendars_resolve_by_exact_then_loose_name(
    alice_graph: GraphClient, asked: str, found: str
) -> None:
    alice_graph.create_calendar("Billable Archive")

    assert alice_graph.resolve_calendar(asked)["name"] == found


def test_calendars_resolve_by_id_and_unknown_names_give_none(alice_graph: GraphClient) -> None:
    created = alice_graph.create_calendar("Archive")

    assert alice_graph.resolve_calendar(created["id"])["name"] == "Archive"
    assert alice_graph.resolve_calendar("Nope") is None


def test_a_small_file_is_uploaded_in_one_request(
    alice_graph: GraphClient, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    item = alice_graph.upload_file("Timesheets/2025/May timesheet.pdf", b"%PDF-1.7 small")

    assert item["name"] == "May timesheet.pdf"
    assert fake_alice.files(connected_alice.email)["Timesheets/2025/May timesheet.pdf"] == (
        b"%PDF-1.7 small"
    )


def test_a_large_file_is_uploaded_through_an_upload_session(
    alice_graph: GraphClient, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    content = bytes(range(256)) * (5 * 4096 + 7)  # a little over 5 MiB

    alice_graph.upload_file("Timesheets/big.xlsx", content)

    assert fake_alice.files(connected_alice.email)["Timesheets/big.xlsx"] == content
    assert fake_alice.graph_requests(path_contains="createUploadSession")
