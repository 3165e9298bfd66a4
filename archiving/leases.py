"""Leases on archive runs, so that a run whose worker died is found, closed truthfully and taken
over exactly once, and a task django-q2 delivers twice never runs twice.

A run holds a lease while it works: its row says which worker process (`host:pid`) runs it and a
thread of that process renews `heartbeat_at` every `ARCHIVE_HEARTBEAT_SECONDS`. The thread dies
with the process, so a SIGKILLed worker, a lost machine or a cluster stopped hard leaves a lease
that stops being renewed. A lease is stale once its heartbeat is `ARCHIVE_RUN_STALE_SECONDS` old
(at once when the worker was on this machine and its process is gone). A queued run whose task
never started within `ARCHIVE_QUEUE_STALE_SECONDS` lost its task (a Redis broker forgets what a
killed cluster had prefetched).

Every decision is one conditional UPDATE on the run's row, so however many clusters, reapers and
re-delivered tasks race, one of them wins:
- a task starts a run only by moving it from `queued` to `running` (`archive_run_claim`);
- a stale run is moved from `running` (or `queued`) to `abandoned` by one caller only, who queues
  the one run that takes its work over (`retry_of`, unique), up to `ARCHIVE_RUN_MAX_ATTEMPTS`;
- a delivered task whose run is finished, or abandoned and taken over, does nothing; one whose
  run is alive elsewhere leaves it alone.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.db import connections, transaction
from django.db.models import Q
from django.utils import timezone

from archiving.fault_items import abandoned_run_recommendations
from archiving.models import ArchiveConfiguration, ArchiveRun
from auditing.models import ActionLog, AuditLog
from auditing.services import audit_operation

logger = logging.getLogger(__name__)

ARCHIVE_TASK = "archiving.tasks.archive_task"


class Claim(StrEnum):
    STARTED = "started"  # this task runs it now
    FINISHED = "finished"  # it already ran (or was abandoned and handed over): nothing to do
    ALIVE = "alive"  # another worker runs it and renews its lease: leave it alone


def heartbeat_seconds() -> float:
    return float(getattr(settings, "ARCHIVE_HEARTBEAT_SECONDS", 30))


def stale_after() -> timedelta:
    return timedelta(seconds=float(getattr(settings, "ARCHIVE_RUN_STALE_SECONDS", 300)))


def queue_stale_after() -> timedelta:
    return timedelta(seconds=float(getattr(settings, "ARCHIVE_QUEUE_STALE_SECONDS", 3600)))


def max_attempts() -> int:
    return int(getattr(settings, "ARCHIVE_RUN_MAX_ATTEMPTS", 3))


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def worker_is_gone(worker: str | None) -> bool:
    """True when the worker ran on this machine and its process no longer exists."""
    host, _, pid = (worker or "").partition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def run_is_stale(record: ArchiveRun, *, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    if record.status == ArchiveRun.Status.QUEUED:
        return record.queued_at < now - queue_stale_after()
    if record.status != ArchiveRun.Status.RUNNING:
        return False
    if worker_is_gone(record.worker):
        return True
    last = record.heartbeat_at or record.started_at or record.queued_at
    return last < now - stale_after()


def archive_run_claim(*, record: ArchiveRun) -> Claim:
    """Start the run in this worker, or say why this delivery of its task must not."""
    now = timezone.now()
    started = ArchiveRun.objects.filter(pk=record.pk, status=ArchiveRun.Status.QUEUED).update(
        status=ArchiveRun.Status.RUNNING, started_at=now, heartbeat_at=now, worker=worker_name()
    )
    record.refresh_from_db()
    if started:
        return Claim.STARTED
    if record.status in ArchiveRun.FINISHED:
        return Claim.FINISHED
    if not run_is_stale(record, now=now):
        return Claim.ALIVE
    # Delivered again after its worker died: hand the work over (once), then step aside.
    archive_run_abandon(record=record, now=now)
    return Claim.FINISHED


def archive_run_finish(
    *,
    record: ArchiveRun,
    status: ArchiveRun.Status,
    result: dict[str, object] | None = None,
    error: str | None = None,
) -> bool:
    """Close the run if it is still this worker's; False when a reaper took it over meanwhile
    (the run stalled past its lease), which leaves the reaper's account standing."""
    closed = ArchiveRun.objects.filter(
        pk=record.pk, status=ArchiveRun.Status.RUNNING, worker=record.worker
    ).update(status=status, finished_at=timezone.now(), result=result, error=error)
    record.refresh_from_db()
    if not closed:
        logger.warning("run %s was taken over before it finished (%s)", record.pk, status)
    return bool(closed)


