"""One schedule django-q2 cannot turn into a task never stops the others firing: the cluster's
scheduler pass sets it aside (with an audit row and an action item) or, for an archive job's
schedule, rebuilds it from its job; the admin keeps such rows from being saved at all."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import django_q.cluster
import pytest
from django.test import Client
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.models import OrmQ, Schedule
from django_q.scheduler import scheduler
from django_q.signing import SignedPackage

from accounts.models import User
from archiving.models import JobConfiguration
from archiving.scheduler_guard import scheduler_pass
from archiving.schedules import job_schedule_sync
from auditing.models import ActionLog, AuditLog
from tests.factories import ArchiveConfigurationFactory, JobConfigurationFactory, UserFactory

# Committed: django-q2's pass starts by closing old connections, which on PostgreSQL would end a
# test's surrounding transaction.
pytestmark = pytest.mark.django_db(databases=["default", "web"], transaction=True)

POISON = "nightly_report"  # a bare name, not a literal: ValueError: malformed node or string


def due_archive_jobs(count: int) -> list[JobConfiguration]:
    jobs = []
    for number in range(count):
        owner = UserFactory(email=f"owner{number}@example.com")
        job = JobConfigurationFactory(archive_configuration=ArchiveConfigurationFactory(user=owner))
        job_schedule_sync(job=job)
        jobs.append(job)
    Schedule.objects.update(next_run=timezone.now() - timedelta(minutes=1))
    return jobs


def a_poison_schedule() -> Schedule:
    return Schedule.objects.create(
        name="nightly-report",
        func="math.floor",
        args=POISON,
        schedule_type=Schedule.DAILY,
        next_run=timezone.now() - timedelta(minutes=1),
    )


def queued() -> list[dict[str, Any]]:
    return [SignedPackage.loads(row.payload) for row in OrmQ.objects.using("web").all()]


def test_the_cluster_calls_the_guarded_scheduler_pass() -> None:
    assert django_q.cluster.scheduler is scheduler_pass


def test_without_the_guard_one_poison_schedule_stops_every_other() -> None:
    due_archive_jobs(3)
    a_poison_schedule()

    scheduler(broker=get_broker())

    assert queued() == []


def test_a_poison_schedule_among_twenty_due_ones_leaves_nineteen_firing_on_time(
    admin_user: User,
) -> None:
    jobs = due_archive_jobs(19)
    poison = a_poison_schedule()

    scheduler_pass(broker=get_broker())

    assert sorted(task["group"] for task in queued()) == sorted(
        f"archive-job-{job.pk}" for job in jobs
    )
    assert all(
        schedule.next_run > timezone.now()
        for schedule in Schedule.objects.filter(name__startswith="archive-job-")
    )
    poison.refresh_from_db()
    assert poison.repeats == 0  # paused, kept for repair
    skipped = AuditLog.objects.get(operation="schedule.skip")
    assert skipped.status == "failure"
    assert skipped.message.startswith(
        "Schedule “nightly-report” (math.floor) could not be turned into a task and was paused: "
        "ValueError: malformed node or string"
    )
    (item,) = ActionLog.objects.filter(event_type="schedule_broken")
    assert item.user == admin_user
    assert item.description == skipped.message


def test_the_next_pass_fires_the_others_again_and_leaves_the_paused_one_alone(
    admin_user: User,
) -> None:
    due_archive_jobs(2)
    a_poison_schedule()
    scheduler_pass(broker=get_broker())
    Schedule.objects.filter(name__startswith="archive-job-").update(
        next_run=timezone.now() - timedelta(minutes=1)
    )

    scheduler_pass(broker=get_broker())

    assert len(queued()) == 4
    assert AuditLog.objects.filter(operation="schedule.skip").count() == 1
    assert ActionLog.objects.filter(event_type="schedule_broken").count() == 1


def test_an_archive_jobs_schedule_with_tampered_args_is_rebuilt_from_its_job_and_fires() -> None:
    (job,) = due_archive_jobs(1)
    Schedule.objects.filter(name=f"archive-job-{job.pk}").update(args=POISON)

    scheduler_pass(broker=get_broker())

    (task,) = queued()
    assert task["func"] == "archiving.tasks.scheduled_archive"
    assert task["args"] == (job.pk,)
    assert Schedule.objects.get(name=f"archive-job-{job.pk}").args == repr((job.pk,))
    repaired = AuditLog.objects.get(operation="schedule.repair")
    assert repaired.user == job.user
    assert "rebuilt from its archive job" in repaired.message


def test_the_admin_shows_an_archive_jobs_schedule_read_only(admin_client: Client) -> None:
    (job,) = due_archive_jobs(1)
    schedule = Schedule.objects.get(name=f"archive-job-{job.pk}")
    url = f"/admin/django_q/schedule/{schedule.pk}/change/"

    page = admin_client.get(url)
    posted = admin_client.post(url, {"name": schedule.name, "func": "math.floor", "args": POISON})

    assert page.status_code == 200
    assert 'name="args"' not in page.content.decode()
    assert posted.status_code == 403
    assert Schedule.objects.get(pk=schedule.pk).args == repr((job.pk,))


def test_the_admin_refuses_a_schedule_the_scheduler_could_not_fire(admin_client: Client) -> None:
    answer = admin_client.post(
        "/admin/django_q/schedule/add/",
        {
            "name": "nightly-report",
            "func": "math.floor",
            "args": POISON,
            "schedule_type": Schedule.DAILY,
            "repeats": "-1",
            "next_run_0": "2026-12-07",
            "next_run_1": "06:00:00",
        },
    )

    assert answer.status_code == 200
    assert "The scheduler could not turn this into a task: ValueError: malformed node" in (
        answer.content.decode()
    )
    assert not Schedule.objects.exists()
