"""What Graph sends that the archive cannot keep as it is: an event dated outside the product's
range (Outlook allows 9999-12-31 and year 1) becomes an open action item for its owner, not a
row, and the rest of the run goes on; categories sent as null, missing, empty or with entries
that are not names are stored as none, and the run's audit trail says which events came so."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.models import User
from archiving.graph_events import UnreadableEvent, categories_as_sent, source_event_read
from auditing.models import ActionLog, AuditLog
from calendars.models import Appointment
from tests.archive_helpers import add_event, run_archive
from tests.factories import ArchiveConfigurationFactory
from tests.fakes.microsoft import FakeMicrosoft

pytestmark = pytest.mark.django_db(databases=["default", "web"])


def utc(text: str) -> dict[str, str]:
    return {"dateTime": text, "timeZone": "UTC"}


def odd_event(fake: FakeMicrosoft, user: User, subject: str, **fields: Any) -> dict[str, Any]:
    """An event as Outlook may hold it, seeded past the fake's own checks, as a raw store."""
    event = add_event(fake, user, subject, "2025-05-08T14:00:00")
    stored = fake.graph.mailbox(user.email).events[event["id"]]
    stored.data.update(fields)
    return event


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (utc("2025-05-08T09:00:00"), utc("9999-12-31T23:59:59")),
        (utc("0001-01-01T00:00:00"), utc("2025-05-08T10:00:00")),
        (
            {"dateTime": "9999-12-31T23:00:00", "timeZone": "America/New_York"},
            {"dateTime": "9999-12-31T23:30:00", "timeZone": "America/New_York"},
        ),
        ({"dateTime": "2025-05-08T09:00:00", "timeZone": "Nowhere/Atlantis"}, utc("x")),
        (None, utc("2025-05-08T10:00:00")),
    ],
)
def test_an_event_outside_the_dates_the_archive_keeps_cannot_be_read(start: Any, end: Any) -> None:
    read = source_event_read(
        {"id": "AAMk1", "subject": "Odd", "start": start, "end": end}, zone="UTC"
    )

    assert isinstance(read, UnreadableEvent)
    assert read.id == "AAMk1"


def test_an_event_within_the_range_reads_as_usual() -> None:
    read = source_event_read(
        {"id": "AAMk1", "start": utc("2200-12-31T09:00:00"), "end": utc("2200-12-31T10:00:00")},
        zone="UTC",
    )

    assert not isinstance(read, UnreadableEvent)
    assert read.start.year == 2200


def test_an_event_ending_on_9999_12_31_becomes_an_action_item_not_a_row(
    fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    configuration = ArchiveConfigurationFactory(user=connected_alice)
    add_event(fake_alice, connected_alice, "Acme workshop", "2025-05-08T10:00:00")
    odd = odd_event(
        fake_alice,
        connected_alice,
        "Forever",
        start=utc("2025-05-08T12:00:00"),
        end=utc("9999-12-31T23:59:59"),
    )

    run_archive(configuration)

    assert list(Appointment.objects.values_list("subject", flat=True)) == ["Acme workshop"]
    item = ActionLog.objects.get(event_type=ActionLog.EventType.UNREADABLE_EVENT)
    assert item.user == connected_alice
    assert item.key == odd["id"]
    assert "“Forever” in Outlook cannot be archived" in item.description
    assert "9999-12-31" in item.description
    skipped = AuditLog.objects.get(operation="events_skipped")
    assert skipped.status == AuditLog.Status.PARTIAL
    assert skipped.details["events"][0]["id"] == odd["id"]


def test_a_second_run_opens_no_second_item_and_a_corrected_event_closes_it(
    fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    configuration = ArchiveConfigurationFactory(user=connected_alice)
    odd = odd_event(fake_alice, connected_alice, "Forever", end=utc("9999-12-31T23:59:59"))
    run_archive(configuration)
    run_archive(configuration)
    assert ActionLog.objects.filter(event_type="unreadable_event").open().count() == 1

    fake_alice.graph.mailbox(connected_alice.email).events[odd["id"]].data["end"] = utc(
        "2025-05-08T15:00:00"
    )
    run_archive(configuration)

    item = ActionLog.objects.get(event_type=ActionLog.EventType.UNREADABLE_EVENT)
    assert item.state == ActionLog.State.RESOLVED
    assert Appointment.objects.get().subject == "Forever"


def test_a_dry_run_opens_no_item(fake_alice: FakeMicrosoft, connected_alice: User) -> None:
    configuration = ArchiveConfigurationFactory(user=connected_alice)
    odd_event(fake_alice, connected_alice, "Forever", end=utc("9999-12-31T23:59:59"))

    run_archive(configuration, dry_run=True)

    assert not ActionLog.objects.exists()
    assert not Appointment.objects.exists()


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"categories": ["Acme - billable"]}, None),
        ({"categories": None}, "null"),
        ({}, "missing"),
        ({"categories": []}, "empty"),
        ({"categories": "Acme - billable"}, "not a list"),
        ({"categories": [5, "Acme - billable"]}, "entries that are not names"),
        ({"categories": ["  "]}, "entries that are not names"),
    ],
)
def test_how_graph_sent_the_categories_is_named(graph: dict, expected: str | None) -> None:
    assert categories_as_sent(graph) == expected


@pytest.mark.parametrize(
    ("sent", "kind"),
    [(None, "null"), ([], "empty"), ([7, "  "], "entries that are not names")],
)
def test_events_without_usable_categories_are_stored_with_none_and_recorded(
    fake_alice: FakeMicrosoft, connected_alice: User, sent: Any, kind: str
) -> None:
    configuration = ArchiveConfigurationFactory(user=connected_alice)
    add_event(fake_alice, connected_alice, "Acme workshop", "2025-05-08T10:00:00")
    odd = odd_event(fake_alice, connected_alice, "Dentist", categories=sent)

    run_archive(configuration)

    dentist = Appointment.objects.get(subject="Dentist")
    assert dentist.categories == []
    assert dentist.customer is None
    entry = AuditLog.objects.get(operation="categories_absent")
    assert entry.user == connected_alice
    assert entry.details["counts"] == {kind: 1}
    assert entry.details["events"] == [
        {"id": odd["id"], "subject": "Dentist", "categories_sent": kind, "raw": sent}
    ]
    assert f"1 {kind}" in entry.message
    assert entry.parent_audit is not None
    assert entry.parent_audit.operation == "run"


def test_a_run_whose_events_all_have_categories_records_nothing_about_them(
    fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    configuration = ArchiveConfigurationFactory(user=connected_alice)
    add_event(fake_alice, connected_alice, "Acme workshop", "2025-05-08T10:00:00")

    run_archive(configuration)

    assert not AuditLog.objects.filter(operation="categories_absent").exists()
