"""Archive workflows: finding configurations, enqueueing runs, and django-q2 schedules."""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_q.models import Schedule, Task
from django_q.tasks import async_task

from adminassistant.days import today_in
from archiving.models import ArchiveConfiguration, ArchiveRun, JobConfiguration
from archiving.phrases import DateRange, parse_date_phrase
from auditing.context import current_correlation_id, new_correlation_id
from auditing.models import ActionLog, AuditLog
from auditing.services import audit_operation

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


def archive_dates(
    *, configuration: ArchiveConfiguration, phrase: str, now: datetime | None = None
) -> DateRange:
    """The dates a phrase means, with 'today' taken in the configuration's time zone."""
    return parse_date_phrase(phrase, today=today_in(configuration.timezone, now=now))


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
            "Check that the qcluster workers are running (GET /health/ready/).",
            "Reconnect Microsoft 365 if the runs fail to sign in.",
        ],
    )


@dataclass
class ArchiveQueued:
    """A queued archive run. `task_id` is django-q2's id, known once the surrounding transaction
    on the core database has committed (at once outside a transaction)."""

    correlation_id: str
    task_id: str | None = None


def archive_enqueue(*, configuration: ArchiveConfiguration, dates: DateRange) -> str:
    """Queue a run on the django-q2 cluster; returns the correlation id its audit rows carry."""
    return archive_queue(configuration=configuration, dates=dates).correlation_id


def archive_queue(
    *, configuration: ArchiveConfiguration, dates: DateRange, by: Any = None
) -> ArchiveQueued:
    """Queue a run on the django-q2 cluster and record it (`archive.enqueue`, with the task id)
    so that `archive_run_status` can find it by task id."""
    queued = ArchiveQueued(correlation_id=current_correlation_id() or new_correlation_id())

    def enqueue() -> None:
        # Recorded before the task is queued: a worker (or sync mode) may start it at once.
        record = ArchiveRun.objects.create(
            configuration=configuration,
            requested_by=by if getattr(by, "pk", None) is not None else None,
            kind=ArchiveRun.Kind.MANUAL,
            start=dates.start,
            end=dates.end,
            correlation_id=queued.correlation_id,
        )
        queued.task_id = async_task(
            ARCHIVE_TASK,
            configuration.pk,
            dates.start.isoformat(),
            dates.end.isoformat(),
            queued.correlation_id,
            run_id=record.pk,
            task_name=f"archive {configuration.pk} {dates}",
            group=f"archive-{configuration.pk}",
        )
        ArchiveRun.objects.filter(pk=record.pk).update(task_id=queued.task_id)
        # Recorded after the task is queued, so that (in sync mode) the run is not its child.
        with audit_operation(
            action_type="archive",
            operation="enqueue",
            user=configuration.user,
            resource_type="ArchiveConfiguration",
            resource_id=configuration.pk,
            message=f"Queued an archive of “{configuration}” for {dates}",
            correlation_id=queued.correlation_id,
        ) as audit:
            audit.details = {
                "task_id": queued.task_id,
                "start": dates.start.isoformat(),
                "end": dates.end.isoformat(),
                "requested_by": getattr(by, "pk", None),
            }

    # The worker must see the configuration as committed on the core database.
    transaction.on_commit(enqueue, using="default")
    return queued


@dataclass(frozen=True)
class ArchiveRunStatus:
    task_id: str
    status: str  # queued, running, success or failure
    configuration_id: int | None
    dates: DateRange
    correlation_id: str
    queued_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    result: Any = None
    error: str | None = None


# The API reports whether the task finished; its result says how the run went.
_API_STATUS = {
    ArchiveRun.Status.PARTIAL: "success",
    ArchiveRun.Status.SKIPPED: "success",
}


def archive_run_status(*, task_id: str, user: Any) -> ArchiveRunStatus | None:
    """What became of a queued run, if the user may see it (None otherwise).

    Answered from our own ArchiveRun record, which django-q2's result pruning never touches;
    runs queued before that record existed are looked up in the audit log and django-q2."""
    if not re.fullmatch(r"[0-9a-f]{32}", task_id or ""):
        return None
    record = ArchiveRun.objects.for_user(user).filter(task_id=task_id).first()
    if record is not None:
        return ArchiveRunStatus(
            task_id=task_id,
            status=_API_STATUS.get(record.status, record.status),
            configuration_id=record.configuration_id,
            dates=DateRange(record.start, record.end),
            correlation_id=record.correlation_id,
            queued_at=record.queued_at,
            started_at=record.started_at,
            finished_at=record.finished_at,
            result=record.result,
            error=record.error,
        )
    return _audited_run_status(task_id=task_id, user=user)