@contextlib.contextmanager
def archive_run_heartbeat(*, record: ArchiveRun) -> Iterator[None]:
    """Renew the run's lease from a thread of this process while the block runs."""
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(heartbeat_seconds()):
                try:
                    ArchiveRun.objects.filter(
                        pk=record.pk, status=ArchiveRun.Status.RUNNING, worker=record.worker
                    ).update(heartbeat_at=timezone.now())
                except Exception:  # a missed beat is tolerable: the lease spans several
                    logger.warning("heartbeat of run %s failed", record.pk, exc_info=True)
        finally:
            connections.close_all()  # this thread's connections only

    thread = threading.Thread(target=beat, name=f"archive-run-{record.pk}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)


def archive_runs_reap(*, now: datetime | None = None) -> list[ArchiveRun]:
    """Abandon every stale run (and queue the runs that take their work over); the abandoned."""
    now = now or timezone.now()
    candidates = ArchiveRun.objects.filter(
        Q(status=ArchiveRun.Status.RUNNING) | Q(status=ArchiveRun.Status.QUEUED)
    ).select_related("configuration__user")
    reaped = []
    for record in candidates:
        if run_is_stale(record, now=now) and archive_run_abandon(record=record, now=now):
            reaped.append(record)
    return reaped


def archive_run_abandon(*, record: ArchiveRun, now: datetime | None = None) -> ArchiveRun | None:
    """Mark a stale run abandoned, with the reason, and queue the one run that takes its work
    over; None when another caller got there first."""
    now = now or timezone.now()
    was = record.status
    seen = record.heartbeat_at or record.started_at or record.queued_at
    if was == ArchiveRun.Status.QUEUED:
        reason = f"Its task never started (queued {seen:%Y-%m-%d %H:%M:%S} UTC); it was lost."
    else:
        reason = (
            f"Its worker {record.worker or '(unknown)'} stopped: last heartbeat "
            f"{seen:%Y-%m-%d %H:%M:%S} UTC."
        )
    attempt = _attempt(record)
    with transaction.atomic(using="default"):
        taken = ArchiveRun.objects.filter(
            pk=record.pk, status=was, heartbeat_at=record.heartbeat_at
        )
        if not taken.update(status=ArchiveRun.Status.ABANDONED, finished_at=now, error=reason):
            return None
        record.refresh_from_db()
        retry = None
        if attempt < max_attempts():
            retry = ArchiveRun.objects.create(
                configuration=record.configuration,
                requested_by=record.requested_by,
                kind=record.kind,
                start=record.start,
                end=record.end,
                correlation_id=record.correlation_id,
                retry_of=record,
            )
            record.error = f"{reason} Run {retry.pk} took its work over."
        else:
            record.error = f"{reason} Given up after {attempt} attempts."
        record.save(update_fields=["error"])
        _close_audit(record, now)
        transaction.on_commit(lambda: _after_abandon(record, retry, attempt), using="default")
    return record


def _attempt(record: ArchiveRun) -> int:
    attempt, current = 1, record
    while current.retry_of_id is not None and attempt < 100:
        current = ArchiveRun.objects.only("retry_of").get(pk=current.retry_of_id)
        attempt += 1
    return attempt


def _close_audit(record: ArchiveRun, now: datetime) -> None:
    """The run's audit row, left `running` by the dead worker, says what became of it."""
    AuditLog.objects.filter(
        correlation_id=record.correlation_id,
        action_type=AuditLog.ActionType.ARCHIVE,
        operation="run",
        status=AuditLog.Status.RUNNING,
        created_at__gte=(record.started_at or record.queued_at) - timedelta(seconds=1),
    ).update(status=AuditLog.Status.FAILURE, message=f"Abandoned: {record.error}"[:2000])


def _after_abandon(record: ArchiveRun, retry: ArchiveRun | None, attempt: int) -> None:
    configuration = record.configuration
    _release_dead_lock(configuration, record.worker)
    # In the run's own correlation: the audit log shows the run, its abandonment, its successor.
    with audit_operation(
        action_type=AuditLog.ActionType.ARCHIVE,
        operation="abandon",
        user=configuration.user,
        resource_type="ArchiveRun",
        resource_id=record.pk,
        message=record.error,
        correlation_id=record.correlation_id,
    ) as audit:
        audit.status = AuditLog.Status.FAILURE
        audit.details = {"configuration": configuration.pk, "retry": retry.pk if retry else None}
    if retry is not None:
        _enqueue(retry)
        return
    ActionLog.objects.open_item(
        user=configuration.user,
        event_type=ActionLog.EventType.ARCHIVE_ABANDONED,
        key=f"archive-configuration-{configuration.pk}",
        description=(
            f"Archiving “{configuration}” for {record.start} to {record.end} stopped "
            f"{attempt} times without finishing"
        ),
        details={"configuration": configuration.pk, "run": record.pk, "error": record.error},
        recommendations=abandoned_run_recommendations(),
    )


def _release_dead_lock(configuration: ArchiveConfiguration, worker: str | None) -> None:
    """The configuration's run lock, if the dead worker held it, is free again."""
    if worker:
        ArchiveConfiguration.objects.filter(
            pk=configuration.pk, run_lock_owner__startswith=f"{worker}:"
        ).update(run_lock_owner=None, run_lock_expires_at=None)


def _enqueue(retry: ArchiveRun) -> None:
    from django_q.tasks import async_task

    task_id = async_task(
        ARCHIVE_TASK,
        retry.configuration_id,
        retry.start.isoformat(),
        retry.end.isoformat(),
        retry.correlation_id,
        run_id=retry.pk,
        task_name=f"archive {retry.configuration_id} {retry.start} to {retry.end} (retry)",
        group=f"archive-{retry.configuration_id}",
    )
    ArchiveRun.objects.filter(pk=retry.pk).update(task_id=task_id)
