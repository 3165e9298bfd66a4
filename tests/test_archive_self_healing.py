"""Scheduled runs heal themselves: they fill days a lost or missed run left out, see late edits
while they can still be billed, and a configuration that stops succeeding opens one item."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from accounts.microsoft import MicrosoftNotConfigured, graph_client
from accounts.models import User
from archiving.models import ArchiveConfiguration, ArchiveRun
from archiving.schedules import HEALING_LIMIT_DAYS, scheduled_window
from archiving.tasks import scheduled_archive
from auditing.models import ActionLog
from calendars.models import Appointment
from foundations.days import today_in
from tests.archive_helpers import add_event, archive_copies, run_archive
from tests.factories import AppointmentFactory, ArchiveConfigurationFactory, JobConfigurationFactory
from tests.fakes.microsoft import FakeMicrosoft
from timesheets.models import Timesheet

pytestmark = pytest.mark.django_db(databases=["default", "web"])

TODAY = date(2025, 5, 20)


def succeeded(configuration: ArchiveConfiguration, start: date, end: date) -> ArchiveRun:
    return ArchiveRun.objects.create(
        configuration=configuration,
        kind=ArchiveRun.Kind.SCHEDULED,
        start=start,
        end=end,
        status=ArchiveRun.Status.SUCCESS,
        correlation_id="earlier-run",
        finished_at=timezone.now(),
    )


def billed_through(user: User, day: date) -> None:
    timesheet = Timesheet.objects.create(
        user=user, start_date=day.replace(day=1), end_date=day, customer="Acme"
    )
    AppointmentFactory(
        user=user,
        start_time=datetime(day.year, day.month, day.day, 9, tzinfo=UTC),
        timesheet=timesheet,
    )


# -- the window of a scheduled run ---------------------------------------------------------------


def test_a_first_run_with_nothing_billed_reaches_back_the_healing_limit(alice: User) -> None:
    job = JobConfigurationFactory(
        archive_configuration=ArchiveConfigurationFactory(user=alice), archive_window_days=1
    )

    dates = scheduled_window(job=job, today=TODAY)

    assert (dates.start, dates.end) == (TODAY - timedelta(days=HEALING_LIMIT_DAYS - 1), TODAY)


def test_a_run_resumes_at_the_end_of_the_last_successful_window(alice: User) -> None:
    configuration = ArchiveConfigurationFactory(user=alice)
    job = JobConfigurationFactory(archive_configuration=configuration, archive_window_days=1)
    billed_through(alice, TODAY - timedelta(days=1))
    succeeded(configuration, TODAY - timedelta(days=4), TODAY - timedelta(days=3))

    dates = scheduled_window(job=job, today=TODAY)

    assert (dates.start, dates.end) == (TODAY - timedelta(days=3), TODAY)


def test_a_run_reaches_back_to_the_oldest_day_not_on_an_issued_timesheet(alice: User) -> None:
    configuration = ArchiveConfigurationFactory(user=alice)
    job = JobConfigurationFactory(archive_configuration=configuration, archive_window_days=1)
    billed_through(alice, TODAY - timedelta(days=6))
    succeeded(configuration, TODAY - timedelta(days=1), TODAY - timedelta(days=1))

    dates = scheduled_window(job=job, today=TODAY)

    assert dates.start == TODAY - timedelta(days=5)


def test_the_configured_window_is_the_minimum(alice: User) -> None:
    configuration = ArchiveConfigurationFactory(user=alice)
    job = JobConfigurationFactory(archive_configuration=configuration, archive_window_days=7)
    billed_through(alice, TODAY)
    succeeded(configuration, TODAY, TODAY)

    dates = scheduled_window(job=job, today=TODAY)

    assert dates.start == TODAY - timedelta(days=6)


# -- healing, end to end against the fake Graph -------------------------------------------------


def test_after_two_missed_days_the_next_scheduled_run_archives_each_day_once(
    connected_alice: User, fake_alice: FakeMicrosoft
) -> None:
    configuration = ArchiveConfigurationFactory(user=connected_alice)
    job = JobConfigurationFactory(archive_configuration=configuration, archive_window_days=1)
    today = today_in(configuration.timezone)
    days = [today - timedelta(days=back) for back in (3, 2, 1, 0)]
    for day in days:
        add_event(fake_alice, connected_alice, f"Acme {day}", f"{day}T10:00")
    run_archive(configuration, days[0])  # the last run that happened; two nights were missed
    succeeded(configuration, days[0], days[0])

    result = scheduled_archive(job.pk)

    assert result["status"] == "success"
    assert sorted(a.subject for a in Appointment.objects.all()) == [f"Acme {d}" for d in days]
    assert sorted(c["subject"] for c in archive_copies(fake_alice, connected_alice)) == [
        f"Acme {d}" for d in days
    ]


def test_a_meeting_extended_two_days_later_is_updated_by_the_next_scheduled_run(
    connected_alice: User, fake_alice: FakeMicrosoft
) -> None:
    configuration = ArchiveConfigurationFactory(user=connected_alice)
    job = JobConfigurationFactory(archive_configuration=configuration, archive_window_days=1)
    day = today_in(configuration.timezone) - timedelta(days=2)
    source = add_event(fake_alice, connected_alice, "Acme review", f"{day}T10:00", minutes=60)
    run_archive(configuration, day)
    succeeded(configuration, day, day)
    graph_client(user=connected_alice).request(
        "PATCH",
        f"me/events/{source['id']}",
        json={"end": {"dateTime": f"{day}T12:00:00", "timeZone": "Europe/London"}},
    )

    scheduled_archive(job.pk)

    appointment = Appointment.objects.get()
    assert appointment.end_time - appointment.start_time == timedelta(hours=2)
    [copy] = archive_copies(fake_alice, connected_alice)
    assert copy["end"]["dateTime"].startswith(f"{day}T")
    assert (
        datetime.fromisoformat(copy["end"]["dateTime"][:19])
        - datetime.fromisoformat(copy["start"]["dateTime"][:19])
    ) == timedelta(hours=2)


# -- a configuration that stops succeeding --------------------------------------------------------


def stale_items(user: User) -> list[ActionLog]:
    return list(ActionLog.objects.filter(user=user, event_type=ActionLog.EventType.ARCHIVE_STALE))


def test_no_success_for_more_than_two_periods_opens_one_item(alice: User) -> None:
    configuration = ArchiveConfigurationFactory(user=alice)  # never connected: every run fails
    ArchiveConfiguration.objects.filter(pk=configuration.pk).update(
        created_at=timezone.now() - timedelta(days=3)
    )
    job = JobConfigurationFactory(archive_configuration=configuration, archive_window_days=1)

    for _ in range(2):
        with pytest.raises(MicrosoftNotConfigured):
            scheduled_archive(job.pk)

    [item] = stale_items(alice)
    assert item.is_open
    assert item.description.startswith(f"Archive “{configuration}” has not run since ")


def test_a_failure_within_two_periods_opens_no_item(alice: User) -> None:
    job = JobConfigurationFactory(
        archive_configuration=ArchiveConfigurationFactory(user=alice), archive_window_days=1
    )

    with pytest.raises(MicrosoftNotConfigured):
        scheduled_archive(job.pk)

    assert stale_items(alice) == []


def test_the_item_closes_itself_when_a_run_succeeds(
    connected_alice: User, fake_alice: FakeMicrosoft
) -> None:
    configuration = ArchiveConfigurationFactory(user=connected_alice)
    job = JobConfigurationFactory(archive_configuration=configuration, archive_window_days=1)
    ActionLog.objects.open_item(
        user=connected_alice,
        event_type=ActionLog.EventType.ARCHIVE_STALE,
        key=f"archive-configuration-{configuration.pk}",
        description="Archive has not run since ...",
    )

    scheduled_archive(job.pk)

    [item] = stale_items(connected_alice)
    assert not item.is_open
