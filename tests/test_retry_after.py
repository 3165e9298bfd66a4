"""Retry-After is honoured as sent, within a per-run budget; upload fragments are retried and
resumed from the session's nextExpectedRanges (driveitem-createuploadsession.md)."""

from __future__ import annotations

import pytest

from accounts.microsoft import graph_client
from accounts.models import User
from foundations.graph import (
    BatchRequest,
    GraphClient,
    GraphRetryBudgetExceeded,
    RetryPolicy,
)
from tests.fakes.microsoft import FakeMicrosoft
from tests.microsoft_helpers import RecordedSleep

pytestmark = pytest.mark.django_db(databases=["default", "web"])

BIG = bytes(range(256)) * (5 * 4096 + 7)  # a little over 5 MiB: two fragments


def test_a_long_retry_after_is_waited_in_full(
    alice_graph: GraphClient, fake_alice: FakeMicrosoft, recorded_sleep: RecordedSleep
) -> None:
    fake_alice.inject(status=429, retry_after=300, path_contains="/calendars")

    alice_graph.list_calendars()

    assert recorded_sleep.waits == [300]


def test_a_wait_beyond_the_run_budget_stops_with_a_resumable_error(
    connected_alice: User, fake_alice: FakeMicrosoft, recorded_sleep: RecordedSleep
) -> None:
    client = graph_client(user=connected_alice, retry=RetryPolicy(sleep=recorded_sleep, budget=120))
    fake_alice.inject(status=429, retry_after=300, path_contains="/calendars")

    with pytest.raises(GraphRetryBudgetExceeded, match="run it again later"):
        client.list_calendars()

    assert recorded_sleep.waits == []


def test_a_lowercase_retry_after_in_a_batch_answer_is_honoured(
    alice_graph: GraphClient, fake_alice: FakeMicrosoft, recorded_sleep: RecordedSleep
) -> None:
    fake_alice.inject(status=429, retry_after=7, path_contains="/events", method="POST")

    event = {
        "subject": "x",
        "start": {"dateTime": "2025-06-02T09:00:00", "timeZone": "UTC"},
        "end": {"dateTime": "2025-06-02T10:00:00", "timeZone": "UTC"},
    }
    [response] = alice_graph.batch([BatchRequest("POST", "/me/events", body=event)])

    assert response.ok
    assert recorded_sleep.waits == [7]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_an_upload_fragment_answered_5xx_is_retried(
    alice_graph: GraphClient, fake_alice: FakeMicrosoft, connected_alice: User, status: int
) -> None:
    fake_alice.inject(status=status, path_contains="/_upload/", method="PUT", on_request=2)

    alice_graph.upload_file("Timesheets/big.xlsx", BIG)

    assert fake_alice.files(connected_alice.email)["Timesheets/big.xlsx"] == BIG


def test_a_fragment_whose_answer_was_lost_is_resumed_from_next_expected_ranges(
    alice_graph: GraphClient, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    fake_alice.inject(lose_reply=True, path_contains="/_upload/", method="PUT")

    alice_graph.upload_file("Timesheets/big.xlsx", BIG)

    assert fake_alice.files(connected_alice.email)["Timesheets/big.xlsx"] == BIG
    assert fake_alice.graph_requests(path_contains="/_upload/", method="GET")


def test_a_lost_answer_to_the_last_fragment_finds_the_finished_file(
    alice_graph: GraphClient, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    fake_alice.inject(lose_reply=True, path_contains="/_upload/", method="PUT", on_request=2)

    item = alice_graph.upload_file("Timesheets/big.xlsx", BIG)

    assert item["size"] == len(BIG)
    assert fake_alice.files(connected_alice.email)["Timesheets/big.xlsx"] == BIG


def test_the_fake_answers_416_for_a_fragment_it_already_has(
    fake_alice: FakeMicrosoft, alice: User
) -> None:
    session = fake_alice.http_session()
    token = fake_alice.sign_in(alice.email)["access_token"]
    created = session.post(
        f"{fake_alice.graph_url}/me/drive/root:/a.bin:/createUploadSession",
        json={},
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    fragment = b"x" * 327680
    headers = {"Content-Range": f"bytes 0-{len(fragment) - 1}/{2 * len(fragment)}"}

    first = session.put(created["uploadUrl"], data=fragment, headers=headers)
    again = session.put(created["uploadUrl"], data=fragment, headers=headers)

    assert (first.status_code, again.status_code) == (202, 416)
    assert session.get(created["uploadUrl"]).json()["nextExpectedRanges"] == [f"{len(fragment)}-"]
