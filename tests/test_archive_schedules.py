"""Scheduled archive jobs: one django-q2 schedule per active job, fired at the job's local time."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.models import Schedule, Task
from django_q.scheduler import scheduler
from pytest_django.fixtures import Settings

from accounts.models import User
from archiving.models import ArchiveConfiguration, JobConfiguration
from archiving.schedules import job_next_run, job_schedule_sync, schedule_name, schedules_sync
from archiving.tasks import scheduled_archive
from auditing.models import AuditLog
from calendars.models import Appointment
from tests.factories import ArchiveConfigurationFactory, JobConfigurationFactory
from tests.fakes.microsoft import FakeMicrosoft

pytestmark = pytest.mark.django_db(databases=["default", "web"])

LONDON = zoneinfo.ZoneInfo("Europe/London")
SYDNEY = zoneinfo.ZoneInfo("Australia/Sydney")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def unsaved_job(zone_name: str, **fields: Any) -> JobConfiguration:
    """A job for the pure next-run rule; nothing is saved."""
    fields.setdefault("schedule_type", JobConfiguration.ScheduleType.DAILY)
    return JobConfiguration(
        archive_configuration=ArchiveConfiguration(timezone=zone_name), **fields
    )


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


# -- the next run, in the configuration's time zone ----------------------------------------------


def test_a_london_job_fires_at_2359_gmt_before_the_clocks_go_forward() -> None:
    job = unsaved_job("Europe/London", schedule_hour=23, schedule_minute=59)

    assert job_next_run(job=job, now=utc(2025, 3, 29, 12)) == utc(2025, 3, 29, 23, 59)


def test_a_london_job_fires_at_2359_bst_once_the_clocks_have_gone_forward() -> None:
    job = unsaved_job("Europe/London", schedule_hour=23, schedule_minute=59)

    assert job_next_run(job=job, now=utc(2025, 3, 29, 23, 59, 30)) == utc(2025, 3, 30, 22, 59)


def test_a_london_job_goes_back_to_gmt_when_the_clocks_go_back() -> None:
    job = unsaved_job("Europe/London", schedule_hour=23, schedule_minute=59)

    assert job_next_run(job=job, now=utc(2025, 10, 25, 12)) == utc(2025, 10, 25, 22, 59)
    assert job_next_run(job=job, now=utc(2025, 10, 25, 23)) == utc(2025, 10, 26, 23, 59)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # Summer time ends on Sunday 6 April 2025 at 03:00 AEDT: +11:00 becomes +10:00.
        (utc(2025, 4, 4, 12), utc(2025, 4, 4, 19)),
        (utc(2025, 4, 4, 19, 0, 1), utc(2025, 4, 5, 20)),
        # Summer time starts on Sunday 5 October 2025 at 02:00 AEST: +10:00 becomes +11:00.
        (utc(2025, 10, 3, 12), utc(2025, 10, 3, 20)),
        (utc(2025, 10, 3, 20, 0, 1), utc(2025, 10, 4, 19)),
    ],
    ids=[
        "saturday before april change",
        "sunday of april change",
        "saturday before october change",
        "sunday of october change",
    ],
)
def test_a_sydney_job_fires_at_0600_local_across_the_dst_changes(
    now: datetime, expected: datetime
) -> None:
    job = unsaved_job("Australia/Sydney", schedule_hour=6, schedule_minute=0)

    next_run = job_next_run(job=job, now=now)

    assert next_run == expected
    assert next_run.astimezone(SYDNEY).time() == time(6, 0)


def test_a_daily_job_whose_time_has_passed_today_fires_tomorrow() -> None:
    job = unsaved_job("Europe/London", schedule_hour=9, schedule_minute=0)

    # 10:00 BST on Wednesday 4 June 2025.
    assert job_next_run(job=job, now=utc(2025, 6, 4, 9)) == utc(2025, 6, 5, 8)


def test_a_weekly_job_fires_on_its_day_of_the_week_at_local_time() -> None:
    job = unsaved_job(
        "Europe/London",
        schedule_type=JobConfiguration.ScheduleType.WEEKLY,
        schedule_day_of_week=JobConfiguration.DayOfWeek.MONDAY,
        schedule_hour=7,
        schedule_minute=15,
    )

    next_run = job_next_run(job=job, now=utc(2025, 6, 4, 12))

    assert next_run == utc(2025, 6, 9, 6, 15)
    assert next_run.astimezone(LONDON).weekday() == 0


def test_a_weekly_job_later_today_fires_today() -> None:
    job = unsaved_job(
        "Europe/London",
        schedule_type=JobConfiguration.ScheduleType.WEEKLY,
        schedule_day_of_week=JobConfiguration.DayOfWeek.WEDNESDAY,
        schedule_hour=18,
        schedule_minute=0,
    )

    assert job_next_run(job=job, now=utc(2025, 6, 4, 12)) == utc(2025, 6, 4, 17)


def test_a_weekly_job_whose_time_has_passed_today_fires_next_week() -> None:
    job = unsaved_job(
        "Europe/London",
        schedule_type=JobConfiguration.ScheduleType.WEEKLY,
        schedule_day_of_week=JobConfiguration.DayOfWeek.WEDNESDAY,
        schedule_hour=9,
        schedule_minute=0,
    )

    assert job_next_run(job=job, now=utc(2025, 6, 4, 12)) == utc(2025, 6, 11, 8)


def test_a_weekly_sydney_job_keeps_its_local_time_across_the_october_change() -> None:
    job = unsaved_job(
        "Australia/Sydney",
        schedule_type=JobConfiguration.ScheduleType.WEEKLY,
        schedule_day_of_week=JobConfiguration.DayOfWeek.MONDAY,
        schedule_hour=6,
        schedule_minute=0,
    )

    # Monday 29 Sept 06:00 AEST, then Monday 6 Oct 06:00 AEDT: 167 hours apart, not 168.
    first = job_next_run(job=job, now=utc(2025, 9, 28, 12))
    second = job_next_run(job=job, now=first + timedelta(seconds=1))

    assert first == utc(2025, 9, 28, 20)
    assert second == utc(2025, 10, 5, 19)


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


# -- the django-q2 scheduler fires the job -------------------------------------------------------


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


# -- what a scheduled run archives ---------------------------------------------------------------


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
