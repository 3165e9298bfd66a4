"""`manage.py archive` and the admin's "Archive now"."""

from __future__ import annotations

import zoneinfo

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django_q.conf import Conf
from django_q.models import OrmQ, Schedule

from accounts.models import User
from archiving.models import ArchiveConfiguration, JobConfiguration
from archiving.schedules import job_schedule_sync, schedule_name
from calendars.models import Appointment
from tests.archive_helpers import add_event, archive_copies, writes
from tests.factories import ArchiveConfigurationFactory
from tests.fakes.microsoft import FakeMicrosoft
from tests.unchanged import FAILURE_RECORDS, unchanged

pytestmark = pytest.mark.django_db(databases=["default", "web"])


@pytest.fixture
def config(connected_alice: User) -> ArchiveConfiguration:
    return ArchiveConfigurationFactory(user=connected_alice)


def test_archive_by_name_for_a_date_prints_a_summary(
    config: ArchiveConfiguration,
    fake_alice: FakeMicrosoft,
    connected_alice: User,
    capsys: pytest.CaptureFixture[str],
) -> None:
    add_event(fake_alice, connected_alice, "Acme review", "2025-05-08T10:00")

    call_command("archive", "daily ARCHIVE", "--date", "8 May 2025")

    out = capsys.readouterr().out
    assert "Archiving “Daily archive” for alice@example.com: 2025-05-08 (Europe/London)" in out
    assert "Copied to the archive calendar" in out
    assert "Status: success" in out
    assert len(archive_copies(fake_alice, connected_alice)) == 1


def test_archive_by_id_for_a_range(
    config: ArchiveConfiguration, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    add_event(fake_alice, connected_alice, "Monday", "2025-05-05T10:00")
    add_event(fake_alice, connected_alice, "Friday", "2025-05-09T10:00")

    call_command("archive", str(config.pk), "--date", "2025-05-05 to 2025-05-09")

    assert Appointment.objects.count() == 2


def test_dry_run_reports_and_writes_nothing(
    config: ArchiveConfiguration,
    fake_alice: FakeMicrosoft,
    connected_alice: User,
    capsys: pytest.CaptureFixture[str],
) -> None:
    add_event(fake_alice, connected_alice, "Acme review", "2025-05-08T10:00")

    call_command("archive", "Daily archive", "--date", "2025-05-08", "--dry-run")

    assert "dry run" in capsys.readouterr().out
    assert not Appointment.objects.exists()
    assert writes(fake_alice) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Nope"], "No archive configuration has the id or name “Nope”"),
        (
            ["Daily archive", "--date", "fortnight ago"],
            "is not a date phrase this archive understands",
        ),
        (["Daily archive", "--date", "2025-05-09 to 2025-05-01"], "before"),
    ],
)
def test_bad_input_is_one_clear_error_and_changes_nothing(
    config: ArchiveConfiguration, fake_alice: FakeMicrosoft, args: list[str], message: str
) -> None:
    before = fake_alice.graph_requests()  # connecting read the mailbox's time zone

    with unchanged(microsoft=fake_alice), pytest.raises(CommandError, match=message):
        call_command("archive", *args)

    assert not Appointment.objects.exists()
    assert fake_alice.graph_requests() == before


def test_a_partial_run_exits_with_an_error(
    config: ArchiveConfiguration, fake_alice: FakeMicrosoft, connected_alice: User
) -> None:
    add_event(fake_alice, connected_alice, "Acme review", "2025-05-08T10:00")
    fake_alice.inject(status=400, path_contains="/events", method="POST", times=None)

    with pytest.raises(CommandError, match="finished with 1 error"):
        call_command("archive", "Daily archive", "--date", "2025-05-08")


def test_a_disconnected_user_is_a_clear_error(alice: User, fake_alice: FakeMicrosoft) -> None:
    ArchiveConfigurationFactory(user=alice)

    with (
        unchanged(microsoft=fake_alice, allow_new=FAILURE_RECORDS),
        pytest.raises(CommandError, match="has not connected Microsoft 365"),
    ):
        call_command("archive", "Daily archive", "--date", "2025-05-08")


def test_archive_now_in_the_admin_queues_a_run_and_links_to_its_audit_rows(
    config: ArchiveConfiguration,
    alice_client: Client,
    django_capture_on_commit_callbacks: object,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(
            reverse("admin:archiving_archiveconfiguration_archive_now", args=[config.pk]),
            {"dates": "last 3 days"},
            follow=True,
            HTTP_X_REQUEST_ID="archive-now-1",
        )

    assert "queued; follow it in the" in response.text
    assert "?correlation_id=archive-now-1" in response.text
    assert OrmQ.objects.using("web").count() == 1


def test_archive_now_refuses_a_bad_date_phrase(
    config: ArchiveConfiguration, alice_client: Client
) -> None:
    with unchanged():
        response = alice_client.post(
            reverse("admin:archiving_archiveconfiguration_archive_now", args=[config.pk]),
            {"dates": "the day after tomorrow"},
        )

    assert response.status_code == 200
    assert "is not a date phrase this archive understands" in response.text
    assert OrmQ.objects.using("web").count() == 0


def test_archive_now_runs_the_archive_on_the_cluster(
    config: ArchiveConfiguration,
    fake_alice: FakeMicrosoft,
    connected_alice: User,
    alice_client: Client,
    django_capture_on_commit_callbacks: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Conf, "SYNC", True)
    add_event(fake_alice, connected_alice, "Acme review", "2025-05-08T10:00")

    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(
            reverse("admin:archiving_archiveconfiguration_archive_now", args=[config.pk]),
            {"dates": "2025-05-08"},
        )

    assert len(archive_copies(fake_alice, connected_alice)) == 1


def test_bob_cannot_archive_alices_configuration(
    config: ArchiveConfiguration, bob_client: Client
) -> None:
    with unchanged():
        response = bob_client.post(
            reverse("admin:archiving_archiveconfiguration_archive_now", args=[config.pk]),
            {"dates": "yesterday"},
        )

    assert response.status_code == 404


def test_the_archive_now_action_queues_yesterday_for_each_selected_configuration(
    config: ArchiveConfiguration,
    alice_client: Client,
    django_capture_on_commit_callbacks: object,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(
            reverse("admin:archiving_archiveconfiguration_changelist"),
            {"action": "archive_now", "_selected_action": [config.pk]},
            follow=True,
        )

    assert "Archive of “Daily archive” for" in response.text
    assert OrmQ.objects.using("web").count() == 1


def test_changing_a_configurations_time_zone_moves_its_jobs_schedule(
    config: ArchiveConfiguration, alice_client: Client
) -> None:
    job = JobConfiguration.objects.create(
        user=config.user, archive_configuration=config, schedule_type="daily"
    )
    job_schedule_sync(job=job)
    before = Schedule.objects.get(name=schedule_name(job.pk)).next_run

    alice_client.post(
        reverse("admin:archiving_archiveconfiguration_change", args=[config.pk]),
        {
            "name": config.name,
            "source_calendar_uri": config.source_calendar_uri,
            "destination_calendar_uri": config.destination_calendar_uri,
            "timezone": "Australia/Sydney",
            "is_active": "on",
        },
    )

    after = Schedule.objects.get(name=schedule_name(job.pk)).next_run
    assert after != before
    assert after.astimezone(zoneinfo.ZoneInfo("Australia/Sydney")).hour == 23
