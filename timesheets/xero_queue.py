"""Queueing Xero pushes as django-q2 tasks: one timesheet (admin action, API), a month-end
batch with its progress, and the automatic retry of pushes that failed on something transient
(run by the scheduled upkeep). The push itself is `xero_push.py`."""

from __future__ import annotations

from datetime import timedelta
from itertools import zip_longest

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_q.tasks import async_task

from accounts.models import User
from auditing.context import current_correlation_id, new_correlation_id
from auditing.models import AuditLog
from auditing.services import audit_operation
from timesheets.models import Timesheet, XeroConnection, XeroPush
from timesheets.services import TimesheetError
from timesheets.xero_client import XeroError
from timesheets.xero_push import LEASE, push_row, xero_push_check

PUSH_TASK = "timesheets.tasks.xero_push_task"


def xero_push_queue(*, timesheet: Timesheet, user: User, batch: str = "") -> XeroPush:
    """Queue the push as a django-q2 task and answer at once; a push already sent or being sent
    is left as it is (a double click makes one invoice)."""
    xero_push_check(timesheet=timesheet)
    push = push_row(timesheet)
    now = timezone.now()
    # Queued or sending and not stale: a task lost by the broker is queued again after LEASE.
    busy = Q(status=XeroPush.Status.SENDING, lease_until__gt=now) | Q(
        status=XeroPush.Status.QUEUED, queued_at__gt=now - LEASE
    )
    done = Q(status=XeroPush.Status.SENT) & Q(timesheet__uploaded_to_xero=True)
    correlation_id = current_correlation_id() or new_correlation_id()
    taken = (
        XeroPush.objects.filter(pk=push.pk)
        .exclude(busy | done)
        .update(
            status=XeroPush.Status.QUEUED,
            queued_at=now,
            batch=batch,
            correlation_id=correlation_id,
            error="",
        )
    )
    if taken:

        def enqueue() -> None:
            task_id = async_task(
                PUSH_TASK,
                push.pk,
                correlation_id,
                task_name=f"xero push {timesheet.pk}",
                group=f"xero-{batch}" if batch else "xero",
            )
            XeroPush.objects.filter(pk=push.pk).update(task_id=task_id or "")

        with audit_operation(
            action_type=AuditLog.ActionType.TIMESHEET,
            operation="xero_queue",
            user=user,
            resource_type="Timesheet",
            resource_id=timesheet.pk,
            message=f"Queued sending timesheet {timesheet.pk} to Xero",
            correlation_id=correlation_id,
        ):
            pass
        transaction.on_commit(enqueue, using="default")
    push.refresh_from_db()
    return push


def xero_push_batch(*, timesheets: list[Timesheet], user: User) -> tuple[str, list[str]]:
    """Queue many (a month end) under one batch id; returns it and the refusals, one a line."""
    batch = new_correlation_id()[:32]  # hex: letters and digits
    refused = []
    for timesheet in _interleaved(timesheets):
        try:
            xero_push_queue(timesheet=timesheet, user=user, batch=batch)
        except (TimesheetError, XeroError) as error:
            refused.append(f"{timesheet}: {error}")
    return batch, refused


def _interleaved(timesheets: list[Timesheet]) -> list[Timesheet]:
    """The timesheets in turns of organisation (one of each in turn), so that the workers,
    taking tasks in order, spread over the organisations' separate limits instead of all
    waiting on one organisation's minute while the others idle."""
    tenants = dict(
        XeroConnection.objects.filter(user__in={t.user_id for t in timesheets}).values_list(
            "user_id", "tenant_id"
        )
    )
    queues: dict[str, list[Timesheet]] = {}
    for timesheet in timesheets:
        queues.setdefault(tenants.get(timesheet.user_id, ""), []).append(timesheet)
    turns = zip_longest(*queues.values())
    return [timesheet for turn in turns for timesheet in turn if timesheet is not None]


def xero_batch_progress(*, batch: str, user: User | None = None) -> dict[str, int]:
    """How many pushes of a batch (the user's own, when given) are queued, sending, sent and
    failed."""
    counts = dict.fromkeys(XeroPush.Status.values, 0)
    pushes = XeroPush.objects.filter(batch=batch)
    if user is not None:
        pushes = pushes.for_user(user)
    for status in pushes.values_list("status", flat=True):
        counts[status] += 1
    return counts


RETRY_AFTER = timedelta(minutes=15)
MAX_AUTOMATIC_ATTEMPTS = 8


def xero_push_retry_due() -> int:
    """Queue again the pushes that failed on something transient (Xero unavailable, a bad
    answer, a limit) at least `RETRY_AFTER` ago; those the user must act on wait for them."""
    due = XeroPush.objects.select_related("timesheet__user").filter(
        status=XeroPush.Status.FAILED,
        failure__in=[
            XeroPush.Failure.UNAVAILABLE,
            XeroPush.Failure.BAD_ANSWER,
            XeroPush.Failure.LIMIT,
        ],
        finished_at__lt=timezone.now() - RETRY_AFTER,
        attempts__lt=MAX_AUTOMATIC_ATTEMPTS,
    )
    queued = 0
    for push in due:
        try:
            xero_push_queue(timesheet=push.timesheet, user=push.timesheet.user, batch=push.batch)
        except (TimesheetError, XeroError):
            continue
        queued += 1
    return queued