def _audited_run_status(*, task_id: str, user: Any) -> ArchiveRunStatus | None:
    queued = (
        AuditLog.objects.for_user(user)
        .filter(action_type="archive", operation="enqueue", details__task_id=task_id)
        .order_by("-id")
        .first()
    )
    if queued is None:
        return None
    details = queued.details or {}
    task = Task.objects.filter(pk=task_id).first()
    status, result, error = "queued", None, None
    if task is not None:
        status = "success" if task.success else "failure"
        if task.success:
            result = task.result
        else:
            lines = [line for line in str(task.result or "").splitlines() if line.strip()]
            error = lines[-1].strip() if lines else "The task failed."
    elif AuditLog.objects.filter(
        correlation_id=queued.correlation_id,
        action_type="archive",
        operation="run",
        status=AuditLog.Status.RUNNING,
    ).exists():
        status = "running"
    return ArchiveRunStatus(
        task_id=task_id,
        status=status,
        configuration_id=int(queued.resource_id) if (queued.resource_id or "").isdigit() else None,
        dates=DateRange(date.fromisoformat(details["start"]), date.fromisoformat(details["end"])),
        correlation_id=queued.correlation_id,
        queued_at=queued.created_at,
        started_at=task.started if task else None,
        finished_at=task.stopped if task else None,
        result=result,
        error=error,
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
    if not members:
        raise OverlapResolutionError("The appointments of this overlap no longer exist.")
    with transaction.atomic():
        for appointment in members:
            kept = appointment.pk in keep_ids
            appointment.overlap_state = (
                Appointment.OverlapState.KEPT if kept else Appointment.OverlapState.DISCARDED
            )
            appointment.overlap_reason = f"{'kept' if kept else 'dropped'} by {user}"
            appointment.is_archived = not kept
        Appointment.objects.bulk_update(members, ["overlap_state", "overlap_reason", "is_archived"])
        item.close(by=user, note=f"kept {len(keep_ids)} of {len(members)}")
        audit_record(
            action_type="archive",
            operation="overlap_resolve",
            user=user,
            resource_type="ActionLog",
            resource_id=item.pk,
            message=f"Kept {len(keep_ids)} of {len(members)} overlapping appointments",
            details={"kept": sorted(keep_ids), "dropped": sorted(set(member_ids) - set(keep_ids))},
        )
    return _archive_again(item, members)


def _archive_again(item: Any, members: list[Any]) -> str | None:
    """Queue a run of the members' days for every active configuration that reads their
    calendar, so each destination gets the kept ones. Returns the first correlation id."""
    calendars = {a.calendar_id for a in members if a.calendar_id}
    configurations = list(
        ArchiveConfiguration.objects.filter(
            user=item.user, is_active=True, source_calendar_id__in=calendars
        )
    )
    named = (item.details or {}).get("configuration")
    if not configurations and named:
        configurations = list(ArchiveConfiguration.objects.filter(pk=named, user=item.user))
    correlation_ids = []
    for configuration in configurations:
        zone = zoneinfo.ZoneInfo(configuration.timezone)
        days = sorted({a.start_time.astimezone(zone).date() for a in members})
        correlation_ids.append(
            archive_enqueue(configuration=configuration, dates=DateRange(days[0], days[-1]))
        )
    return correlation_ids[0] if correlation_ids else None


def archive_last_runs(*, configuration_ids: list[int]) -> dict[int, Any]:
    """The latest archive-run audit row of each configuration: two queries, however many runs."""
    from django.db.models import Max

    from auditing.models import AuditLog

    runs = AuditLog.objects.filter(
        action_type="archive",
        operation="run",
        resource_type="ArchiveConfiguration",
        resource_id__in=[str(pk) for pk in configuration_ids],
    )
    latest = runs.values("resource_id").annotate(last=Max("id")).values_list("last", flat=True)
    return {int(row.resource_id): row for row in AuditLog.objects.filter(pk__in=list(latest))}


def archive_run_opened_items(*, run: ArchiveRunStatus, user: Any) -> list[Any]:
    """The action items the run opened: the owner's items created while it ran."""
    from auditing.models import ActionLog

    if run.finished_at is None:
        return []
    configuration = ArchiveConfiguration.objects.filter(pk=run.configuration_id).first()
    if configuration is None:
        return []
    # Whole seconds: SQLite's CURRENT_TIMESTAMP (the column's db_default) has no fractions.
    began = min(filter(None, [run.started_at, run.queued_at])).replace(microsecond=0)
    return list(
        ActionLog.objects.for_user(user)
        .filter(
            user=configuration.user,
            created_at__gte=began,
            created_at__lt=run.finished_at + timedelta(seconds=1),
        )
        .order_by("created_at", "id")[:100]
    )


class SourceDeletedError(Exception):
    """A source-deleted item cannot be settled that way; the message says why."""


def _source_deleted_appointment(item: Any) -> Any:
    from auditing.models import ActionLog
    from calendars.models import Appointment

    if item.event_type != ActionLog.EventType.SOURCE_DELETED or not item.is_open:
        raise SourceDeletedError("Only an open 'deleted from the source' item can be settled.")
    appointment = Appointment.objects.filter(
        pk=(item.details or {}).get("appointment"), user=item.user
    ).first()
    if appointment is None:
        raise SourceDeletedError("The appointment of this item no longer exists.")
    return appointment


def source_deleted_keep(*, item: Any, by: Any) -> None:
    """It happened: keep billing it. The appointment and its copies stay as they are."""
    appointment = _source_deleted_appointment(item)
    item.close(by=by, note=f"it happened: “{appointment}” stays billed")


def source_deleted_discard(*, item: Any, by: Any, client: Any = None) -> int:
    """It did not happen: the appointment stops counting (no timesheet bills it from now on)
    and its archive copies are deleted from Outlook. An issued timesheet that already bills it
    keeps it until that timesheet is voided. Returns the number of copies deleted.

    A copy Outlook could not delete stays recorded and the item stays open, so doing it again
    finishes the work.
    """
    from accounts.microsoft import graph_client
    from archiving.models import ArchiveCopy
    from calendars.models import Appointment

    appointment = _source_deleted_appointment(item)
    copies = list(ArchiveCopy.objects.filter(appointment=appointment).select_related("destination"))
    with audit_operation(
        action_type="archive",
        operation="source_deleted_discard",
        user=by,
        resource_type="Appointment",
        resource_id=appointment.pk,
        message=f"“{appointment}” did not happen: it no longer counts",
    ) as audit:
        Appointment.objects.filter(pk=appointment.pk).update(
            is_cancelled=True, updated_at=timezone.now()
        )
        deleted, failed = [], []
        if copies:
            client = client or graph_client(user=item.user)
            for mailbox in sorted({copy.destination.mailbox for copy in copies}):
                # Each copy is deleted in the mailbox that holds it, never in another.
                in_mailbox = [copy for copy in copies if copy.destination.mailbox == mailbox]
                answers = client.for_mailbox(mailbox or None).delete_events(
                    [copy.event_id for copy in in_mailbox]
                )
                for copy, answer in zip(in_mailbox, answers, strict=True):
                    # 404: somebody deleted the copy already; either way it is gone.
                    done = answer.ok or answer.status == 404
                    (deleted if done else failed).append((copy, answer))
            ArchiveCopy.objects.filter(pk__in=[copy.pk for copy, _ in deleted]).delete()
        audit.details = {
            "copies_deleted": [copy.destination.name for copy, _ in deleted],
            "copies_failed": [f"{copy.destination.name}: {a.error()}" for copy, a in failed],
            "on_issued_timesheet": appointment.timesheet_id,
        }
        if failed:
            audit.status = AuditLog.Status.PARTIAL
            raise SourceDeletedError(
                f"{len(failed)} archive cop{'y' if len(failed) == 1 else 'ies'} could not be "
                f"deleted from Outlook ({failed[0][1].error()}); try again."
            )
    note = "it did not happen: no longer billed"
    if appointment.is_locked:
        note += " (the issued timesheet keeps it until voided)"
    item.close(by=by, note=note)
    return len(deleted)
