"""The guard between what Graph sends and what an archive run stores: an event the archive
cannot keep (unreadable times, dates outside DATE_MIN..DATE_MAX such as Outlook's 9999-12-31)
becomes an open action item for its owner instead of a row, and categories Graph sent as null,
empty or not names are recorded in the run's audit trail. The run calls `source_events_read`
where it turns Graph's answers into SourceEvents."""

from __future__ import annotations

from collections import Counter
from typing import Any

from accounts.models import User
from archiving.graph_events import (
    SourceEvent,
    UnreadableEvent,
    categories_as_sent,
    source_event_read,
)
from auditing.models import ActionLog, AuditLog
from auditing.services import audit_record

# The audit row lists at most this many events by id; the counts cover them all.
LISTED_EVENTS = 50


def source_events_read(
    *, raw: list[dict[str, Any]], zone: str, user: User, dry_run: bool = False
) -> dict[str, SourceEvent]:
    """The storable events of `raw` by id; each other one is an open item (not in a dry run)."""
    events: dict[str, SourceEvent] = {}
    unreadable: list[UnreadableEvent] = []
    odd_categories: list[tuple[SourceEvent, str]] = []
    for graph in raw:
        read = source_event_read(graph, zone=zone)
        if isinstance(read, UnreadableEvent):
            unreadable.append(read)
            continue
        events[read.id] = read
        note = categories_as_sent(graph)
        if note:
            odd_categories.append((read, note))
    if not dry_run:
        unreadable_events_flag(user=user, unreadable=unreadable, readable=list(events))
    if unreadable:
        audit_record(
            action_type=AuditLog.ActionType.ARCHIVE,
            operation="events_skipped",
            user=user,
            status=AuditLog.Status.PARTIAL,
            message=f"{len(unreadable)} event(s) from Outlook cannot be archived and were "
            "skipped; each is an open action item.",
            details={
                "events": [
                    {"id": event.id, "subject": event.subject, "reason": event.reason}
                    for event in unreadable[:LISTED_EVENTS]
                ]
            },
        )
    if odd_categories:
        categories_audit(user=user, odd_categories=odd_categories)
    return events


def unreadable_events_flag(
    *, user: User, unreadable: list[UnreadableEvent], readable: list[str]
) -> None:
    """One open item per unreadable event; an event readable again closes its item."""
    if readable:
        for item in ActionLog.objects.filter(
            user=user, event_type=ActionLog.EventType.UNREADABLE_EVENT, key__in=readable
        ).open():
            item.close(by=None, note="the event's dates can be read now; it is archived")
    ActionLog.objects.open_items(
        [
            ActionLog(
                user=user,
                event_type=ActionLog.EventType.UNREADABLE_EVENT,
                key=event.id[:255],
                description=(
                    f"“{event.subject}” in Outlook cannot be archived: {event.reason}. Correct "
                    "its start and end in Outlook and the next archive run stores it and closes "
                    "this item; if it is not a real appointment, dismiss it (nothing is billed)"
                ),
                details={
                    "source_event_id": event.id,
                    "reason": event.reason,
                    "start": event.graph.get("start"),
                    "end": event.graph.get("end"),
                },
            )
            for event in unreadable
        ]
    )


def categories_audit(*, user: User, odd_categories: list[tuple[SourceEvent, str]]) -> None:
    """One audit row per run naming the events whose categories Graph sent as null, empty,
    missing or with entries that are not names: they are stored as having no categories."""
    kinds = Counter(note for _event, note in odd_categories)
    summary = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
    audit_record(
        action_type=AuditLog.ActionType.ARCHIVE,
        operation="categories_absent",
        user=user,
        message=f"{len(odd_categories)} event(s) came without usable categories ({summary}): "
        "stored with no categories, so they bill as personal.",
        details={
            "counts": dict(kinds),
            "events": [
                {
                    "id": event.id,
                    "subject": event.subject[:200],
                    "categories_sent": note,
                    "raw": event.graph.get("categories"),
                }
                for event, note in odd_categories[:LISTED_EVENTS]
            ],
        },
    )
