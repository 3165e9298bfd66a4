"""One django-q2 schedule per active archive job, kept in step by the model, admin and command."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, time
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from accounts.models import User
from archiving.models import ArchiveConfiguration, JobConfiguration
from archiving.schedules import job_next_run, job_schedule_sync, schedule_name, schedules_sync
from auditing.models import AuditLog
from tests.factories import ArchiveConfigurationFactory, JobConfigurationFactory

pytestmark = pytest.mark.django_db(databases=["default", "web"])

LONDON = zoneinfo.ZoneInfo("Europe/London")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def schedules() -> list[Schedule]:
    return list(Schedule.objects.using("web").order_by("name"))


@pytest.fixture
def configuration(alice: User) -> ArchiveConfiguration:
    return ArchiveConfigurationFactory(
        user=alice, name="Daily", destination_calendar_uri="msgraph://calendars/Archive"
    )


# -- one schedule per active job ---------------------------------------------------------------


def test_an_active_daily_job_gets_exactly_one_schedule_on_the_web_database(
    configuration: ArchiveConfiguration,
) -> None:
    job = JobConfigurationFactory(
        archive_configuration=configuration, schedule_hour=6, schedule_minute=30
    )

    job_schedule_sync(job=job)

    (schedule,) = schedules()
    assert schedule.name == f"archive-job-{job.pk}"
    assert schedule.func == "archiving.tasks.scheduled_archive"
    assert schedule.args == repr((job.pk,))
    assert schedule.schedule_type == Schedule.DAILY
    assert schedule.repeats == -1
    assert schedule.next_run == job_next_run(job=job, now=timezone.now())
    assert schedule.next_run.astimezone(LONDON).time() == time(6, 30)
    assert schedule._state.db == "web"


def test_an_active_weekly_job_gets_a_weekly_schedule(configuration: ArchiveConfiguration) -> None:
    job = JobConfigurationFactory(
        archive_configuration=configuration,
        schedule_type=JobConfiguration.ScheduleType.WEEKLY,
        schedule_day_of_week=JobConfiguration.DayOfWeek.FRIDAY,
    )

    job_schedule_sync(job=job)

    (schedule,) = schedules()
    assert schedule.schedule_type == Schedule.WEEKLY
    assert schedule.next_run.astimezone(LONDON).weekday() == 4


def test_saving_a_job_again_updates_its_schedule_instead_of_adding_one(
    configuration: ArchiveConfiguration,
) -> None:
    job = JobConfigurationFactory(
        archive_configuration=configuration, schedule_hour=6, schedule_minute=0
    )
    job_schedule_sync(job=job)

    job.schedule_hour = 18
    job.save()
    job_schedule_sync(job=job)

    (schedule,) = schedules()
    assert schedule.next_run.astimezone(LONDON).time() == time(18, 0)


@pytest.mark.parametrize(
    ("job_fields", "configuration_active"),
    [
        ({"schedule_type": JobConfiguration.ScheduleType.MANUAL}, True),
        ({"is_active": False}, True),
        ({}, False),
    ],
    ids=["manual job", "inactive job", "inactive configuration"],
)
def test_a_job_that_must_not_run_on_its_own_has_no_schedule(
    configuration: ArchiveConfiguration, job_fields: dict[str, Any], configuration_active: bool
) -> None:
    job = JobConfigurationFactory(archive_configuration=configuration)
    job_schedule_sync(job=job)
    assert len(schedules()) == 1

    for name, value in job_fields.items():
        setattr(job, name, value)
    job.save()
    configuration.is_active = configuration_active
    configuration.save()

    assert job_schedule_sync(job=job) is None
    assert schedules() == []


def test_a_new_manual_job_gets_no_schedule(configuration: ArchiveConfiguration) -> None:
    job = JobConfigurationFactory(
        archive_configuration=configuration, schedule_type=JobConfiguration.ScheduleType.MANUAL
    )

    job_schedule_sync(job=job)

    assert schedules() == []
    assert job_next_run(job=job) is None


# -- the admin keeps the schedule in step with the job -------------------------------------------


def job_form(configuration: ArchiveConfiguration, **overrides: str) -> dict[str, str]:
    data = {
        "archive_configuration": str(configuration.pk),
        "archive_window_days": "1",
        "schedule_type": "daily",
        "schedule_hour": "23",
        "schedule_minute": "59",
        "schedule_day_of_week": "",
        "is_active": "on",
    }
    return {**data, **overrides}


def test_adding_a_job_in_the_admin_creates_its_schedule(
    alice_client: Client, configuration: ArchiveConfiguration
) -> None:
    response = alice_client.post(
        reverse("admin:archiving_jobconfiguration_add"),
        job_form(configuration, schedule_hour="7", schedule_minute="15"),
    )

    assert response.status_code == 302
    job = JobConfiguration.objects.get()
    (schedule,) = schedules()
    assert schedule.name == f"archive-job-{job.pk}"
    assert schedule.next_run.astimezone(LONDON).time() == time(7, 15)


def test_changing_a_job_in_the_admin_updates_its_schedule(
    alice_client: Client, configuration: ArchiveConfiguration
) -> None:
    job = JobConfigurationFactory(archive_configuration=configuration)
    job_schedule_sync(job=job)

    response = alice_client.post(
        reverse("admin:archiving_jobconfiguration_change", args=[job.pk]),
        job_form(
            configuration, schedule_type="weekly", schedule_day_of_week="2", schedule_hour="8"
        ),
    )

    assert response.status_code == 302
    (schedule,) = schedules()
    assert schedule.schedule_type == Schedule.WEEKLY
    local = schedule.next_run.astimezone(LONDON)
    assert (local.weekday(), local.time()) == (2, time(8, 59))


def test_making_a_job_manual_in_the_admin_removes_its_schedule(
    alice_client: Client, configuration: ArchiveConfiguration
) -> None:
    job = JobConfigurationFactory(archive_configuration=configuration)
    job_schedule_sync(job=job)

    response = alice_client.post(
        reverse("admin:archiving_jobconfiguration_change", args=[job.pk]),
        job_form(configuration, schedule_type="manual"),
    )

    assert response.status_code == 302
    assert schedules() == []


def test_deleting_a_job_in_the_admin_removes_its_schedule(
    alice_client: Client, configuration: ArchiveConfiguration
) -> None:
    job = JobConfigurationFactory(archive_configuration=configuration)
    job_schedule_sync(job=job)

    response = alice_client.post(
        reverse("admin:archiving_jobconfiguration_delete", args=[job.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not JobConfiguration.objects.exists()
    assert schedules() == []


def test_the_job_list_shows_the_next_run_and_the_last_run(
    alice_client: Client, configuration: ArchiveConfiguration, alice: User
) -> None:
    job = JobConfigurationFactory(
        archive_configuration=configuration, schedule_hour=7, schedule_minute=15
    )
    job_schedule_sync(job=job)
    AuditLog.objects.create(
        user=alice,
        action_type="archive",
        operation="run",
        resource_type="ArchiveConfiguration",
        resource_id=str(configuration.pk),
        status=AuditLog.Status.SUCCESS,
        message="2025-06-03: 12 fetched, 12 new",
    )

    response = alice_client.get(reverse("admin:archiving_jobconfiguration_changelist"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Next run" in page
    assert "Last run" in page
    assert "7:15 a.m." in page
    assert "success — 2025-06-03: 12 fetched, 12 new" in page


def test_a_job_that_never_ran_says_so_in_the_job_list(
    alice_client: Client, configuration: ArchiveConfiguration
) -> None:
    JobConfigurationFactory(
        archive_configuration=configuration, schedule_type=JobConfiguration.ScheduleType.MANUAL
    )

    response = alice_client.get(reverse("admin:archiving_jobconfiguration_changelist"))

    page = response.content.decode()
    assert "never" in page


# -- manage.py sync_schedules --------------------------------------------------------------------


def test_sync_schedules_creates_fixes_and_removes_schedules(
    configuration: ArchiveConfiguration,
) -> None:
    missing = JobConfigurationFactory(
        archive_configuration=configuration, schedule_hour=6, schedule_minute=0
    )
    drifted = JobConfigurationFactory(
        archive_configuration=configuration, schedule_hour=12, schedule_minute=0
    )
    job_schedule_sync(job=drifted)
    Schedule.objects.filter(name=f"archive-job-{drifted.pk}").update(
        next_run=utc(2020, 1, 1, 3, 17)
    )
    JobConfigurationFactory(
        archive_configuration=configuration, schedule_type=JobConfiguration.ScheduleType.MANUAL
    )
    Schedule.objects.create(
        name="archive-job-999999",
        func="archiving.tasks.scheduled_archive",
        args="(999999,)",
        schedule_type=Schedule.DAILY,
        next_run=utc(2025, 1, 1),
    )
    Schedule.objects.create(name="someone else's", func="math.floor", args="(1.5,)")
    out = StringIO()

    call_command("sync_schedules", stdout=out)

    assert out.getvalue().strip() == "3 job(s): 2 scheduled, 1 orphan schedule(s) removed."
    by_name = {s.name: s for s in schedules()}
    assert set(by_name) == {
        f"archive-job-{missing.pk}",
        f"archive-job-{drifted.pk}",
        "someone else's",
    }
    assert by_name[f"archive-job-{missing.pk}"].next_run == job_next_run(job=missing)
    assert by_name[f"archive-job-{drifted.pk}"].next_run == job_next_run(job=drifted)


def test_sync_schedules_twice_changes_nothing(configuration: ArchiveConfiguration) -> None:
    JobConfigurationFactory(archive_configuration=configuration)
    schedules_sync()
    before = [(s.pk, s.next_run) for s in schedules()]

    result = schedules_sync()

    assert result == {"jobs": 1, "scheduled": 1, "removed": 0}
    assert [(s.pk, s.next_run) for s in schedules()] == before


# -- when the configuration's time zone changes --------------------------------------------------


def test_changing_a_configurations_time_zone_moves_its_jobs_schedule(
    connected_alice: User, alice_client: Client
) -> None:
    config = ArchiveConfigurationFactory(user=connected_alice)
    job = JobConfigurationFactory(archive_configuration=config)
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
