"""Upgrading: the one copy an appointment used to hold becomes a copy in its destination."""

from __future__ import annotations

import pytest
from django.db import connections
from django.db.migrations.executor import MigrationExecutor

# Migrates the database back and forth.
pytestmark = [
    pytest.mark.django_db(databases=["default", "web"], transaction=True),
    pytest.mark.slow,
]

BEFORE = [("calendars", "0003_timesheet_billing"), ("archiving", "0002_archive_run_state")]
AFTER = [("calendars", "0004_archive_copies_per_destination")]


def migrate_to(targets: list[tuple[str, str]]):
    executor = MigrationExecutor(connections["default"])
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def latest_schema_afterwards():
    yield
    leaves = MigrationExecutor(connections["default"]).loader.graph.leaf_nodes()
    migrate_to(list(leaves))  # the other tests need today's schema back


def test_the_old_copy_columns_move_into_archive_copies_of_the_configured_destination(
    latest_schema_afterwards: None,
) -> None:
    old = migrate_to(BEFORE)
    User = old.get_model("accounts", "User")
    Calendar = old.get_model("calendars", "Calendar")
    Appointment = old.get_model("calendars", "Appointment")
    ArchiveConfiguration = old.get_model("archiving", "ArchiveConfiguration")
    alice = User.objects.create(email="alice@example.com", password="!")
    source = Calendar.objects.create(user=alice, name="Calendar", ms_calendar_id="src")
    Calendar.objects.create(user=alice, name="General", ms_calendar_id="gen", is_archive=True)
    billable = Calendar.objects.create(
        user=alice, name="Billable Archive", ms_calendar_id="bil", is_archive=True
    )
    ArchiveConfiguration.objects.create(
        user=alice,
        name="Daily",
        source_calendar_uri="msgraph://calendars/Calendar",
        destination_calendar_uri='msgraph://calendars/"Billable Archive"',
        timezone="Europe/London",
    )
    copied = Appointment.objects.create(
        user=alice,
        calendar=source,
        ms_event_id="evt-1",
        start_time="2025-05-08T09:00Z",
        end_time="2025-05-08T10:00Z",
        archive_event_id="copy-1",
        archive_digest="d" * 64,
    )
    Appointment.objects.create(
        user=alice,
        calendar=source,
        ms_event_id="evt-2",
        start_time="2025-05-08T11:00Z",
        end_time="2025-05-08T12:00Z",
    )

    new = migrate_to(AFTER)

    ArchiveCopy = new.get_model("archiving", "ArchiveCopy")
    assert list(
        ArchiveCopy.objects.values_list("appointment_id", "destination_id", "event_id")
    ) == [(copied.pk, billable.pk, "copy-1")]
    assert ArchiveCopy.objects.get().digest == "d" * 64
