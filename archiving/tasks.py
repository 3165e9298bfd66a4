"""django-q2 tasks: thin wrappers that call the archive services."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from django.db import router, transaction
from django_q.models import Schedule

from archiving.leases import (
    Claim,
    archive_run_claim,
    archive_run_finish,
    archive_run_heartbeat,
)
from archiving.models import ArchiveConfiguration, ArchiveRun, JobConfiguration
from archiving.phrases import DateRange
from archiving.run import ArchiveAlreadyRunning, archive_run
from archiving.schedules import (
    archive_staleness_sync,
    job_firing_run,
    job_next_run,
    schedule_name,
)

logger = logging.getLogger(__name__)


def archive_task(
    configuration_id: int,
    start: str,
    end: str,
    correlation_id: str | None = None,
    run_id: int | None = None,
) -> dict[str, Any]:
    configuration = ArchiveConfiguration.objects.select_related("user").get(pk=configuration_id)
    dates = DateRange(date.fromisoformat(start), date.fromisoformat(end))
    record = ArchiveRun.objects.filter(pk=run_id).first() if run_id is not None else None
    return _summary(configuration, dates, correlation_id, record)


def scheduled_archive(job_id: int, fired_for: str | None = None) -> dict[str, Any]:
    """Archive, for a scheduled job, at least the last `archive_window_days` days ending today,
    and whatever a lost or missed run left out (`scheduled_window`). `fired_for` (the firing's
    due time, passed by django-q2) names the run: a firing delivered twice runs once."""
    job = (
        JobConfiguration.objects.select_related("archive_configuration__user")
        .filter(pk=job_id)
        .first()
    )
    if job is None:
        Schedule.objects.filter(name=schedule_name(job_id)).delete()
        return {"status": ArchiveRun.Status.SKIPPED.value, "reason": "the job no longer exists"}
    # django-q2 advances the schedule by whole days in the server's zone; put it back on the
    # job's local time so DST changes in the configuration's zone never shift it. After the
    # scheduler's transaction commits: when the task runs inside it (sync mode), the scheduler
    # saves its own next_run after the task returns and would overwrite an earlier correction.
    next_run = job_next_run(job=job)
    transaction.on_commit(
        lambda: Schedule.objects.filter(name=schedule_name(job.pk)).update(next_run=next_run),
        using=router.db_for_write(Schedule),
    )
    if not (job.is_active and job.archive_configuration.is_active):
        return {
            "status": ArchiveRun.Status.SKIPPED.value,
            "reason": "the job or its configuration is inactive",
        }
    configuration = job.archive_configuration
    record = job_firing_run(job=job, fired_for=fired_for)
    dates = DateRange(record.start, record.end)
    try:
        return _summary(configuration, dates, record.correlation_id, record)
    finally:
        archive_staleness_sync(job=job, succeeded=record.status == ArchiveRun.Status.SUCCESS)


def _summary(
    configuration: ArchiveConfiguration,
    dates: DateRange,
    correlation_id: str | None,
    record: ArchiveRun | None = None,
) -> dict[str, Any]:
    if record is None:
        return _run(configuration, dates, correlation_id, None)
    claim = archive_run_claim(record=record)
    if claim != Claim.STARTED:
        # Delivered again (django-q2's Q_RETRY): its run finished, was handed over, or is alive
        # in another worker.
        where = " elsewhere" if claim == Claim.ALIVE else ""
        reason = f"run {record.pk} is {record.status}{where}"
        logger.info("archive task for run %s not started: %s", record.pk, reason)
        return {"status": ArchiveRun.Status.SKIPPED.value, "reason": reason, "run": record.pk}
    with archive_run_heartbeat(record=record):
        return _run(configuration, dates, correlation_id, record)


def _run(
    configuration: ArchiveConfiguration,
    dates: DateRange,
    correlation_id: str | None,
    record: ArchiveRun | None,
) -> dict[str, Any]:
    try:
        result = archive_run(
            configuration=configuration, dates=dates, correlation_id=correlation_id
        )
    except ArchiveAlreadyRunning as error:
        logger.info("%s", error)
        summary: dict[str, Any] = {"status": ArchiveRun.Status.SKIPPED.value, "reason": str(error)}
        if record is not None:
            archive_run_finish(record=record, status=ArchiveRun.Status.SKIPPED, result=summary)
        return summary
    except Exception as error:
        if record is not None:
            archive_run_finish(
                record=record, status=ArchiveRun.Status.FAILURE, error=str(error)[:2000]
            )
        raise
    summary = {
        "status": result.status,
        "dates": str(dates),
        "counts": result.counts.as_dict(),
        "audit_id": result.audit_id,
        "correlation_id": result.correlation_id,
    }
    if record is not None:
        succeeded = result.status == ArchiveRun.Status.SUCCESS
        archive_run_finish(
            record=record,
            status=ArchiveRun.Status.SUCCESS if succeeded else ArchiveRun.Status.PARTIAL,
            result=summary,
        )
    return summary
