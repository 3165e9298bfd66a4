"""The archive calendar's gateway on its own, against the fake Graph: one call per chunk creates
copies that carry their source id, and a copy made before is adopted, never duplicated."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.models import User
from archiving.gateway import SOURCE_ID_PROPERTY, ArchiveGateway, CopyRequest, CopyState
from foundations.graph import GraphClient
from tests.fakes.microsoft import FakeMicrosoft

pytestmark = pytest.mark.django_db(databases=["default", "web"])


def body(n: int, subject: str | None = None) -> dict[str, Any]:
    return {
        "subject": subject or f"Acme review {n}",
        "start": {"dateTime": f"2025-05-08T{9 + n:02d}:00:00", "timeZone": "UTC"},
        "end": {"dateTime": f"2025-05-08T{9 + n:02d}:30:00", "timeZone": "UTC"},
        "isAllDay": False,
        "categories": ["Acme - billable"],
    }


@pytest.fixture
def gateway(alice_graph: GraphClient) -> ArchiveGateway:
    return ArchiveGateway(alice_graph, alice_graph.create_calendar("Archive")["id"])


def test_one_call_creates_the_chunk_and_each_copy_carries_its_source_id(
    gateway: ArchiveGateway, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    outcomes = gateway.copies_create([CopyRequest(f"source-{n}", body(n)) for n in range(3)])

    assert [o.state for o in outcomes] == [CopyState.CREATED] * 3
    copies = fake_alice.events(connected_alice.email, "Archive")
    assert sorted(c["subject"] for c in copies) == [
        "Acme review 0",
        "Acme review 1",
        "Acme review 2",
    ]
    assert [e["id"] for e in gateway.copies_find("source-1")] == [outcomes[1].event_id]
    assert gateway.copies_find("source-1")[0]["singleValueExtendedProperties"] == [
        {"id": SOURCE_ID_PROPERTY, "value": "source-1"}
    ]


def test_the_same_copy_sent_again_comes_back_as_the_one_made_before(
    gateway: ArchiveGateway, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    first = gateway.copies_create([CopyRequest("source-0", body(0))])

    again = gateway.copies_create([CopyRequest("source-0", body(0))])

    assert again[0].event_id == first[0].event_id
    assert len(fake_alice.events(connected_alice.email, "Archive")) == 1


def test_a_changed_copy_refused_as_a_duplicate_is_adopted_by_its_source_id_as_stale(
    gateway: ArchiveGateway, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    first = gateway.copies_create([CopyRequest("source-0", body(0))])

    again = gateway.copies_create([CopyRequest("source-0", body(0, subject="Renamed"))])

    assert (again[0].state, again[0].event_id, again[0].stale) == (
        CopyState.ADOPTED,
        first[0].event_id,
        True,
    )
    assert len(fake_alice.events(connected_alice.email, "Archive")) == 1


def test_an_update_brings_the_copy_up_to_date_and_a_missing_copy_is_an_error(
    gateway: ArchiveGateway, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    made = gateway.copies_create([CopyRequest("source-0", body(0))])[0]

    outcomes = gateway.copies_update(
        [
            CopyRequest("source-0", body(0, subject="Renamed"), event_id=made.event_id),
            CopyRequest("source-9", body(9), event_id="no-such-event"),
        ]
    )

    assert [o.state for o in outcomes] == [CopyState.UPDATED, CopyState.FAILED]
    assert outcomes[1].error is not None and outcomes[1].error.status == 404
    assert [c["subject"] for c in fake_alice.events(connected_alice.email, "Archive")] == [
        "Renamed"
    ]
