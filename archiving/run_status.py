"""What became of archive runs: a queued run's status (for the API and the admin's run page),
each configuration's latest run, and the action items a run opened."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connections
from django.db.models import Max, Model, OuterRef, QuerySet, Subquery
from django_q.models import Task

from accounts.models import User
from archiving.models import ArchiveConfiguration, ArchiveRun
from archiving.phrases import DateRange
from auditing.models import ActionLog, AuditLog


@dataclass(frozen=True)
class ArchiveRunStatus:
    task_id: str
    # An ArchiveRun.Status value: queued, running, success or failure (a partial or skipped run
    # is a success its result explains).
    status: str
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
    ArchiveRun.Status.PARTIAL: ArchiveRun.Status.SUCCESS,
    ArchiveRun.Status.SKIPPED: ArchiveRun.Status.SUCCESS,
    ArchiveRun.Status.ABANDONED: ArchiveRun.Status.FAILURE,
}


def archive_run_status(*, task_id: str, user: User) -> ArchiveRunStatus | None:
    """What became of a queued run, if the user may see it (None otherwise).

    Answered from our own ArchiveRun record, which django-q2's result pruning never touches;
    runs queued before that record existed are looked up in the audit log and django-q2."""
    if not re.fullmatch(r"[0-9a-f]{32}", task_id or ""):
        return None
    record = ArchiveRun.objects.for_user(user).filter(task_id=task_id).first()
    # A run abandoned by its dead worker answers with the run that took its work over.
    while record is not None and record.status == ArchiveRun.Status.ABANDONED:
        retry = ArchiveRun.objects.filter(retry_of=record).first()
        if retry is None:
            break
        record = retry
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


def _audited_run_status(*, task_id: str, user: User) -> ArchiveRunStatus | None:
    queued = (
        AuditLog.objects.for_user(user)
        .filter(
            action_type=AuditLog.ActionType.ARCHIVE, operation="enqueue", details__task_id=task_id
        )
        .order_by("-id")
        .first()
    )
    if queued is None:
        return None
    details = queued.details or {}
    task = Task.objects.filter(pk=task_id).first()
    status, result, error = ArchiveRun.Status.QUEUED, None, None
    if task is not None:
        status = ArchiveRun.Status.SUCCESS if task.success else ArchiveRun.Status.FAILURE
        if task.success:
            result = task.result
        else:
            lines = [line for line in str(task.result or "").splitlines() if line.strip()]
            error = lines[-1].strip() if lines else "The task failed."
    elif AuditLog.objects.filter(
        correlation_id=queued.correlation_id,
        action_type=AuditLog.ActionType.ARCHIVE,
        operation="run",
        status=AuditLog.Status.RUNNING,
    ).exists():
        status = ArchiveRun.Status.RUNNING
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


@dataclass(frozen=True)
class LastRun:
    """A configuration's latest run, as its pages show it: the recorded run (`ArchiveRun`, what
    queued, scheduled and demo runs write) with the message of its audit row, or the audit row
    alone for a run that has no record (`manage.py archive` runs in the terminal)."""

    at: datetime  # when the recorded run finished; when an unrecorded one started
    status: str  # an ArchiveRun.Status (or, for an unrecorded run, AuditLog.Status) value
    label: str
    message: str
    correlation_id: str | None
    record: ArchiveRun | None = None


def archive_last_runs(*, configuration_ids: list[int]) -> dict[int, LastRun]:
    """The latest run of each configuration: two queries, however many runs (none for no
    configurations)."""
    if not configuration_ids:
        return {}
    audited = _last_audited_runs(configuration_ids)
    records = latest_finished_runs(configuration_ids)
    last = {pk: _audited(row) for pk, row in audited.items()}
    for record in records:
        row = audited.get(record.configuration_id)
        assert record.finished_at is not None
        if row is not None and row.correlation_id != record.correlation_id:
            if row.created_at > record.finished_at:
                continue  # an unrecorded run came after it
            row = None
        last[record.configuration_id] = LastRun(
            at=record.finished_at,
            status=record.status,
            label=record.get_status_display(),
            message=(row.message if row else None)
            or record.error
            or str((record.result or {}).get("reason") or ""),
            correlation_id=record.correlation_id,
            record=record,
        )
    return last


def latest_finished_runs(configuration_ids: list[int]) -> QuerySet[ArchiveRun]:
    """Each configuration's latest finished run, picked by the database: one query."""
    finished = ArchiveRun.objects.filter(
        configuration_id__in=configuration_ids, finished_at__isnull=False
    )
    if _distinct_on(ArchiveRun):
        # The first row of each configuration in this order: a third of the subquery's time.
        return finished.order_by("configuration_id", "-finished_at", "-pk").distinct(
            "configuration_id"
        )
    latest = finished.filter(configuration=OuterRef("pk")).order_by("-finished_at", "-pk")
    return ArchiveRun.objects.filter(
        pk__in=ArchiveConfiguration.objects.filter(pk__in=configuration_ids)
        .annotate(last=Subquery(latest.values("pk")[:1]))
        .values("last")
    )


def latest_audited_runs(configuration_ids: list[int]) -> QuerySet[AuditLog]:
    """The latest archive-run audit row of each configuration, picked by the database: one
    query."""
    runs = AuditLog.objects.filter(
        action_type=AuditLog.ActionType.ARCHIVE,
        operation="run",
        resource_type="ArchiveConfiguration",
        resource_id__in=[str(pk) for pk in configuration_ids],
    )
    if _distinct_on(AuditLog):
        return runs.order_by("resource_id", "-id").distinct("resource_id")
    latest = runs.values("resource_id").annotate(last=Max("id")).values("last")
    return AuditLog.objects.filter(pk__in=latest).order_by()


def _distinct_on(model: type[Model]) -> bool:
    """Whether the model's database picks each group's first row itself (PostgreSQL's
    DISTINCT ON)."""
    return connections[model._default_manager.db].features.can_distinct_on_fields


def _audited(row: AuditLog) -> LastRun:
    return LastRun(
        at=row.created_at,
        status=row.status,
        label=row.get_status_display(),
        message=row.message or "",
        correlation_id=row.correlation_id,
    )


def _last_audited_runs(configuration_ids: list[int]) -> dict[int, AuditLog]:
    """The latest archive-run audit row of each configuration: one query."""
    # What a LastRun reads: not the rows' request and response bodies.
    rows = latest_audited_runs(configuration_ids).only(
        "pk", "resource_id", "created_at", "status", "message", "correlation_id"
    )
    # Each row's resource_id is one of the configurations' ids (the filter says so).
    return {int(row.resource_id or 0): row for row in rows}


def archive_run_opened_items(*, run: ArchiveRunStatus, user: User) -> list[ActionLog]:
    """The action items the run opened: the owner's items created while it ran."""

    if run.finished_at is None or run.configuration_id is None:
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
