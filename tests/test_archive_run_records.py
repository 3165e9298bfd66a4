"""Every queued or scheduled run is recorded in our database, so its status survives
django-q2's pruning of results (Q_SAVE_LIMIT)."""

from __future__ import annotations

import pytest
from django_q.conf import Conf
from django_q.models import Task

from accounts.microsoft import MicrosoftNotConfigured
from accounts.models import User
from archiving.models import ArchiveRun, JobConfiguration
from archiving.tasks import archive_task, scheduled_archive
from foundations.days import today_in
from tests.api_helpers import api, api_client
from tests.archive_helpers import add_event
from tests.factories import ArchiveConfigurationFactory
from tests.fakes.microsoft import FakeMicrosoft

pytestmark = pytest.mark.django_db(databases=["default", "web"], transaction=True)


@pytest.fixture
def sync_queue(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Conf, "SYNC", True)  # django-q2 runs the queued task in-process


def test_a_queued_run_is_recorded_with_who_asked_and_when_it_ran(
    connected_alice: User, fake_alice: FakeMicrosoft, sync_queue: None
) -> None:
    configuration = ArchiveConfigurationFactory(user=connected_alice)
    add_event(fake_alice, connected_alice, "Acme review", "2025-05-08T10:00")

    queued = api_client(connected_alice).post(
        api("archive-configuration-run", configuration.pk),
        {"dates": "8 May 2025"},
        format="json",
        HTTP_X_REQUEST_ID="recorded-run-1",
    )

    run = ArchiveRun.objects.get()
    assert queued.status_code == 202
    assert run.task_id == queued.json()["task_id"]
    assert run.configuration == configuration
    assert run.requested_by == connected_alice
    assert run.kind == ArchiveRun.Kind.MANUAL
    assert run.status == ArchiveRun.Status.SUCCESS
    assert run.correlation_id == "recorded-run-1"
    assert run.queued_at <= run.started_at <= run.finished_at
    assert run.result["counts"]["created"] == 1


def test_a_finished_run_still_reports_success_after_django_q2_pruned_its_result(
    connected_alice: User, fake_alice: FakeMicrosoft, sync_queue: None
) -> None:
    configuration = ArchiveConfigurationFactory(user=connected_alice)
    client = api_client(connected_alice)
    queued = client.post(
        api("archive-configuration-run", configuration.pk), {"dates": "8 May 2025"}, format="json"
    )
    Task.objects.all().delete()  # what save_limit does to older results

    status = client.get(api("archive-run-detail", queued.json()["task_id"]))

    assert status.status_code == 200
    assert status.json()["status"] == "success"
    assert status.json()["result"]["status"] == "success"
    assert status.json()["finished_at"] is not None


def test_a_run_that_fails_is_recorded_as_a_failure_with_the_reason(alice: User) -> None:
    configuration = ArchiveConfigurationFactory(user=alice)  # never connected to Microsoft 365
    client = api_client(alice)
    queued = client.post(
        api("archive-configuration-run", configuration.pk), {"dates": "8 May 2025"}, format="json"
    )
    run = ArchiveRun.objects.get()

    with pytest.raises(MicrosoftNotConfigured):  # what a worker does with the queued task
        archive_task(configuration.pk, "2025-05-08", "2025-05-08", run.correlation_id, run.pk)
    status = client.get(api("archive-run-detail", queued.json()["task_id"]))

    assert status.json()["status"] == "failure"
    assert "Microsoft 365 is not configured" in status.json()["error"]


def test_another_users_run_is_not_found(
    connected_alice: User, fake_alice: FakeMicrosoft, bob: User, sync_queue: None
) -> None:
    configuration = ArchiveConfigurationFactory(user=connected_alice)
    queued = api_client(connected_alice).post(
        api("archive-configuration-run", configuration.pk), {"dates": "8 May 2025"}, format="json"
    )

    status = api_client(bob).get(api("archive-run-detail", queued.json()["task_id"]))

    assert status.status_code == 404


def test_a_scheduled_run_is_recorded_with_its_window(
    connected_alice: User, fake_alice: FakeMicrosoft
) -> None:
    configuration = ArchiveConfigurationFactory(user=connected_alice)
    job = JobConfiguration.objects.create(
        user=connected_alice,
        archive_configuration=configuration,
        schedule_type=JobConfiguration.ScheduleType.DAILY,
        archive_window_days=1,
    )

    scheduled_archive(job.pk)

    run = ArchiveRun.objects.get()
    assert run.kind == ArchiveRun.Kind.SCHEDULED
    assert run.requested_by is None
    assert run.status == ArchiveRun.Status.SUCCESS
    assert run.end == today_in(configuration.timezone)
    assert run.start <= run.end
