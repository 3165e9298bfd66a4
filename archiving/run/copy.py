"""Step 5: the archive copies in the destination calendar. What needs copying is created, what
changed is updated, what is unchanged is left; each chunk is one gateway call (archiving/
gateway.py) and its answers are recorded as `ArchiveCopy` rows at once, so a killed run loses
no copy it made. An appointment counts as archived once its copy is recorded, or when it has
nothing to copy (a conflict waits for a person first)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from archiving.gateway import CopyOutcome, CopyRequest, CopyState
from archiving.graph_events import copy_body, copy_digest
from archiving.models import ArchiveCopy
from archiving.run.record import EventWork, Run
from auditing.models import AuditLog
from auditing.services import audit_operation
from calendars.models import Appointment, Calendar

COPY_CHUNK = 80  # 4 batches of 20, then the results are recorded.


@dataclass
class CopyJob:
    work: EventWork
    body: dict[str, Any]
    digest: str


@dataclass
class _Plan:
    creates: list[CopyJob]
    updates: list[CopyJob]
    settled: list[Appointment]  # archived without a write to Outlook


def copies_write(run: Run, works: list[EventWork]) -> None:
    """Create and update the copies the run's appointments need in its destination."""
    destination = run.destination
    assert destination is not None
    _known_copies(works, destination)
    plan = _plan(run, works)
    if run.dry_run:
        run.counts.copied = len(plan.creates)
        run.counts.copies_updated = len(plan.updates)
        return
    total = len(plan.creates) + len(plan.updates)
    done = 0
    # A create that adopts an older copy joins the updates, which run after every create.
    for kind, jobs in (("create", plan.creates), ("update", plan.updates)):
        for offset in range(0, len(jobs), COPY_CHUNK):
            chunk = jobs[offset : offset + COPY_CHUNK]
            _chunk_write(run, kind, chunk, destination, follow_up=plan.updates)
            done += len(chunk)
            run.beat(done, total)
    _settle(plan)


def _known_copies(works: list[EventWork], destination: Calendar) -> None:
    if destination.pk is None:
        return
    copies = {
        c.appointment_id: c
        for c in ArchiveCopy.objects.filter(
            destination=destination,
            appointment_id__in=[w.appointment.pk for w in works if w.appointment.pk],
        )
    }
    for work in works:
        work.copy = copies.get(work.appointment.pk)


def _should_copy(run: Run, appointment: Appointment) -> bool:
    if appointment.show_as == Appointment.ShowAs.FREE:
        return False
    if run.configuration.allow_overlaps:
        return True
    return appointment.overlap_state in (
        Appointment.OverlapState.NONE,
        Appointment.OverlapState.WINNER,
        Appointment.OverlapState.KEPT,
    )


def _plan(run: Run, works: list[EventWork]) -> _Plan:
    plan = _Plan(creates=[], updates=[], settled=[])
    for work in works:
        appointment = work.appointment
        if work.copy is None and not _should_copy(run, appointment):
            # Nothing to copy; a conflict waits for a person before it counts as archived.
            run.counts.not_copied += 1
            if (
                appointment.overlap_state != Appointment.OverlapState.CONFLICT
                and not appointment.is_archived
            ):
                appointment.is_archived = True
                plan.settled.append(appointment)
            continue
        body = copy_body(work.source, personal=work.billing.is_personal)
        job = CopyJob(work, body, copy_digest(body))
        if work.copy is None:
            plan.creates.append(job)
        elif work.copy.digest != job.digest:
            # A copy follows its appointment whatever its overlap state.
            plan.updates.append(job)
        else:
            run.counts.copies_unchanged += 1
            if not appointment.is_archived:
                appointment.is_archived = True
                plan.settled.append(appointment)
    return plan


def _chunk_write(
    run: Run, kind: str, chunk: list[CopyJob], destination: Calendar, follow_up: list[CopyJob]
) -> None:
    """Write one chunk through the gateway and record what Graph answered; an adopted copy is
    queued in `follow_up` to be brought up to date."""
    with audit_operation(
        action_type=AuditLog.ActionType.ARCHIVE,
        operation=f"copy_{kind}",
        user=run.user,
        resource_type="Calendar",
        resource_id=destination.ms_calendar_id,
    ) as audit:
        requests = [
            CopyRequest(job.work.key, job.body, job.work.copy.event_id if job.work.copy else None)
            for job in chunk
        ]
        gateway = run.gateway()
        if kind == "create":
            outcomes = gateway.copies_create(requests)
        else:
            outcomes = gateway.copies_update(requests)
        new_copies, changed_copies = _record(run, chunk, outcomes, destination, follow_up)
        succeeded = len(new_copies) + len(changed_copies)
        failed = len(chunk) - succeeded
        audit.details = {"items": len(chunk), "succeeded": succeeded, "failed": failed}
        if failed:
            audit.status = AuditLog.Status.PARTIAL if succeeded else AuditLog.Status.FAILURE


def _record(
    run: Run,
    chunk: list[CopyJob],
    outcomes: list[CopyOutcome],
    destination: Calendar,
    follow_up: list[CopyJob],
) -> tuple[list[ArchiveCopy], list[ArchiveCopy]]:
    """Record the chunk's copies: the new ones and the updated ones."""
    now = timezone.now()
    new_copies, changed_copies = [], []
    for job, outcome in zip(chunk, outcomes, strict=True):
        work = job.work
        if outcome.state == CopyState.FAILED:
            assert outcome.error is not None
            run.error(work.appointment.subject, outcome.error)
        elif outcome.state == CopyState.UPDATED:
            if work.copy is not None:
                work.copy.digest, work.copy.updated_at = job.digest, now
                changed_copies.append(work.copy)
                run.counts.copies_updated += 1
        else:
            assert outcome.event_id is not None
            work.copy = ArchiveCopy(
                appointment=work.appointment,
                destination=destination,
                event_id=outcome.event_id,
                digest="" if outcome.stale else job.digest,  # a stale one until updated
            )
            new_copies.append(work.copy)
            if outcome.stale:
                follow_up.append(job)
                run.counts.adopted += 1
            else:
                run.counts.copied += 1
    # One statement each, so a crash between them loses no recorded copy.
    ArchiveCopy.objects.bulk_create(new_copies, batch_size=500)
    if changed_copies:
        ArchiveCopy.objects.bulk_update(changed_copies, ["digest", "updated_at"], batch_size=500)
    return new_copies, changed_copies


def _settle(plan: _Plan) -> None:
    """Went through the run: one UPDATE at the end. A run killed before it finds the copies
    recorded and marks them then."""
    settled = plan.settled + [
        job.work.appointment
        for job in plan.creates + plan.updates
        if job.work.copy is not None and job.work.copy.pk and not job.work.appointment.is_archived
    ]
    if settled:
        Appointment.objects.filter(pk__in=[a.pk for a in settled]).update(is_archived=True)
        for appointment in settled:
            appointment.is_archived = True
