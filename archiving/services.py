"""Finding archive configurations and queueing archive runs (django-q2 tasks). Schedules are in
`schedules.py`, run status in `run_status.py`, action-item resolutions in `resolutions.py`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django_q.tasks import async_task

from accounts.models import User
from archiving.models import ArchiveConfiguration, ArchiveRun
from archiving.phrases import DateRange, parse_date_phrase
from archiving.tasks import archive_task
from auditing.context import current_correlation_id, new_correlation_id
from auditing.models import AuditLog
from auditing.services import audit_operation
from foundations.days import today_in

ARCHIVE_TASK = "archiving.tasks.archive_task"


class ConfigurationNotFound(Exception):
    pass


def archive_configuration_find(*, reference: str, user: User | None = None) -> ArchiveConfiguration:
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


@dataclass
class ArchiveQueued:
    """A queued archive run. `task_id` is django-q2's id, known once the surrounding transaction
    on the core database has committed (at once outside a transaction)."""

    correlation_id: str
    task_id: str | None = None


def archive_queue(
    *, configuration: ArchiveConfiguration, dates: DateRange, by: User | None = None
) -> ArchiveQueued:
    """Queue a run on the django-q2 cluster and record it (`archive.enqueue`, with the task id)
    so that `archive_run_status` can find it by task id."""
    queued = ArchiveQueued(correlation_id=current_correlation_id() or new_correlation_id())

    def enqueue() -> None:
        # Recorded before the task is queued: a worker (or sync mode) may start it at once.
        record = _run_record(configuration, dates, by, queued.correlation_id)
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
            action_type=AuditLog.ActionType.ARCHIVE,
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


def archive_run_here(
    *, configuration: ArchiveConfiguration, dates: DateRange, by: User | None = None
) -> ArchiveRun:
    """Run at once, in this process, the run `archive_queue` would queue: the same record,
    claimed, leased and closed by the task function a worker calls (`archive_task`), so it is
    recorded exactly as a queued run is (status, window, counts, finished_at). For callers with
    no cluster to queue on (`manage.py demo`); it has no django-q2 task, so no task id. A run
    that raises is recorded as failed and the error propagates."""
    record = _run_record(configuration, dates, by, new_correlation_id())
    archive_task(
        configuration.pk,
        dates.start.isoformat(),
        dates.end.isoformat(),
        record.correlation_id,
        run_id=record.pk,
    )
    record.refresh_from_db()
    return record


def _run_record(
    configuration: ArchiveConfiguration, dates: DateRange, by: User | None, correlation_id: str
) -> ArchiveRun:
    return ArchiveRun.objects.create(
        configuration=configuration,
        requested_by=by if getattr(by, "pk", None) is not None else None,
        kind=ArchiveRun.Kind.MANUAL,
        start=dates.start,
        end=dates.end,
        correlation_id=correlation_id,
    )
