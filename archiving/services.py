"""Archive workflows: finding configurations, enqueueing runs, and django-q2 schedules."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task

from archiving.models import ArchiveConfiguration, JobConfiguration
from archiving.phrases import DateRange, parse_date_phrase
from auditing.context import current_correlation_id, new_correlation_id

SCHEDULE_PREFIX = "archive-job-"
SCHEDULED_TASK = "archiving.tasks.scheduled_archive"
ARCHIVE_TASK = "archiving.tasks.archive_task"


class ConfigurationNotFound(Exception):
    pass


def archive_configuration_find(*, reference: str, user: Any = None) -> ArchiveConfiguration:
    """A configuration by id or by name (names are unique per user)."""
    configurations = ArchiveConfiguration.objects.select_related("user")
    if user is not None:
        configurations = configurations.for_user(user)
    if reference.isdigit():
        found = configurations.filter(pk=int(reference)).first()
        if found:
            return found
    matches = list(configurations.filter(name__iexact=reference.strip()))
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise ConfigurationNotFound(
            f"{len(matches)} configurations are named “{reference}”; use the id instead: "
            + ", ".join(f"{c.pk} ({c.user.email})" for c in matches)
        )
    raise ConfigurationNotFound(f"No archive configuration has the id or name “{reference}”.")


def today_in(zone_name: str, *, now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(zoneinfo.ZoneInfo(zone_name)).date()


def archive_dates(
    *, configuration: ArchiveConfiguration, phrase: str, now: datetime | None = None
) -> DateRange:
    """The dates a phrase means, with 'today' taken in the configuration's time zone."""
    return parse_date_phrase(phrase, today=today_in(configuration.timezone, now=now))


def archive_enqueue(*, configuration: ArchiveConfiguration, dates: DateRange) -> str:
    """Queue a run on the django-q2 cluster; returns the correlation id its audit rows carry."""
    correlation_id = current_correlation_id() or new_correlation_id()

    def enqueue() -> None:
        async_task(
            ARCHIVE_TASK,
            configuration.pk,
            dates.start.isoformat(),
            dates.end.isoformat(),
            correlation_id,
            task_name=f"archive {configuration.pk} {dates}",
            group=f"archive-{configuration.pk}",
        )

    # The worker must see the configuration as committed on the core database.
    transaction.on_commit(enqueue, using="default")
    return correlation_id


def job_next_run(*, job: JobConfiguration, now: datetime | None = None) -> datetime | None:
    """When the job next fires, at its local hour and minute (DST-correct); None for manual."""
    if job.schedule_type == JobConfiguration.ScheduleType.MANUAL:
        return None
    zone = zoneinfo.ZoneInfo(job.archive_configuration.timezone)
    now = now or timezone.now()
    local_today = now.astimezone(zone).date()
    for offset in range(0, 8 if job.schedule_type == JobConfiguration.ScheduleType.WEEKLY else 2):
        day = local_today + timedelta(days=offset)
        if (
            job.schedule_type == JobConfiguration.ScheduleType.WEEKLY
            and day.weekday() != job.schedule_day_of_week
        ):
            continue
        candidate = datetime(
            day.year, day.month, day.day, job.schedule_hour, job.schedule_minute, tzinfo=zone
        )
        if candidate > now:
            return candidate
    raise AssertionError("a daily or weekly job always has a next run within eight days")


def schedule_name(job_id: int) -> str:
    return f"{SCHEDULE_PREFIX}{job_id}"


def job_schedule_sync(*, job: JobConfiguration, now: datetime | None = None) -> Schedule | None:
    """Make the job's django-q2 schedule match the job: one schedule per active job."""
    name = schedule_name(job.pk)
    wanted = (
        job.is_active
        and job.archive_configuration.is_active
        and job.schedule_type != JobConfiguration.ScheduleType.MANUAL
    )
    if not wanted:
        Schedule.objects.filter(name=name).delete()
        return None
    kind = (
        Schedule.WEEKLY
        if job.schedule_type == JobConfiguration.ScheduleType.WEEKLY
        else (Schedule.DAILY)
    )
    schedule, _ = Schedule.objects.update_or_create(
        name=name,
        defaults={
            "func": SCHEDULED_TASK,
            "args": repr((job.pk,)),
            "schedule_type": kind,
            "repeats": -1,
            "next_run": job_next_run(job=job, now=now),
        },
    )
    return schedule


