"""Double bookings: resolved automatically where the rules decide, by the user where not."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django_q.conf import Conf
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from accounts.models import User
from archiving.models import ArchiveConfiguration
from auditing.models import ActionLog
from calendars.models import Appointment
from tests.api_helpers import api, without_throttling
from tests.archive_helpers import add_event, archive_copies, run_archive
from tests.factories import ArchiveConfigurationFactory, acme_at_nine_utc
from tests.fakes.microsoft import FakeMicrosoft
from tests.unchanged import unchanged

pytestmark = pytest.mark.django_db(databases=["default", "web"])


@pytest.fixture
def config(connected_alice: User) -> ArchiveConfiguration:
    return ArchiveConfigurationFactory(user=connected_alice)


def copied_subjects(fake: FakeMicrosoft, user: User) -> list[str]:
    return sorted(c["subject"] for c in archive_copies(fake, user))


def test_the_confirmed_booking_wins_over_a_tentative_one(
    config: ArchiveConfiguration, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    add_event(fake_alice, connected_alice, "Acme review", "2025-05-08T10:00", showAs="busy")
    add_event(fake_alice, connected_alice, "Globex maybe", "2025-05-08T10:30", showAs="tentative")

    run_archive(config)

    assert copied_subjects(fake_alice, connected_alice) == ["Acme review"]
    states = dict(Appointment.objects.values_list("subject", "overlap_state"))
    assert states == {"Acme review": "winner", "Globex maybe": "loser"}


def test_higher_importance_wins(
    config: ArchiveConfiguration, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    add_event(fake_alice, connected_alice, "Routine", "2025-05-08T10:00", importance="normal")
    add_event(fake_alice, connected_alice, "Escalation", "2025-05-08T10:15", importance="high")

    run_archive(config)

    assert copied_subjects(fake_alice, connected_alice) == ["Escalation"]


def test_back_to_back_appointments_do_not_overlap(
    config: ArchiveConfiguration, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    add_event(fake_alice, connected_alice, "First", "2025-05-08T10:00", 60)
    add_event(fake_alice, connected_alice, "Second", "2025-05-08T11:00", 60)

    run_archive(config)

    assert copied_subjects(fake_alice, connected_alice) == ["First", "Second"]
    assert set(Appointment.objects.values_list("overlap_state", flat=True)) == {""}


def test_a_tie_is_a_conflict_nothing_is_copied_and_one_item_lists_the_group(
    config: ArchiveConfiguration, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    add_event(fake_alice, connected_alice, "Acme workshop", "2025-05-08T09:00", 180)
    add_event(fake_alice, connected_alice, "Globex call", "2025-05-08T09:30", 30)
    add_event(fake_alice, connected_alice, "Initech sync", "2025-05-08T11:00", 30)

    result = run_archive(config)
    run_archive(config)

    assert result.counts.conflicts == 1
    assert copied_subjects(fake_alice, connected_alice) == []
    item = ActionLog.objects.get(event_type="overlap")
    assert [m["subject"] for m in item.details["appointments"]] == [
        "Acme workshop",
        "Globex call",
        "Initech sync",
    ]
    assert item.recommendations[0]["label"] == "Keep “Acme workshop”, drop the others"
    assert item.recommendations[0]["reason"].startswith("It is the longest booking")
    assert not Appointment.objects.filter(is_archived=True).exists()


def test_resolving_a_conflict_in_the_admin_copies_the_kept_appointments(
    config: ArchiveConfiguration,
    fake_alice: FakeMicrosoft,
    connected_alice: User,
    alice_client: Client,
    django_capture_on_commit_callbacks: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Conf, "SYNC", True)  # django-q2 runs the queued task in-process
    add_event(fake_alice, connected_alice, "Acme workshop", "2025-05-08T09:00", 120)
    add_event(fake_alice, connected_alice, "Globex call", "2025-05-08T09:30", 30)
    run_archive(config)
    item = ActionLog.objects.get(event_type="overlap")
    workshop = Appointment.objects.get(subject="Acme workshop")

    page = alice_client.get(reverse("admin:auditing_actionlog_resolve_overlap", args=[item.pk]))
    assert "Globex call" in page.text
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(
            reverse("admin:auditing_actionlog_resolve_overlap", args=[item.pk]),
            {"keep": [workshop.pk]},
            follow=True,
        )

    assert "Overlap resolved: 1 appointment(s) kept" in response.text
    item.refresh_from_db()
    assert item.state == "resolved"
    states = dict(Appointment.objects.values_list("subject", "overlap_state"))
    assert states == {"Acme workshop": "kept", "Globex call": "discarded"}
    assert copied_subjects(fake_alice, connected_alice) == ["Acme workshop"]


@pytest.fixture
def conflict(
    config: ArchiveConfiguration, fake_alice: FakeMicrosoft, connected_alice: User
) -> ActionLog:
    """Two overlapping appointments of equal rank: an open overlap item for Alice."""
    add_event(fake_alice, connected_alice, "A", "2025-05-08T09:00", 60)
    add_event(fake_alice, connected_alice, "B", "2025-05-08T09:30", 60)
    run_archive(config)
    return ActionLog.objects.get(event_type="overlap")


def test_keeping_nothing_is_refused(conflict: ActionLog, alice_client: Client) -> None:
    item = conflict

    with unchanged():
        response = alice_client.post(
            reverse("admin:auditing_actionlog_resolve_overlap", args=[item.pk]), {}
        )

    assert "Choose at least one appointment to keep." in response.text
    item.refresh_from_db()
    assert item.state == "open"


def test_another_user_cannot_resolve_alices_conflict(
    conflict: ActionLog, bob_client: Client
) -> None:
    item = conflict

    with unchanged():
        response = bob_client.post(
            reverse("admin:auditing_actionlog_resolve_overlap", args=[item.pk]),
            {"keep": [Appointment.objects.first().pk]},
        )

    assert response.status_code == 404


def test_with_overlaps_allowed_every_non_free_appointment_is_copied(
    connected_alice: User, fake_alice: FakeMicrosoft
) -> None:
    config = ArchiveConfigurationFactory(user=connected_alice, allow_overlaps=True)
    add_event(fake_alice, connected_alice, "A", "2025-05-08T09:00", 60)
    add_event(fake_alice, connected_alice, "B", "2025-05-08T09:30", 60, showAs="tentative")
    add_event(fake_alice, connected_alice, "C", "2025-05-08T09:45", 60, showAs="free")

    run_archive(config)

    assert copied_subjects(fake_alice, connected_alice) == ["A", "B"]


def test_resolving_a_conflict_copies_the_kept_one_into_every_destination_of_that_source(
    config: ArchiveConfiguration,
    fake_alice: FakeMicrosoft,
    connected_alice: User,
    django_capture_on_commit_callbacks: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from archiving.resolutions import overlap_resolve

    monkeypatch.setattr(Conf, "SYNC", True)  # django-q2 runs the queued task in-process
    general = ArchiveConfigurationFactory(
        user=connected_alice, name="General", destination_calendar_uri="msgraph://calendars/General"
    )
    add_event(fake_alice, connected_alice, "Acme workshop", "2025-05-08T09:00", 120)
    add_event(fake_alice, connected_alice, "Globex call", "2025-05-08T09:30", 30)
    run_archive(config)
    run_archive(general)
    item = ActionLog.objects.get(event_type="overlap")
    workshop = Appointment.objects.get(subject="Acme workshop")

    with django_capture_on_commit_callbacks(execute=True):
        overlap_resolve(item=item, keep_ids=[workshop.pk], user=connected_alice)

    assert copied_subjects(fake_alice, connected_alice) == ["Acme workshop"]
    assert [e["subject"] for e in fake_alice.events(connected_alice.email, "General")] == [
        "Acme workshop"
    ]


# -- resolved through the API --------------------------------------------------------------------


@pytest.fixture(autouse=True)
def unthrottled(settings: Settings) -> None:
    without_throttling(settings)


def test_resolving_an_overlap_keeps_the_chosen_appointments(
    alice: User, alice_api: APIClient
) -> None:
    configuration = ArchiveConfigurationFactory(user=alice)
    kept, dropped = acme_at_nine_utc(alice, 8), acme_at_nine_utc(alice, 8, subject="Other")
    item = ActionLog.objects.create(
        user=alice,
        event_type="overlap",
        details={
            "configuration": configuration.pk,
            "appointments": [{"id": kept.pk}, {"id": dropped.pk}],
        },
    )

    response = alice_api.post(api("action-log-resolve", item.pk), {"keep": [kept.pk]}, "json")

    kept.refresh_from_db()
    dropped.refresh_from_db()
    assert response.status_code == 200
    assert (kept.overlap_state, dropped.overlap_state) == ("kept", "discarded")


def test_keeping_an_appointment_outside_the_overlap_is_400(
    alice: User, alice_api: APIClient
) -> None:
    item = ActionLog.objects.create(
        user=alice, event_type="overlap", details={"appointments": [{"id": 1}]}
    )

    with unchanged():
        response = alice_api.post(api("action-log-resolve", item.pk), {"keep": [999]}, "json")

    assert response.status_code == 400
    assert "Only appointments of this overlap" in response.json()["keep"][0]
    item.refresh_from_db()
    assert item.state == "open"
