"""A run whose worker died is found, closed with the reason and taken over exactly once; a task
django-q2 delivers again does nothing when its run finished and leaves a live run alone.

The processes that die for real (SIGKILL of a qcluster) are in test_killed_workers.py; here the
leases are set up as a dead or a live worker leaves them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone
from django_q.models import OrmQ
from django_q.signing import SignedPackage
from pytest_django.fixtures import Settings

from accounts.models import User
from archiving.leases import archive_run_heartbeat, archive_runs_reap
from archiving.models import ArchiveConfiguration, ArchiveRun
from archiving.tasks import archive_task, scheduled_archive
from auditing.models import ActionLog, AuditLog
from tests.api_helpers import api_client
from tests.factories import ArchiveConfigurationFactory, JobConfigurationFactory
from tests.fakes.microsoft import FakeMicrosoft

pytestmark = pytest.mark.django_db(databases=["default", "web"])

DAY = date(2025, 5, 8)


@pytest.fixture
def configuration(alice: User) -> ArchiveConfiguration:
    return ArchiveConfigurationFactory(user=alice, name="Daily")


def a_run(configuration: ArchiveConfiguration, **fields: Any) -> ArchiveRun:
    fields.setdefault("start", DAY)
    fields.setdefault("end", DAY)
    return ArchiveRun.objects.create(configuration=configuration, correlation_id="c" * 32, **fields)


def queued_tasks() -> list[dict[str, Any]]:
    return [SignedPackage.loads(row.payload) for row in OrmQ.objects.using("web").all()]


def a_dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_redelivered_task_whose_run_finished_does_nothing(
    configuration: ArchiveConfiguration, fake_microsoft: FakeMicrosoft
) -> None:
    run = a_run(configuration, status=ArchiveRun.Status.SUCCESS, finished_at=timezone.now())

    summary = archive_task(configuration.pk, str(DAY), str(DAY), run.correlation_id, run.pk)

    assert summary["status"] == "skipped"
    assert summary["reason"] == f"run {run.pk} is success"
    assert fake_microsoft.graph_requests() == []
    run.refresh_from_db()
    assert run.status == ArchiveRun.Status.SUCCESS
    assert not AuditLog.objects.filter(operation="run").exists()


def test_a_redelivered_task_whose_run_is_alive_elsewhere_leaves_it_running(
    configuration: ArchiveConfiguration, fake_microsoft: FakeMicrosoft
) -> None:
    run = a_run(
        configuration,
        status=ArchiveRun.Status.RUNNING,
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
        worker="web-2:4242",
    )

    summary = archive_task(configuration.pk, str(DAY), str(DAY), run.correlation_id, run.pk)

    assert summary["reason"] == f"run {run.pk} is running elsewhere"
    assert fake_microsoft.graph_requests() == []
    run.refresh_from_db()
    assert (run.status, run.worker) == (ArchiveRun.Status.RUNNING, "web-2:4242")
    assert queued_tasks() == []


def test_a_run_whose_worker_went_silent_is_abandoned_with_the_reason_and_taken_over_once(
    configuration: ArchiveConfiguration,
    settings: Settings,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    settings.ARCHIVE_RUN_STALE_SECONDS = 60
    silent_since = timezone.now() - timedelta(seconds=61)
    run = a_run(
        configuration,
        status=ArchiveRun.Status.RUNNING,
        started_at=silent_since,
        heartbeat_at=silent_since,
        worker="worker-b:977",
    )
    AuditLog.objects.create(
        action_type="archive", operation="run", status="running", correlation_id="c" * 32
    )

    with django_capture_on_commit_callbacks(execute=True):
        first = archive_runs_reap()
        second = archive_runs_reap()

    assert [r.pk for r in first] == [run.pk]
    assert second == []
    run.refresh_from_db()
    retry = ArchiveRun.objects.get(retry_of=run)
    assert run.status == ArchiveRun.Status.ABANDONED
    assert run.finished_at is not None
    assert run.error.startswith("Its worker worker-b:977 stopped: last heartbeat ")
    assert run.error.endswith(f"Run {retry.pk} took its work over.")
    assert (retry.status, retry.start, retry.end) == (ArchiveRun.Status.QUEUED, DAY, DAY)
    (task,) = queued_tasks()
    assert task["func"] == "archiving.tasks.archive_task"
    assert task["kwargs"] == {"run_id": retry.pk}
    assert ArchiveRun.objects.get(pk=retry.pk).task_id == task["id"]
    dead_row = AuditLog.objects.get(operation="run")
    assert dead_row.status == "failure"
    assert dead_row.message.startswith("Abandoned: Its worker worker-b:977 stopped")
    abandon = AuditLog.objects.get(operation="abandon")
    assert (abandon.resource_id, abandon.status) == (str(run.pk), "failure")
    assert abandon.correlation_id == run.correlation_id


def test_a_run_that_keeps_its_heartbeat_is_not_reaped(
    configuration: ArchiveConfiguration, settings: Settings
) -> None:
    settings.ARCHIVE_RUN_STALE_SECONDS = 60
    run = a_run(
        configuration,
        status=ArchiveRun.Status.RUNNING,
        started_at=timezone.now() - timedelta(hours=2),
        heartbeat_at=timezone.now() - timedelta(seconds=30),
        worker="worker-b:977",
    )

    assert archive_runs_reap() == []
    run.refresh_from_db()
    assert run.status == ArchiveRun.Status.RUNNING


def test_a_run_whose_process_on_this_machine_is_gone_is_abandoned_at_once(
    configuration: ArchiveConfiguration,
) -> None:
    run = a_run(
        configuration,
        status=ArchiveRun.Status.RUNNING,
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
        worker=f"{socket.gethostname()}:{a_dead_pid()}",
    )

    archive_runs_reap()

    run.refresh_from_db()
    assert run.status == ArchiveRun.Status.ABANDONED
    assert ArchiveRun.objects.filter(retry_of=run).count() == 1


def test_a_queued_run_whose_task_never_started_is_taken_over(
    configuration: ArchiveConfiguration, settings: Settings
) -> None:
    settings.ARCHIVE_QUEUE_STALE_SECONDS = 600
    lost = a_run(configuration, queued_at=timezone.now() - timedelta(seconds=601))
    waiting = a_run(configuration, queued_at=timezone.now() - timedelta(seconds=300))

    archive_runs_reap()

    lost.refresh_from_db()
    waiting.refresh_from_db()
    assert lost.status == ArchiveRun.Status.ABANDONED
    assert lost.error.startswith("Its task never started (queued ")
    assert waiting.status == ArchiveRun.Status.QUEUED
    assert ArchiveRun.objects.filter(retry_of=lost).count() == 1


def test_the_lost_task_delivered_late_does_nothing_once_its_run_was_taken_over(
    configuration: ArchiveConfiguration, settings: Settings, fake_microsoft: FakeMicrosoft
) -> None:
    settings.ARCHIVE_QUEUE_STALE_SECONDS = 600
    lost = a_run(configuration, queued_at=timezone.now() - timedelta(seconds=601))
    archive_runs_reap()

    summary = archive_task(configuration.pk, str(DAY), str(DAY), lost.correlation_id, lost.pk)

    assert summary["reason"] == f"run {lost.pk} is abandoned"
    assert fake_microsoft.graph_requests() == []


def test_a_run_that_stopped_on_every_attempt_is_given_up_with_an_action_item(
    configuration: ArchiveConfiguration,
    settings: Settings,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    settings.ARCHIVE_RUN_MAX_ATTEMPTS = 2
    long_ago = timezone.now() - timedelta(hours=1)
    first = a_run(configuration, status=ArchiveRun.Status.ABANDONED, finished_at=long_ago)
    second = a_run(
        configuration,
        status=ArchiveRun.Status.RUNNING,
        started_at=long_ago,
        heartbeat_at=long_ago,
        worker="worker-b:977",
        retry_of=first,
    )

    with django_capture_on_commit_callbacks(execute=True):
        archive_runs_reap()

    second.refresh_from_db()
    assert second.status == ArchiveRun.Status.ABANDONED
    assert second.error.endswith("Given up after 2 attempts.")
    assert not ArchiveRun.objects.filter(retry_of=second).exists()
    assert queued_tasks() == []
    (item,) = ActionLog.objects.filter(user=configuration.user, event_type="archive_abandoned")
    assert item.description == (
        f"Archiving “Daily” for {DAY} to {DAY} stopped 2 times without finishing"
    )


def test_a_scheduled_firing_delivered_twice_archives_once(
    connected_alice: User, fake_alice: FakeMicrosoft
) -> None:
    configuration = ArchiveConfigurationFactory(user=connected_alice, name="Daily")
    fake_alice.add_calendar(connected_alice.email, "Billable Archive")
    job = JobConfigurationFactory(archive_configuration=configuration)
    fired_for = "2026-12-06T06:00:00+00:00"

    first = scheduled_archive(job.pk, fired_for=fired_for)
    again = scheduled_archive(job.pk, fired_for=fired_for)

    assert first["status"] == "success"
    (run,) = ArchiveRun.objects.all()
    assert again["reason"] == f"run {run.pk} is success"
    assert run.firing == f"archive-job-{job.pk}@{fired_for}"
    assert AuditLog.objects.filter(operation="run").count() == 1


@pytest.mark.django_db(databases=["default", "web"], transaction=True)
def test_the_heartbeat_renews_the_lease_while_the_run_works(
    configuration: ArchiveConfiguration, settings: Settings
) -> None:
    settings.ARCHIVE_HEARTBEAT_SECONDS = 0.05
    started = timezone.now() - timedelta(minutes=1)
    run = a_run(
        configuration,
        status=ArchiveRun.Status.RUNNING,
        started_at=started,
        heartbeat_at=started,
        worker=f"{socket.gethostname()}:{os.getpid()}",
    )

    with archive_run_heartbeat(record=run):
        deadline = time.monotonic() + 5
        while ArchiveRun.objects.get(pk=run.pk).heartbeat_at == started:
            assert time.monotonic() < deadline, "no heartbeat"
            time.sleep(0.05)

    assert ArchiveRun.objects.get(pk=run.pk).heartbeat_at > started


def test_the_status_of_an_abandoned_run_is_that_of_the_run_that_took_its_work_over(
    configuration: ArchiveConfiguration,
    alice: User,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    long_ago = timezone.now() - timedelta(hours=1)
    killed = a_run(
        configuration,
        task_id="a" * 32,
        status=ArchiveRun.Status.RUNNING,
        started_at=long_ago,
        heartbeat_at=long_ago,
        worker="worker-b:977",
    )
    with django_capture_on_commit_callbacks(execute=True):
        archive_runs_reap()
    retry = ArchiveRun.objects.get(retry_of=killed)
    ArchiveRun.objects.filter(pk=retry.pk).update(
        status=ArchiveRun.Status.SUCCESS, finished_at=timezone.now(), result={"status": "success"}
    )

    answer = api_client(alice).get(f"/api/v1/archive-runs/{'a' * 32}/")

    assert answer.status_code == 200
    assert answer.json()["status"] == "success"
    assert answer.json()["result"] == {"status": "success"}
