"""Step 6: what the run's audit row says of it, and what it hands back to its caller."""

from __future__ import annotations

from typing import Any

from archiving.phrases import DateRange
from archiving.run.record import ArchiveCounts, ArchiveResult, Run
from auditing.models import AuditLog


def run_details(counts: ArchiveCounts, errors: list[str]) -> dict[str, Any]:
    """The counts (and the first errors) the run's audit row keeps."""
    details: dict[str, Any] = counts.as_dict()
    if errors:
        details["errors"] = errors[:50]
    return details


def run_message(counts: ArchiveCounts, dates: DateRange, *, dry_run: bool) -> str:
    return (
        f"{'Dry run: ' if dry_run else ''}{dates}: {counts.fetched} fetched, "
        f"{counts.created} new, {counts.updated} updated, {counts.copied} copied, "
        f"{counts.copies_updated} copies updated, {counts.conflicts} conflicts, "
        f"{counts.source_deleted} gone from the source, {counts.errors} errors"
    )


def run_result(
    run: Run, dates: DateRange, *, status: AuditLog.Status, entry: AuditLog | None
) -> ArchiveResult:
    return ArchiveResult(
        configuration=run.configuration,
        dates=dates,
        counts=run.counts,
        status=status,
        dry_run=run.dry_run,
        audit_id=entry.pk if entry else None,
        correlation_id=entry.correlation_id if entry else None,
        errors=run.errors,
    )
