"""The archive run against the fake Graph: what lands in the database and the archive calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from accounts.models import User
from archiving.gateway import SOURCE_ID_PROPERTY
from archiving.models import ArchiveConfiguration
from archiving.run import ArchiveRunError
from auditing.models import ActionLog, AuditLog
from calendars.models import Appointment, Calendar, Location
from tests.archive_helpers import add_event, archive_copies, run_archive
from tests.factories import ArchiveConfigurationFactory
from tests.fakes.microsoft import FakeMicrosoft

pytestmark = pytest.mark.django_db(databases=["default", "web"])


@pytest.fixture
def config(connected_alice: User) -> ArchiveConfiguration:
    return ArchiveConfigurationFactory(user=connected_alice)


def test_a_run_stores_each_appointment_with_its_billing_and_outlook_fields(
    config: ArchiveConfiguration, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    add_event(
        fake_alice,
        connected_alice,
        "Acme design review",
        "2025-05-08T10:00",
        90,
        categories=["Online", "Acme - Billable"],
        location={"displayName": "Acme HQ"},
        importance="high",
        showAs="busy",
    )

    result = run_archive(config)

    appointment = Appointment.objects.get(user=connected_alice)
    assert result.status == "success"
    assert appointment.subject == "Acme design review"
    assert appointment.start_time == datetime(2025, 5, 8, 9, 0, tzinfo=UTC)  # 10:00 BST
    assert appointment.end_time == datetime(2025, 5, 8, 10, 30, tzinfo=UTC)
    assert (appointment.customer, appointment.billing_type) == ("Acme", "billable")
    assert appointment.category.name == "Acme - Billable"
    assert appointment.categories == ["Online", "Acme - Billable"]
    assert appointment.location.name == "Acme HQ"
    assert (appointment.importance, appointment.show_as) == ("high", "busy")
    assert appointment.is_archived
    assert appointment.calendar.name == "Calendar"
    assert appointment.ms_event_data["subject"] == "Acme design review"


def test_a_run_copies_to_the_archive_calendar_with_the_source_id_and_no_attendees(
    config: ArchiveConfiguration, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    source = add_event(
        fake_alice,
        connected_alice,
        "Acme workshop",
        "2025-05-08T14:00",
        attendees=[{"emailAddress": {"address": "client@acme.test"}, "type": "required"}],
        isReminderOn=True,
    )

    run_archive(config)

    [copy] = archive_copies(fake_alice, connected_alice)
    assert copy["subject"] == "Acme workshop"
    assert not copy.get("attendees")
    assert copy["isReminderOn"] is False
    assert copy["singleValueExtendedProperties"] == [
        {"id": SOURCE_ID_PROPERTY, "value": source["id"]}
    ]
    assert Calendar.objects.get(user=connected_alice, is_archive=True).name == "Billable Archive"
    assert Appointment.objects.get().archive_copies.get().event_id == copy["id"]


def test_an_uncategorised_appointment_is_personal_and_copied_as_private(
    config: ArchiveConfiguration, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    add_event(fake_alice, connected_alice, "Dentist", "2025-05-08T08:00", categories=[])

    run_archive(config)

    [copy] = archive_copies(fake_alice, connected_alice)
    appointment = Appointment.objects.get()
    assert copy["sensitivity"] == "private"
    assert appointment.customer is None
    assert not ActionLog.objects.filter(event_type="uncategorised").exists()


def test_an_invalid_category_opens_one_action_item(
    config: ArchiveConfiguration, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    add_event(
        fake_alice, connected_alice, "Acme call", "2025-05-08T08:00", categories=["Acme-billable"]
    )

    run_archive(config)
    run_archive(config)

    item = ActionLog.objects.get(event_type="uncategorised")
    assert "Acme call" in item.description
    assert "has no billing category" in item.description
    assert item.details["categories"] == ["Acme-billable"]


def test_free_appointments_are_stored_but_not_copied(
    config: ArchiveConfiguration, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    add_event(fake_alice, connected_alice, "Focus time", "2025-05-08T09:00", showAs="free")

    result = run_archive(config)

    assert Appointment.objects.get().show_as == "free"
    assert archive_copies(fake_alice, connected_alice) == []
    assert result.counts.not_copied == 1


def test_locations_are_reused_by_name(
    config: ArchiveConfiguration, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    for hour in (9, 11, 14):
        add_event(
            fake_alice,
            connected_alice,
            f"Meeting {hour}",
            f"2025-05-08T{hour:02d}:00",
            location={"displayName": "Acme HQ"},
        )

    run_archive(config)

    assert Location.objects.filter(user=connected_alice).count() == 1


def test_the_source_calendar_is_the_configured_one_not_the_default(
    connected_alice: User, fake_alice: FakeMicrosoft
) -> None:
    fake_alice.add_calendar(connected_alice.email, "Consulting")
    add_event(fake_alice, connected_alice, "In the default", "2025-05-08T09:00")
    add_event(
        fake_alice, connected_alice, "In consulting", "2025-05-08T11:00", calendar="Consulting"
    )
    config = ArchiveConfigurationFactory(
        user=connected_alice, source_calendar_uri="msgraph://calendars/consulting"
    )

    run_archive(config)

    assert list(Appointment.objects.values_list("subject", flat=True)) == ["In consulting"]


def test_a_missing_source_calendar_fails_clearly_and_is_audited(
    connected_alice: User, fake_alice: FakeMicrosoft
) -> None:
    config = ArchiveConfigurationFactory(
        user=connected_alice, source_calendar_uri="msgraph://calendars/Nope"
    )

    with pytest.raises(ArchiveRunError, match="The source calendar “Nope” does not exist"):
        run_archive(config)

    run = AuditLog.objects.get(action_type="archive", operation="run")
    assert run.status == "failure"
    assert "does not exist" in run.message


def test_cancelled_occurrences_are_skipped_and_counted(
    config: ArchiveConfiguration, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    master = add_event(
        fake_alice,
        connected_alice,
        "Acme stand-up",
        "2025-05-05T09:00",
        15,
        type="seriesMaster",
        recurrence={
            "pattern": {"type": "daily", "interval": 1},
            "range": {"type": "endDate", "startDate": "2025-05-05", "endDate": "2025-05-09"},
        },
    )
    fake_alice.cancel_occurrence(master["id"], "2025-05-07")

    result = run_archive(config, date(2025, 5, 5), date(2025, 5, 9))

    subjects = list(Appointment.objects.order_by("start_time").values_list("start_time", flat=True))
    assert len(subjects) == 4
    assert result.counts.cancelled == 1
    assert len(archive_copies(fake_alice, connected_alice)) == 4


def test_a_weekly_series_across_the_clock_change_keeps_its_local_time(
    config: ArchiveConfiguration, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    add_event(
        fake_alice,
        connected_alice,
        "Acme weekly",
        "2025-03-24T09:00",
        30,
        type="seriesMaster",
        recurrence={
            "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
            "range": {"type": "numbered", "startDate": "2025-03-24", "numberOfOccurrences": 3},
        },
    )

    run_archive(config, date(2025, 3, 24), date(2025, 4, 7))

    starts = list(Appointment.objects.order_by("start_time").values_list("start_time", flat=True))
    assert [s.isoformat() for s in starts] == [
        "2025-03-24T09:00:00+00:00",  # GMT
        "2025-03-31T08:00:00+00:00",  # BST: still 09:00 in London
        "2025-04-07T08:00:00+00:00",
    ]


@pytest.mark.parametrize(
    ("zone", "day", "start", "end"),
    [
        ("Europe/London", date(2025, 3, 30), "2025-03-30T00:00:00Z", "2025-03-30T23:00:00Z"),
        ("Europe/London", date(2025, 10, 26), "2025-10-25T23:00:00Z", "2025-10-27T00:00:00Z"),
        ("Australia/Sydney", date(2025, 4, 6), "2025-04-05T13:00:00Z", "2025-04-06T14:00:00Z"),
        ("Australia/Sydney", date(2025, 10, 5), "2025-10-04T14:00:00Z", "2025-10-05T13:00:00Z"),
    ],
)
def test_a_day_window_is_the_local_day_on_clock_change_days(
    connected_alice: User, fake_alice: FakeMicrosoft, zone: str, day: date, start: str, end: str
) -> None:
    config = ArchiveConfigurationFactory(user=connected_alice, timezone=zone)

    run_archive(config, day)

    [view] = fake_alice.graph_requests(path_contains="calendarView")
    assert (view.query["startDateTime"], view.query["endDateTime"]) == (start, end)


def test_an_event_just_outside_the_local_day_is_not_archived(
    connected_alice: User, fake_alice: FakeMicrosoft
) -> None:
    config = ArchiveConfigurationFactory(user=connected_alice, timezone="Australia/Sydney")
    add_event(fake_alice, connected_alice, "Late", "2025-04-06T23:30", 30, zone="Australia/Sydney")
    add_event(
        fake_alice, connected_alice, "Next day", "2025-04-07T00:00", 30, zone="Australia/Sydney"
    )

    run_archive(config, date(2025, 4, 6))

    assert list(Appointment.objects.values_list("subject", flat=True)) == ["Late"]


def test_an_extended_meeting_is_archived_with_its_new_end_and_the_note_is_not(
    config: ArchiveConfiguration, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    add_event(fake_alice, connected_alice, "Acme review", "2025-05-08T10:00", 120)
    add_event(fake_alice, connected_alice, "Extended", "2025-05-08T12:00", 30)

    result = run_archive(config)

    appointment = Appointment.objects.get()
    assert appointment.subject == "Acme review"
    assert appointment.end_time == datetime(2025, 5, 8, 11, 30, tzinfo=UTC)  # 12:30 BST
    assert result.counts.modifications == 1
    [copy] = archive_copies(fake_alice, connected_alice)
    assert copy["end"]["dateTime"].startswith("2025-05-08T11:30")


def test_travel_appointments_are_marked_for_their_customer(
    config: ArchiveConfiguration, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    add_event(fake_alice, connected_alice, "Drive to Acme", "2025-05-08T08:00")
    add_event(fake_alice, connected_alice, "Workstation setup", "2025-05-08T10:00")

    run_archive(config)

    travel = dict(Appointment.objects.values_list("subject", "is_travel"))
    assert travel == {"Drive to Acme": True, "Workstation setup": False}


def test_the_run_is_one_parent_audit_row_with_a_child_per_batch(
    config: ArchiveConfiguration, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    for n in range(3):
        add_event(fake_alice, connected_alice, f"Meeting {n}", f"2025-05-08T{9 + 2 * n:02d}:00")

    result = run_archive(config)

    parent = AuditLog.objects.get(pk=result.audit_id)
    assert (parent.action_type, parent.operation, parent.status) == ("archive", "run", "success")
    assert parent.request_data["dates"] == "2025-05-08"
    assert parent.details["fetched"] == 3
    assert parent.details["copied"] == 3
    children = list(parent.children.all())
    assert [c.operation for c in children] == ["copy_create"]
    assert all(c.correlation_id == parent.correlation_id for c in children)


def test_a_run_for_another_users_configuration_uses_that_users_mailbox(
    config: ArchiveConfiguration, fake_alice: FakeMicrosoft, connected_alice: User, bob: User
) -> None:
    fake_alice.add_user(bob.email)
    add_event(fake_alice, bob, "Bob's meeting", "2025-05-08T09:00")
    add_event(fake_alice, connected_alice, "Alice's meeting", "2025-05-08T09:00")

    run_archive(config)

    assert list(Appointment.objects.values_list("subject", "user")) == [
        ("Alice's meeting", connected_alice.pk)
    ]