def job_schedule_remove(*, job_id: int) -> None:
    Schedule.objects.filter(name=schedule_name(job_id)).delete()


def configuration_schedules_sync(*, configuration: ArchiveConfiguration) -> None:
    """After a configuration changes (time zone, active), its jobs' schedules follow."""
    for job in configuration.job_configurations.select_related("archive_configuration"):
        job_schedule_sync(job=job)


def schedules_sync(*, now: datetime | None = None) -> dict[str, int]:
    """Reconcile every job with its schedule; remove schedules whose job is gone."""
    jobs = list(JobConfiguration.objects.select_related("archive_configuration"))
    kept = 0
    for job in jobs:
        if job_schedule_sync(job=job, now=now) is not None:
            kept += 1
    known = {schedule_name(job.pk) for job in jobs}
    orphans = Schedule.objects.filter(name__startswith=SCHEDULE_PREFIX).exclude(name__in=known)
    removed, _ = orphans.delete()
    return {"jobs": len(jobs), "scheduled": kept, "removed": removed}


class OverlapResolutionError(Exception):
    pass


def overlap_resolve(*, item: Any, keep_ids: list[int], user: Any) -> str | None:
    """Settle an overlap conflict: keep the chosen appointments, drop the rest.

    The item is resolved and, unless the configuration is gone, an archive run is queued for
    the day so that the kept appointments reach the archive calendar. Returns its correlation id.
    """
    from auditing.models import ActionLog
    from auditing.services import audit_record
    from calendars.models import Appointment

    if item.event_type != "overlap" or item.state != ActionLog.State.OPEN:
        raise OverlapResolutionError("Only an open overlap item can be resolved this way.")
    member_ids = [member["id"] for member in (item.details or {}).get("appointments", [])]
    if not keep_ids:
        raise OverlapResolutionError("Choose at least one appointment to keep.")
    if not set(keep_ids) <= set(member_ids):
        raise OverlapResolutionError("Only appointments of this overlap can be kept.")
    members = list(Appointment.objects.filter(pk__in=member_ids, user=item.user))
    with transaction.atomic():
        for appointment in members:
            kept = appointment.pk in keep_ids
            appointment.overlap_state = (
                Appointment.OverlapState.KEPT if kept else Appointment.OverlapState.DISCARDED
            )
            appointment.overlap_reason = f"{'kept' if kept else 'dropped'} by {user}"
            appointment.is_archived = not kept
        Appointment.objects.bulk_update(members, ["overlap_state", "overlap_reason", "is_archived"])
        item.state = ActionLog.State.RESOLVED
        item.closed_at = timezone.now()
        item.closed_by = user
        item.save(update_fields=["state", "closed_at", "closed_by", "updated_at"])
        audit_record(
            action_type="archive",
            operation="overlap_resolve",
            user=user,
            resource_type="ActionLog",
            resource_id=item.pk,
            message=f"Kept {len(keep_ids)} of {len(members)} overlapping appointments",
            details={"kept": sorted(keep_ids), "dropped": sorted(set(member_ids) - set(keep_ids))},
        )
    configuration = ArchiveConfiguration.objects.filter(
        pk=(item.details or {}).get("configuration"), user=item.user
    ).first()
    if configuration is None or not members:
        return None
    zone = zoneinfo.ZoneInfo(configuration.timezone)
    days = sorted({a.start_time.astimezone(zone).date() for a in members})
    return archive_enqueue(configuration=configuration, dates=DateRange(days[0], days[-1]))
