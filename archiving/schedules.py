"""When archive jobs run: their django-q2 schedules (one per active job, DST-correct next run),
the days a scheduled run archives (its window, healed back over missed days), and the action
item that says a configuration has stopped running."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django_q.models import Schedule

from archiving.models import ArchiveConfiguration, ArchiveRun, JobConfiguration
from archiving.phrases import DateRange
from auditing.context import new_correlation_id
from auditing.models import ActionLog
from auditing.recommendations import recommendation
from foundations.days import today_in

SCHEDULE_PREFIX = "archive-job-"
SCHEDULED_TASK = "archiving.tasks.scheduled_archive"
# django-q2 passes each firing's due time under this name (`Schedule.intended_date_kwarg`).
FIRED_FOR = "fired_for"


# How far back a scheduled run reaches to fill missed days and see late edits.
HEALING_LIMIT_DAYS = 31


def scheduled_window(*, job: JobConfiguration, today: date) -> DateRange:
    """The days a scheduled run archives: its configured window at least, and back to the end of
    the configuration's last successful run's window (days a lost or missed run left out) and to
    the oldest day not yet on an issued timesheet (late edits, still billable), at most
    `HEALING_LIMIT_DAYS` days ending today. Manual runs keep their explicit dates."""
    from calendars.models import Appointment

    configuration = job.archive_configuration
    configured_start = today - timedelta(days=max(job.archive_window_days, 1) - 1)
    oldest = today - timedelta(days=HEALING_LIMIT_DAYS - 1)
    last = ArchiveRun.objects.last_success(configuration)
    # The last window's end day is read again: the run may have ended before that day did.
    resume_from = last.end if last is not None else oldest
    billed_until = (
        Appointment.objects.filter(
            user=configuration.user, timesheet__status="issued", start_time__isnull=False
        )
        .order_by("-start_time")
        .values_list("start_time", flat=True)
        .first()
    )
    unbilled_from = (
        billed_until.astimezone(zoneinfo.ZoneInfo(configuration.timezone)).date()
        + timedelta(days=1)
        if billed_until is not None
        else oldest
    )
    start = min(configured_start, max(oldest, min(resume_from, unbilled_from)))
    return DateRange(start, today)


def job_period(job: JobConfiguration) -> timedelta:
    return (
        timedelta(weeks=1)
        if job.schedule_type == JobConfiguration.ScheduleType.WEEKLY
        else (timedelta(days=1))
    )


def archive_staleness_sync(
    *, job: JobConfiguration, succeeded: bool, now: datetime | None = None
) -> None:
    """Open one action item when a configuration has had no successful run for more than two
    scheduled periods; close it once a run succeeds."""
    configuration = job.archive_configuration
    key = f"archive-configuration-{configuration.pk}"
    stale = ActionLog.objects.filter(
        user=configuration.user, event_type=ActionLog.EventType.ARCHIVE_STALE, key=key
    ).open()
    if succeeded:
        for item in stale:
            item.close(by=None, note="A run succeeded.")
        return
    last = (
        ArchiveRun.objects.filter(configuration=configuration, status=ArchiveRun.Status.SUCCESS)
        .order_by("-finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )
    since = last or configuration.created_at
    if since is None or (now or timezone.now()) - since <= 2 * job_period(job):
        return
    local = since.astimezone(zoneinfo.ZoneInfo(configuration.timezone))
    ActionLog.objects.open_item(
        user=configuration.user,
        event_type=ActionLog.EventType.ARCHIVE_STALE,
        key=key,
        description=f"Archive “{configuration}” has not run since {local:%Y-%m-%d %H:%M %Z}",
        details={"configuration": configuration.pk, "last_success": since.isoformat()},
        recommendations=[
            recommendation(
                id="archive-now",
                label="Archive the missed days now",
                action="archive_now",
                confidence=0.7,
                reason="Scheduled runs have not succeeded: check that the qcluster workers "
                "run (GET /health/ready/) and that Microsoft 365 accepts the sign-in.",
            )
        ],
    )


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
            "kwargs": None,
            "intended_date_kwarg": FIRED_FOR,
            "schedule_type": kind,
            "repeats": -1,
            "next_run": job_next_run(job=job, now=now),
        },
    )
    return schedule


def firing_key(*, job_id: int, fired_for: str | datetime) -> str:
    """One firing of a job's schedule: its name and due time (UTC)."""
    when = datetime.fromisoformat(fired_for) if isinstance(fired_for, str) else fired_for
    return f"{schedule_name(job_id)}@{when.astimezone(UTC).isoformat()}"


def job_firing_run(
    *, job: JobConfiguration, fired_for: str | datetime | None, today: date | None = None
) -> ArchiveRun:
    """The run of one firing of the job's schedule, recorded on the first ask (by the cluster's
    scheduler pass before it fires, or by the task), so a firing delivered twice finds it."""
    configuration = job.archive_configuration
    key = firing_key(job_id=job.pk, fired_for=fired_for) if fired_for is not None else None
    if key is not None:
        existing = ArchiveRun.objects.filter(firing=key).first()
        if existing is not None:
            return existing
    dates = scheduled_window(job=job, today=today or today_in(configuration.timezone))
    record = ArchiveRun(
        configuration=configuration,
        kind=ArchiveRun.Kind.SCHEDULED,
        start=dates.start,
        end=dates.end,
        correlation_id=new_correlation_id(),
        firing=key,
    )
    try:
        with transaction.atomic(using="default"):
            record.save()
    except IntegrityError:
        return ArchiveRun.objects.get(firing=key)
    return record


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
