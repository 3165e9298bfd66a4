"""When an archive job runs next: at its local time, across the clocks changing."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from archiving.models import ArchiveConfiguration, JobConfiguration
from archiving.schedules import job_next_run

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
