"""An archive copy belongs to a destination calendar: several configurations may archive one
source, each into its own calendar, and each copy follows its appointment."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.microsoft import graph_client
from accounts.models import User
from archiving.models import ArchiveConfiguration, ArchiveCopy
from calendars.models import Appointment
from tests.archive_helpers import add_event, run_archive, writes
from tests.factories import ArchiveConfigurationFactory
from tests.fakes.microsoft import FakeMicrosoft

pytestmark = pytest.mark.django_db(databases=["default", "web"])

GENERAL = 'msgraph://calendars/"General Archive"'
BILLABLE = 'msgraph://calendars/"Billable Archive"'


@pytest.fixture
def two_configurations(connected_alice: User) -> tuple[ArchiveConfiguration, ArchiveConfiguration]:
    return (
        ArchiveConfigurationFactory(
            user=connected_alice, name="General", destination_calendar_uri=GENERAL
        ),
        ArchiveConfigurationFactory(
            user=connected_alice, name="Billable", destination_calendar_uri=BILLABLE
        ),
    )


def events_in(fake: FakeMicrosoft, user: User, calendar: str) -> list[dict]:
    names = [c["name"] for c in fake.calendars(user.email)]
    return fake.events(user.email, calendar) if calendar in names else []


def test_two_configurations_on_one_source_fill_two_calendars_with_one_copy_each(
    two_configurations: tuple, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    general, billable = two_configurations
    add_event(fake_alice, connected_alice, "Acme review", "2025-05-08T10:00")
    add_event(fake_alice, connected_alice, "Globex call", "2025-05-08T14:00")

    run_archive(general)
    result = run_archive(billable)

    assert result.counts.copied == 2
    for calendar in ("General Archive", "Billable Archive"):
        assert sorted(e["subject"] for e in events_in(fake_alice, connected_alice, calendar)) == [
            "Acme review",
            "Globex call",
        ]
    assert ArchiveCopy.objects.count() == 4
    assert {c.destination.name for c in Appointment.objects.first().archive_copies.all()} == {
        "General Archive",
        "Billable Archive",
    }


@pytest.mark.parametrize("which", [0, 1], ids=["general", "billable"])
def test_a_rerun_of_either_configuration_writes_nothing(
    two_configurations: tuple, fake_alice: FakeMicrosoft, connected_alice: User, which: int
) -> None:
    add_event(fake_alice, connected_alice, "Acme review", "2025-05-08T10:00")
    for configuration in two_configurations:
        run_archive(configuration)
    before = len(writes(fake_alice))

    result = run_archive(two_configurations[which])

    assert writes(fake_alice)[before:] == []
    assert (result.counts.copied, result.counts.copies_updated) == (0, 0)
    assert result.counts.copies_unchanged == 1


def test_changing_the_destination_fills_the_new_calendar_and_leaves_the_old_one_alone(
    connected_alice: User, fake_alice: FakeMicrosoft
) -> None:
    configuration = ArchiveConfigurationFactory(
        user=connected_alice, destination_calendar_uri=GENERAL
    )
    add_event(fake_alice, connected_alice, "Acme review", "2025-05-08T10:00")
    run_archive(configuration)
    old_copy = events_in(fake_alice, connected_alice, "General Archive")

    configuration.destination_calendar_uri = BILLABLE
    configuration.save()
    result = run_archive(configuration)

    assert result.counts.copied == 1
    assert [e["subject"] for e in events_in(fake_alice, connected_alice, "Billable Archive")] == [
        "Acme review"
    ]
    assert events_in(fake_alice, connected_alice, "General Archive") == old_copy
    configuration.refresh_from_db()
    assert configuration.destination_calendar.name == "Billable Archive"


def test_an_update_at_the_source_updates_the_copy_in_each_destination(
    two_configurations: tuple, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    source = add_event(fake_alice, connected_alice, "Acme review", "2025-05-08T10:00")
    for configuration in two_configurations:
        run_archive(configuration)

    graph_client(user=connected_alice).request(
        "PATCH", f"me/events/{source['id']}", json={"subject": "Acme design review"}
    )
    for configuration in two_configurations:
        assert run_archive(configuration).counts.copies_updated == 1

    for calendar in ("General Archive", "Billable Archive"):
        assert [e["subject"] for e in events_in(fake_alice, connected_alice, calendar)] == [
            "Acme design review"
        ]


def test_a_copied_appointment_moved_into_an_overlap_still_updates_its_copy(
    connected_alice: User, fake_alice: FakeMicrosoft
) -> None:
    configuration = ArchiveConfigurationFactory(user=connected_alice)
    call = add_event(fake_alice, connected_alice, "Acme call", "2025-05-09T13:00")
    add_event(fake_alice, connected_alice, "Globex workshop", "2025-05-09T15:00", 120)
    run_archive(configuration, start=date(2025, 5, 9))

    # Moved onto the workshop: now a conflict that asks which meeting to bill.
    graph_client(user=connected_alice).request(
        "PATCH",
        f"me/events/{call['id']}",
        json={
            "start": {"dateTime": "2025-05-09T15:30:00", "timeZone": "Europe/London"},
            "end": {"dateTime": "2025-05-09T16:30:00", "timeZone": "Europe/London"},
        },
    )
    result = run_archive(configuration, start=date(2025, 5, 9))

    appointment = Appointment.objects.get(subject="Acme call")
    assert appointment.overlap_state == Appointment.OverlapState.CONFLICT
    assert result.counts.copies_updated == 1
    copy = next(
        e
        for e in events_in(fake_alice, connected_alice, "Billable Archive")
        if e["subject"] == "Acme call"
    )
    assert copy["start"]["dateTime"].startswith("2025-05-09T14:30")  # 15:30 BST in UTC


def test_a_late_call_moved_past_midnight_onto_a_holiday_follows_into_the_archive(
    connected_alice: User, fake_alice: FakeMicrosoft
) -> None:

    configuration = ArchiveConfigurationFactory(user=connected_alice)
    call = add_event(fake_alice, connected_alice, "Acme late call", "2025-05-09T23:30", 30)
    fake_alice.add_event(
        connected_alice.email,
        "Calendar",
        subject="Public holiday",
        start={"dateTime": "2025-05-10T00:00:00", "timeZone": "Europe/London"},
        end={"dateTime": "2025-05-11T00:00:00", "timeZone": "Europe/London"},
        isAllDay=True,
        showAs="oof",
        categories=[],
    )
    run_archive(configuration, start=date(2025, 5, 9), end=date(2025, 5, 10))

    graph_client(user=connected_alice).request(
        "PATCH",
        f"me/events/{call['id']}",
        json={
            "start": {"dateTime": "2025-05-10T00:30:00", "timeZone": "Europe/London"},
            "end": {"dateTime": "2025-05-10T01:00:00", "timeZone": "Europe/London"},
        },
    )
    result = run_archive(configuration, start=date(2025, 5, 9), end=date(2025, 5, 10))

    appointment = Appointment.objects.get(subject="Acme late call")
    holiday = Appointment.objects.get(subject="Public holiday")
    # All-day markers never form a double booking with timed appointments.
    assert appointment.overlap_state == Appointment.OverlapState.NONE
    assert holiday.overlap_state == Appointment.OverlapState.NONE
    assert result.counts.conflicts == 0
    assert result.counts.copies_updated == 1
    copy = next(
        e
        for e in events_in(fake_alice, connected_alice, "Billable Archive")
        if e["subject"] == "Acme late call"
    )
    assert copy["start"]["dateTime"].startswith("2025-05-09T23:30")  # 00:30 BST in UTC


def test_an_event_moved_out_of_the_window_is_followed_not_reported_deleted(
    connected_alice: User, fake_alice: FakeMicrosoft
) -> None:

    configuration = ArchiveConfigurationFactory(user=connected_alice)
    meeting = add_event(fake_alice, connected_alice, "Acme review", "2025-05-08T10:00")
    run_archive(configuration)
    graph_client(user=connected_alice).request(
        "PATCH",
        f"me/events/{meeting['id']}",
        json={
            "start": {"dateTime": "2025-05-12T10:00:00", "timeZone": "Europe/London"},
            "end": {"dateTime": "2025-05-12T11:00:00", "timeZone": "Europe/London"},
        },
    )

    result = run_archive(configuration, start=date(2025, 5, 8))

    appointment = Appointment.objects.get()
    assert result.counts.moved == 1
    assert result.counts.source_deleted == 0
    assert appointment.source_deleted_at is None
    assert appointment.start_time.date() == date(2025, 5, 12)
    copy = events_in(fake_alice, connected_alice, "Billable Archive")[0]
    assert copy["start"]["dateTime"].startswith("2025-05-12T09:00")


def test_the_admin_lists_an_appointments_copies_and_a_configurations_count(
    two_configurations: tuple, fake_alice: FakeMicrosoft, connected_alice: User, client: Client
) -> None:
    add_event(fake_alice, connected_alice, "Acme review", "2025-05-08T10:00")
    for configuration in two_configurations:
        run_archive(configuration)
    client.force_login(connected_alice)
    appointment = Appointment.objects.get()

    page = client.get(reverse("admin:calendars_appointment_change", args=[appointment.pk]))
    configurations = client.get(reverse("admin:archiving_archiveconfiguration_changelist"))

    assert page.status_code == 200
    assert "General Archive — event" in page.text
    assert "Billable Archive — event" in page.text
    assert configurations.status_code == 200
    assert "copies in its archive calendar" in configurations.text.lower()
    assert ">1</a>" in configurations.text


def test_the_api_lists_an_appointments_copies_read_only(
    two_configurations: tuple, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    add_event(fake_alice, connected_alice, "Acme review", "2025-05-08T10:00")
    for configuration in two_configurations:
        run_archive(configuration)
    api = APIClient()
    api.force_authenticate(connected_alice)
    appointment = Appointment.objects.get()

    body = api.get(f"/api/v1/appointments/{appointment.pk}/").json()
    api.patch(f"/api/v1/appointments/{appointment.pk}/", {"archive_copies": []}, format="json")

    assert sorted(c["calendar_name"] for c in body["archive_copies"]) == [
        "Billable Archive",
        "General Archive",
    ]
    assert all(c["event_id"] for c in body["archive_copies"])
    assert ArchiveCopy.objects.filter(appointment=appointment).count() == 2


def test_the_api_list_gives_each_appointment_its_own_copies(
    two_configurations: tuple, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    add_event(fake_alice, connected_alice, "Acme review", "2025-05-08T10:00")
    add_event(fake_alice, connected_alice, "Globex call", "2025-05-08T14:00")
    general, billable = two_configurations
    run_archive(general)
    reviewed = Appointment.objects.get(subject="Acme review")
    run_archive(billable)
    ArchiveCopy.objects.filter(
        appointment__subject="Globex call", destination__name="Billable Archive"
    ).delete()
    api = APIClient()
    api.force_authenticate(connected_alice)

    rows = api.get("/api/v1/appointments/").json()["results"]

    copies = {
        row["subject"]: sorted(c["calendar_name"] for c in row["archive_copies"]) for row in rows
    }
    assert copies == {
        "Acme review": ["Billable Archive", "General Archive"],
        "Globex call": ["General Archive"],
    }
    assert {c["event_id"] for c in rows[0]["archive_copies"]} == set(
        ArchiveCopy.objects.filter(appointment=reviewed).values_list("event_id", flat=True)
    )
