"""The archive run: copy a window of days from the source calendar into the database and the
archive calendar, with billing categories read and double bookings resolved.

The run is a list of steps over one shared record (`record.py`: the `Run`, and one `EventWork`
per source event), each a module of its own that can be read and tested alone:

1. `mailboxes.py`  both calendars resolved, each in its mailbox, before anything is written;
2. `read.py`       the window's events (meeting modifications applied), and those that moved
                   out of it or are gone from the source;
3. `store.py`      their appointments upserted in bulk, billing read from the categories;
4. `overlaps.py`   double bookings resolved;
5. `copy.py`       the archive copies created or updated, a chunk per gateway call
                   (`archiving/gateway.py` holds the whole Graph exchange of a copy);
6. `report.py`     the audit row's message and counts, the result handed back.

Re-runnable and resumable: appointments are upserted by (user, source event id); copies are
created with a deterministic `transactionId` and recorded chunk by chunk as `ArchiveCopy` rows
(destination, the copy's id, a digest of what was copied), so a re-run skips what is done, updates
what changed and never duplicates. One run per configuration at a time (a lease on its row,
renewed by `Run.beat` after every chunk).
"""

from __future__ import annotations

from datetime import datetime

from accounts.microsoft import graph_client
from archiving.models import ArchiveConfiguration
from archiving.phrases import DateRange, window_bounds
from archiving.run.copy import copies_write
from archiving.run.mailboxes import calendars_resolve
from archiving.run.overlaps import overlaps_resolve
from archiving.run.read import events_read
from archiving.run.record import (
    ArchiveAlreadyRunning,
    ArchiveCounts,
    ArchiveResult,
    ArchiveRunError,
    EventWork,
    ProgressCallback,
    Run,
)
from archiving.run.report import run_details, run_message, run_result
from archiving.run.store import appointments_store
from auditing.models import AuditLog
from auditing.services import audit_operation
from foundations.graph import GraphClient

__all__ = [
    "ArchiveAlreadyRunning",
    "ArchiveCounts",
    "ArchiveResult",
    "ArchiveRunError",
    "EventWork",
    "ProgressCallback",
    "archive_run",
]


def archive_run(
    *,
    configuration: ArchiveConfiguration,
    dates: DateRange,
    dry_run: bool = False,
    client: GraphClient | None = None,
    progress: ProgressCallback | None = None,
    correlation_id: str | None = None,
) -> ArchiveResult:
    """Archive the days of `dates` (in the configuration's time zone) for one configuration."""
    start, end = window_bounds(dates, configuration.timezone)
    owner = configuration.acquire_run_lock()
    if owner is None:
        raise ArchiveAlreadyRunning(
            f"“{configuration}” is already being archived ({configuration.run_lock_owner}); "
            "this run stopped without changing anything."
        )
    try:
        with audit_operation(
            action_type=AuditLog.ActionType.ARCHIVE,
            operation="run",
            user=configuration.user,
            resource_type="ArchiveConfiguration",
            resource_id=configuration.pk,
            request_data={
                "configuration": configuration.name,
                "dates": str(dates),
                "window_start": start.isoformat(),
                "window_end": end.isoformat(),
                "dry_run": dry_run,
            },
            correlation_id=correlation_id,
        ) as audit:
            counts = ArchiveCounts()
            errors: list[str] = []
            try:
                run = Run(
                    configuration=configuration,
                    client=client or graph_client(user=configuration.user),
                    lock_owner=owner,
                    dry_run=dry_run,
                    progress=progress,
                    counts=counts,
                    errors=errors,
                )
                _steps(run, start, end)
            finally:
                audit.details = run_details(counts, errors)
            if errors:
                audit.status = AuditLog.Status.PARTIAL
            audit.message = run_message(counts, dates, dry_run=dry_run)
            status, entry = audit.status, audit.entry
    finally:
        configuration.release_run_lock(owner)
    return run_result(run, dates, status=status, entry=entry)


def _steps(run: Run, start: datetime, end: datetime) -> None:
    """The run's steps, in order, over the window [start, end)."""
    calendars_resolve(run)
    events = events_read(run, start, end)
    works = appointments_store(run, events)
    overlaps_resolve(run, works)
    copies_write(run, works)
