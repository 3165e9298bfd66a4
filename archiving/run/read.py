"""Step 2: the window's events as the run archives them. Cancelled events are left out, meeting
modifications applied, and archived appointments the window no longer shows are read by id:
one that moved comes back with the window's events, one that is gone stays billable and opens a
`source_deleted` item."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from archiving.attention import source_deleted_recommendations
from archiving.graph_events import SourceEvent
from archiving.run.record import Run
from archiving.source_events import source_events_read
from auditing.models import ActionLog
from calendars.models import Appointment, Calendar
from calendars.modifications import apply_modifications
from calendars.overlaps import Slot


def events_read(run: Run, start: datetime, end: datetime) -> list[SourceEvent]:
    """The events of [start, end) in the source calendar, then those that moved out of it."""
    assert run.source is not None
    events = _window(run, run.source, start, end)
    return events + _moved_away(run, run.source, start, end, {event.id for event in events})


def _window(run: Run, source: Calendar, start: datetime, end: datetime) -> list[SourceEvent]:
    assert run.source_client is not None
    raw = []
    for graph in run.source_client.calendar_view(source.ms_calendar_id, start, end):
        run.counts.fetched += 1
        if graph.get("isCancelled"):
            run.counts.cancelled += 1
            continue
        raw.append(graph)
    zone = run.configuration.timezone
    # Keyed by event id; an event whose dates Graph cannot mean becomes an item, not a row.
    events: dict[Any, SourceEvent] = source_events_read(
        raw=raw, zone=zone, user=run.user, dry_run=run.dry_run
    )
    slots = [
        Slot(
            key=event.id,
            start=event.start,
            end=event.end,
            show_as=event.show_as,
            importance=event.graph.get("importance"),
            subject=event.subject,
        )
        for event in events.values()
    ]
    outcome = apply_modifications(slots, {e.id: e.categories for e in events.values()})
    for modification, _original in outcome.applied:
        events.pop(modification.key, None)
        run.counts.modifications += 1
    for unmatched in outcome.unmatched:
        events.pop(unmatched.key, None)
        run.counts.modifications += 1
    for slot in outcome.adjusted:
        if slot.key in events:
            events[slot.key].start, events[slot.key].end = slot.start, slot.end
    return sorted(events.values(), key=lambda e: (e.start, e.end, e.id))


def _moved_away(
    run: Run, source: Calendar, start: datetime, end: datetime, seen: set[str]
) -> list[SourceEvent]:
    """Archived appointments of the window that the window no longer shows, read by id."""
    if source.pk is None:
        return []
    missing = list(
        Appointment.objects.filter(
            user=run.user,
            calendar_id=source.pk,
            is_archived=True,
            is_cancelled=False,
            source_deleted_at__isnull=True,
            ms_event_id__isnull=False,
        )
        .overlapping(start, end)
        .exclude(ms_event_id__in=seen)
    )
    if not missing:
        return []
    assert run.source_client is not None
    answers = run.source_client.get_events([a.ms_event_id for a in missing if a.ms_event_id])
    moved: list[SourceEvent] = []
    gone: list[Appointment] = []
    for appointment, answer in zip(missing, answers, strict=True):
        if answer.ok and isinstance(answer.body, dict) and not answer.body.get("isCancelled"):
            moved.extend(
                source_events_read(
                    raw=[answer.body],
                    zone=run.configuration.timezone,
                    user=run.user,
                    dry_run=run.dry_run,
                ).values()
            )
        elif answer.ok or answer.status == 404:
            gone.append(appointment)
        else:
            run.error(appointment.subject, answer.error())
    run.counts.moved += len(moved)
    _flag_source_deleted(run, gone)
    return moved


def _flag_source_deleted(run: Run, gone: list[Appointment]) -> None:
    run.counts.source_deleted += len(gone)
    if run.dry_run or not gone:
        return
    now = timezone.now()
    Appointment.objects.filter(pk__in=[a.pk for a in gone]).update(
        source_deleted_at=now, updated_at=now
    )
    ActionLog.objects.open_items([_source_deleted_item(run, appointment) for appointment in gone])


def _source_deleted_item(run: Run, appointment: Appointment) -> ActionLog:
    when = appointment.start_time.astimezone(run.zone)
    return ActionLog(
        user=run.user,
        event_type=ActionLog.EventType.SOURCE_DELETED,
        key=appointment.pk,
        description=(
            f"“{appointment.subject}” on {when:%a %d %b %Y %H:%M} was archived but "
            "is no longer in Outlook: it is still billed until you decide"
        ),
        details={
            "appointment": appointment.pk,
            "source_event_id": appointment.ms_event_id,
            "on_issued_timesheet": appointment.timesheet_id,
        },
        recommendations=source_deleted_recommendations(billed=appointment.is_locked),
    )
