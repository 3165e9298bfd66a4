"""A meeting deleted in Outlook after it was archived is still billed until a person decides."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.microsoft import graph_client
from accounts.models import User
from archiving.models import ArchiveConfiguration, ArchiveCopy
from auditing.models import ActionLog, AuditLog
from calendars.models import Appointment
from tests.archive_helpers import add_event, run_archive
from tests.factories import ArchiveConfigurationFactory
from tests.fakes.microsoft import FakeMicrosoft
from tests.unchanged import unchanged
from timesheets.services import timesheet_generate, timesheet_void

pytestmark = pytest.mark.django_db(databases=["default", "web"])

MAY = (date(2025, 5, 1), date(2025, 5, 31))


@pytest.fixture
def configurations(connected_alice: User) -> list[ArchiveConfiguration]:
    return [
        ArchiveConfigurationFactory(
            user=connected_alice,
            name="General",
            destination_calendar_uri="msgraph://calendars/General",
        ),
        ArchiveConfigurationFactory(user=connected_alice, name="Billable"),
    ]


@pytest.fixture
def deleted_meeting(
    configurations: list[ArchiveConfiguration], fake_alice: FakeMicrosoft, connected_alice: User
) -> Appointment:
    """Archived into two calendars, then deleted in Outlook, then archived again."""
    source = add_event(fake_alice, connected_alice, "Acme workshop", "2025-05-08T10:00")
    for configuration in configurations:
        run_archive(configuration)
    graph_client(user=connected_alice).request("DELETE", f"me/events/{source['id']}")
    for configuration in configurations:
        run_archive(configuration)
    return Appointment.objects.get(subject="Acme workshop")


def copies_in_outlook(fake: FakeMicrosoft, user: User) -> list[str]:
    return [
        event["subject"]
        for name in ("General", "Billable Archive")
        for event in fake.events(user.email, name)
    ]


def billed_subjects(timesheet: object) -> list[str]:
    return list(Appointment.objects.filter(timesheet=timesheet).values_list("subject", flat=True))


def test_a_deleted_meeting_stays_billable_with_its_copies_and_one_item(
    deleted_meeting: Appointment, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    generation = timesheet_generate(user=connected_alice, customer="Acme", start=MAY[0], end=MAY[1])

    assert deleted_meeting.source_deleted_at is not None
    assert not deleted_meeting.is_cancelled
    assert billed_subjects(generation.timesheet) == ["Acme workshop"]
    assert copies_in_outlook(fake_alice, connected_alice) == ["Acme workshop", "Acme workshop"]
    items = ActionLog.objects.filter(event_type=ActionLog.EventType.SOURCE_DELETED)
    assert items.count() == 1
    assert "still billed" in items.get().description


def test_the_item_is_never_opened_twice_for_one_appointment(
    deleted_meeting: Appointment, configurations: list[ArchiveConfiguration]
) -> None:
    item = ActionLog.objects.get(event_type=ActionLog.EventType.SOURCE_DELETED)
    item.close(by=deleted_meeting.user, note="it happened")

    for configuration in configurations:
        run_archive(configuration)

    assert ActionLog.objects.filter(event_type=ActionLog.EventType.SOURCE_DELETED).count() == 1


def test_it_did_not_happen_stops_billing_and_deletes_the_copies_everywhere(
    deleted_meeting: Appointment, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    issued = timesheet_generate(user=connected_alice, customer="Acme", start=MAY[0], end=MAY[1])
    item = ActionLog.objects.get(event_type=ActionLog.EventType.SOURCE_DELETED)
    api = APIClient()
    api.force_authenticate(connected_alice)

    answer = api.post(
        f"/api/v1/action-log/{item.pk}/resolve/", {"decision": "did_not_happen"}, format="json"
    )

    assert answer.status_code == 200, answer.content
    assert answer.json()["state"] == "resolved"
    assert "issued timesheet keeps it" in answer.json()["resolution"]
    # The issued timesheet keeps what it billed until it is voided.
    assert billed_subjects(issued.timesheet) == ["Acme workshop"]
    assert copies_in_outlook(fake_alice, connected_alice) == []
    assert ArchiveCopy.objects.count() == 0
    timesheet_void(timesheet=issued.timesheet, user=connected_alice)
    add_event(fake_alice, connected_alice, "Acme follow-up", "2025-05-09T10:00")
    run_archive(ArchiveConfiguration.objects.get(name="Billable"), start=date(2025, 5, 9))
    again = timesheet_generate(user=connected_alice, customer="Acme", start=MAY[0], end=MAY[1])
    assert billed_subjects(again.timesheet) == ["Acme follow-up"]
    assert AuditLog.objects.filter(operation="source_deleted_discard", status="success").exists()


def test_it_happened_keeps_billing_it_from_the_admin(
    deleted_meeting: Appointment, fake_alice: FakeMicrosoft, connected_alice: User, client: Client
) -> None:
    item = ActionLog.objects.get(event_type=ActionLog.EventType.SOURCE_DELETED)
    client.force_login(connected_alice)

    page = client.get(reverse("admin:auditing_actionlog_change", args=[item.pk]))
    answer = client.post(
        reverse("admin:auditing_actionlog_source_deleted", args=[item.pk, "happened"])
    )

    assert "It happened — keep billing it" in page.text
    assert answer.status_code == 302
    item.refresh_from_db()
    assert (item.state, item.closed_by) == (ActionLog.State.RESOLVED, connected_alice)
    generation = timesheet_generate(user=connected_alice, customer="Acme", start=MAY[0], end=MAY[1])
    assert billed_subjects(generation.timesheet) == ["Acme workshop"]
    assert copies_in_outlook(fake_alice, connected_alice) == ["Acme workshop", "Acme workshop"]


def test_the_admin_action_it_did_not_happen_deletes_the_copies(
    deleted_meeting: Appointment, fake_alice: FakeMicrosoft, connected_alice: User, client: Client
) -> None:
    item = ActionLog.objects.get(event_type=ActionLog.EventType.SOURCE_DELETED)
    client.force_login(connected_alice)

    client.post(
        reverse("admin:auditing_actionlog_changelist"),
        {"action": "it_did_not_happen", "_selected_action": [item.pk]},
    )

    deleted_meeting.refresh_from_db()
    assert deleted_meeting.is_cancelled
    assert copies_in_outlook(fake_alice, connected_alice) == []


def test_a_decision_is_required_for_a_source_deleted_item_in_the_api(
    deleted_meeting: Appointment, connected_alice: User
) -> None:
    item = ActionLog.objects.get(event_type=ActionLog.EventType.SOURCE_DELETED)
    api = APIClient()
    api.force_authenticate(connected_alice)

    with unchanged():
        answer = api.post(f"/api/v1/action-log/{item.pk}/resolve/", {}, format="json")

    assert answer.status_code == 400
    assert "Say whether it happened" in answer.json()["decision"][0]
    item.refresh_from_db()
    assert item.is_open


def test_the_admin_list_and_the_api_show_what_is_gone_from_the_source(
    deleted_meeting: Appointment, connected_alice: User, client: Client
) -> None:
    client.force_login(connected_alice)
    api = APIClient()
    api.force_authenticate(connected_alice)

    listing = client.get(
        reverse("admin:calendars_appointment_changelist") + "?source_deleted_at__isempty=0"
    )
    gone = api.get("/api/v1/appointments/?source_deleted=true").json()
    present = api.get("/api/v1/appointments/?source_deleted=false").json()

    assert listing.status_code == 200
    assert "Acme workshop" in listing.text
    assert [a["subject"] for a in gone["results"]] == ["Acme workshop"]
    assert gone["results"][0]["source_deleted_at"] is not None
    assert present["results"] == []


def test_a_deleted_event_that_comes_back_closes_its_item(
    configurations: list[ArchiveConfiguration], fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    add_event(fake_alice, connected_alice, "Acme sync", "2025-05-08T10:00")
    run_archive(configurations[1])
    appointment = Appointment.objects.get()
    # Another configuration's window misses it (say, a moved copy); simulate with the flag.
    Appointment.objects.filter(pk=appointment.pk).update(source_deleted_at="2025-05-09T00:00Z")
    ActionLog.objects.open_item(
        user=connected_alice,
        event_type=ActionLog.EventType.SOURCE_DELETED,
        key=appointment.pk,
        description="gone",
    )

    run_archive(configurations[1])

    appointment.refresh_from_db()
    assert appointment.source_deleted_at is None
    item = ActionLog.objects.get(event_type=ActionLog.EventType.SOURCE_DELETED)
    assert item.state == ActionLog.State.RESOLVED
    assert item.closed_by is None
