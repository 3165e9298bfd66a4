"""The cluster's scheduler pass, guarded: one bad schedule never stops the others firing, and
dead runs are found on every pass.

django-q2's `scheduler()` turns every due schedule into a task inside one transaction; a single
row whose `args` or `kwargs` it cannot evaluate (`ValueError: malformed node or string`) raises,
rolls the pass back, and so no schedule fires, on every pass, until a person repairs the row. The
sentinel calls `django_q.cluster.scheduler` by name, so `install()` puts `scheduler_pass` there:
before django-q2's pass it
- reaps stale archive runs (`archiving.leases`),
- repairs or sets aside the due schedules the pass would choke on (`schedule_problem`): ours are
  rebuilt from their JobConfiguration (the schedule is the job's, never edited by hand); any
  other is paused (`repeats = 0`), with an audit row and an action item for the superusers,
- records the run of each due archive job's firing, so that a firing whose task a dead cluster
  lost is seen to be lost and taken over (`job_firing_run`).
"""

from __future__ import annotations

import ast
import logging
from collections.abc import Callable
from typing import Any

from django.db import models, router, transaction
from django.utils import timezone
from django_q.models import Schedule

from accounts.models import User
from archiving.fault_items import broken_schedule_recommendations
from archiving.leases import archive_runs_reap
from archiving.models import JobConfiguration
from archiving.schedules import SCHEDULE_PREFIX, job_firing_run, job_schedule_sync
from auditing.models import ActionLog, AuditLog
from auditing.services import audit_record

logger = logging.getLogger(__name__)

_django_scheduler: Callable[..., Any] | None = None


def install() -> None:
    """Make the django-q2 sentinel call `scheduler_pass` (once per process)."""
    global _django_scheduler
    import django_q.cluster

    if django_q.cluster.scheduler is not scheduler_pass:
        _django_scheduler = django_q.cluster.scheduler
        django_q.cluster.scheduler = scheduler_pass


def scheduler_pass(broker: Any = None) -> None:
    for step in (archive_runs_reap, schedules_guard, archive_firings_prepare):
        try:
            step()
        except Exception:  # the pass itself must go on: the schedules are the point
            logger.exception("scheduler pass: %s failed", step.__name__)
    if _django_scheduler is not None:
        _django_scheduler(broker=broker)


def _due() -> models.QuerySet[Schedule]:
    """The schedules django-q2's pass would fire now (its own filter, less the cluster test:
    every cluster of one deployment guards every row)."""
    return Schedule.objects.exclude(repeats=0).filter(next_run__lt=timezone.now())


def schedule_problem(schedule: Schedule) -> str | None:
    """Why django-q2's scheduler could not turn this schedule into a task, or None. It follows
    `django_q.scheduler.scheduler` step by step, for the steps that read the row."""
    try:
        kwargs: Any = {}
        if schedule.kwargs:
            try:
                kwargs = ast.literal_eval(schedule.kwargs)
            except (SyntaxError, ValueError):
                try:
                    call = ast.parse(f"f({schedule.kwargs})").body[0].value  # type: ignore[attr-defined]
                    kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords}
                except (SyntaxError, ValueError):
                    kwargs = {}
        if not isinstance(kwargs, dict) or not isinstance(kwargs.get("q_options", {}), dict):
            return "Keyword arguments must be a dict or name=value pairs."
        if schedule.args:
            ast.literal_eval(schedule.args)
        if schedule.schedule_type != Schedule.ONCE:
            schedule.calculate_next_run(schedule.next_run or timezone.now())
    except Exception as error:  # anything the scheduler would raise on
        return f"{type(error).__name__}: {error}"[:500]
    return None


def schedules_guard() -> list[str]:
    """Repair or set aside every due schedule django-q2 could not fire; their names."""
    handled = []
    with transaction.atomic(using=router.db_for_write(Schedule)):
        for schedule in _due().select_for_update(skip_locked=True):
            problem = schedule_problem(schedule)
            if problem is None:
                continue
            handled.append(schedule.name or str(schedule.pk))
            if (schedule.name or "").startswith(SCHEDULE_PREFIX):
                _rebuild(schedule, problem)
            else:
                _pause(schedule, problem)
    return handled


def _rebuild(schedule: Schedule, problem: str) -> None:
    job_id = (schedule.name or "").removeprefix(SCHEDULE_PREFIX)
    job = (
        JobConfiguration.objects.select_related("archive_configuration__user")
        .filter(pk=int(job_id) if job_id.isdigit() else None)
        .first()
    )
    if job is None:
        schedule.delete()
        outcome = "deleted: its archive job no longer exists"
    else:
        # Rebuilt at its due time, so this pass still fires it.
        due = schedule.next_run
        rebuilt = job_schedule_sync(job=job)
        if rebuilt is not None:
            Schedule.objects.filter(pk=rebuilt.pk).update(next_run=due)
        outcome = "rebuilt from its archive job"
    audit_record(
        action_type=AuditLog.ActionType.ARCHIVE,
        operation="schedule.repair",
        user=job.user if job else None,
        status=AuditLog.Status.PARTIAL,
        resource_type="Schedule",
        resource_id=schedule.pk,
        message=f"Schedule “{schedule.name}” could not fire ({problem}); {outcome}.",
        details={"problem": problem, "args": schedule.args, "kwargs": schedule.kwargs},
    )


def _pause(schedule: Schedule, problem: str) -> None:
    Schedule.objects.filter(pk=schedule.pk).update(repeats=0)
    message = (
        f"Schedule “{schedule.name or schedule.pk}” ({schedule.func}) could not be turned into a "
        f"task and was paused: {problem}"
    )
    audit_record(
        action_type=AuditLog.ActionType.ADMIN,
        operation="schedule.skip",
        status=AuditLog.Status.FAILURE,
        resource_type="Schedule",
        resource_id=schedule.pk,
        message=message,
        details={"problem": problem, "args": schedule.args, "kwargs": schedule.kwargs},
    )
    # The django-q2 schedules that are not an archive job's belong to the operators.
    for owner in User.objects.filter(is_superuser=True, is_active=True):
        ActionLog.objects.open_item(
            user=owner,
            event_type=ActionLog.EventType.SCHEDULE_BROKEN,
            key=f"schedule-{schedule.pk}",
            description=message,
            details={"schedule": schedule.pk, "name": schedule.name, "problem": problem},
            recommendations=broken_schedule_recommendations(),
        )


def archive_firings_prepare() -> int:
    """Record the run of every due archive job's firing before django-q2 fires it."""
    prepared = 0
    for schedule in _due().filter(name__startswith=SCHEDULE_PREFIX):
        job_id = (schedule.name or "").removeprefix(SCHEDULE_PREFIX)
        job = (
            JobConfiguration.objects.select_related("archive_configuration__user")
            .filter(pk=int(job_id) if job_id.isdigit() else None, is_active=True)
            .first()
        )
        if job is None or not job.archive_configuration.is_active or schedule.next_run is None:
            continue
        if schedule.intended_date_kwarg:
            job_firing_run(job=job, fired_for=schedule.next_run)
            prepared += 1
    return prepared
