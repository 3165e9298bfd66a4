"""The scheduler fires a due archive job, and the run archives the window ending on its day."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.models import Schedule, Task
from django_q.scheduler import scheduler
from pytest_django.fixtures import Settings

from accounts.models import User
from archiving.models import ArchiveConfiguration
from archiving.schedules import job_next_run, job_schedule_sync
from archiving.tasks import scheduled_archive
from auditing.models import AuditLog
from calendars.models import Appointment
from tests.factories import ArchiveConfigurationFactory, JobConfigurationFactory
from tests.fakes.microsoft import FakeMicrosoft

pytestmark = pytest.mark.django_db(databases=["default", "web"])


SYDNEY = zoneinfo.ZoneInfo("Australia/Sydney")


def schedules() -> list[Schedule]:
    return list(Schedule.objects.using("web").order_by("name"))


@pytest.fixture
def configuration(alice: User) -> ArchiveConfiguration:
    return ArchiveConfigurationFactory(
        user=alice, name="Daily", destination_calendar_uri="msgraph://calendars/Archive"
    )


def event_at(day: date, hour: int, zone_name: str, subject: str) -> dict[str, Any]:
    return {
        "subject": subject,
        "start": {"dateTime": f"{day}T{hour:02d}:00:00", "timeZone": zone_name},
        "end": {"dateTime": f"{day}T{hour + 1:02d}:00:00", "timeZone": zone_name},
        "categories": ["Acme - billable"],
    }


@pytest.fixture
def sync_cluster(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tasks run inside the caller, as django-q2's sync mode does; Conf was read at import."""
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": True}
    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.mark.django_db(databases=["default", "web"], transaction=True)
def test_the_scheduler_fires_a_due_job_and_puts_its_next_run_back_on_local_time(
    sync_cluster: None, connected_alice: User, fake_alice: FakeMicrosoft
) -> None:
    configuration = ArchiveConfigurationFactory(
        user=connected_alice,
        name="Daily",
        destination_calendar_uri="msgraph://calendars/Archive",
        timezone="Australia/Sydney",
    )
    fake_alice.add_calendar(connected_alice.email, "Archive")
    yesterday = timezone.now().astimezone(SYDNEY).date() - timedelta(days=1)
    fake_alice.add_event(
        connected_alice.email, **event_at(yesterday, 10, "Australia/Sydney", "Acme workshop")
    )
    # Twelve hours from now, local: the scheduler's own "plus one day" lands elsewhere.
    local_hour = (timezone.now().astimezone(SYDNEY).hour + 12) % 24
    job = JobConfigurationFactory(
        archive_configuration=configuration, archive_window_days=2, schedule_hour=local_hour
    )
    job_schedule_sync(job=job)
    Schedule.objects.filter(name=f"archive-job-{job.pk}").update(
        next_run=timezone.now() - timedelta(minutes=1)
    )

    scheduler(broker=get_broker())

    appointment = Appointment.objects.get(user=connected_alice)
    assert appointment.subject == "Acme workshop"
    assert appointment.is_archived
    (copy,) = fake_alice.events(connected_alice.email, "Archive")
    assert copy["subject"] == "Acme workshop"
    assert Task.objects.get(group=f"archive-job-{job.pk}").success
    schedule = Schedule.objects.get(name=f"archive-job-{job.pk}")
    assert schedule.next_run == job_next_run(job=job)
    assert schedule.next_run.astimezone(SYDNEY).time() == time(local_hour, 59)


def test_the_scheduler_leaves_a_job_alone_until_it_is_due(
    sync_cluster: None, configuration: ArchiveConfiguration
) -> None:
    job = JobConfigurationFactory(archive_configuration=configuration)
    job_schedule_sync(job=job)
    before = Schedule.objects.get().next_run

    scheduler(broker=get_broker())

    assert not Task.objects.exists()
    assert Schedule.objects.get().next_run == before
    assert not AuditLog.objects.filter(action_type="archive").exists()


@pytest.mark.parametrize("zone_name", ["Europe/London", "Australia/Sydney"])
def test_a_scheduled_run_archives_the_window_ending_today_in_the_configuration_zone(
    connected_alice: User, fake_alice: FakeMicrosoft, zone_name: str
) -> None:
    configuration = ArchiveConfigurationFactory(
        user=connected_alice,
        name="Daily",
        destination_calendar_uri="msgraph://calendars/Archive",
        timezone=zone_name,
    )
    job = JobConfigurationFactory(archive_configuration=configuration, archive_window_days=7)
    zone = zoneinfo.ZoneInfo(zone_name)
    today = timezone.now().astimezone(zone).date()

    result = scheduled_archive(job.pk)

    assert result["status"] == "success"
    (view,) = fake_alice.graph_requests(path_contains="calendarView")
    # Nothing billed and no earlier run: the window reaches back the healing limit.
    first_midnight = datetime.combine(today - timedelta(days=30), time(0), tzinfo=zone)
    last_midnight = datetime.combine(today + timedelta(days=1), time(0), tzinfo=zone)
    assert view.query["startDateTime"] == f"{first_midnight.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"
    assert view.query["endDateTime"] == f"{last_midnight.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"


def test_a_scheduled_run_of_a_deleted_job_removes_its_schedule(
    configuration: ArchiveConfiguration,
) -> None:
    job = JobConfigurationFactory(archive_configuration=configuration)
    job_schedule_sync(job=job)
    job_id = job.pk
    job.delete()

    result = scheduled_archive(job_id)

    assert result["status"] == "skipped"
    assert schedules() == []
