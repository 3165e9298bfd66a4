"""The archive run: copy a window of days from the source calendar into the database and the
archive calendar, with billing categories read and double bookings resolved.

Re-runnable and resumable: appointments are upserted by (user, source event id); copies are
created with a deterministic `transactionId` and recorded chunk by chunk (the copy's id and a
digest of what was copied), so a re-run skips what is done, updates what changed and never
duplicates. One run per configuration at a time (a lease on the configuration row).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import uuid
import zoneinfo
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.microsoft import graph_client
from adminassistant.graph import SOURCE_ID_PROPERTY, GraphClient, transaction_id
from archiving.models import ArchiveConfiguration
from archiving.phrases import DateRange, window_bounds
from auditing.models import ActionLog, AuditLog
from auditing.services import audit_operation
from calendars.models import Appointment, Calendar, Category, Location
from calendars.rules import (
    Slot,
    apply_modifications,
    billing_from_categories,
    is_travel,
    resolve_overlaps,
)
from calendars.uris import parse_calendar_uri

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=15)
COPY_CHUNK = 80  # 4 batches of 20 in flight, then the results are recorded.
PRIVATE_SENSITIVITIES = frozenset({"private", "confidential", "personal"})
ProgressCallback = Callable[[int, int], None]

# What a copy carries; a change to any of these updates the copy.
COPIED_FIELDS = (
    "subject",
    "start",
    "end",
    "isAllDay",
    "showAs",
    "sensitivity",
    "importance",
    "categories",
    "location",
)


class ArchiveRunError(Exception):
    """The run could not start or could not go on; the message says why."""


class ArchiveAlreadyRunning(ArchiveRunError):
    """Another run of the same configuration holds the lock."""


@dataclass
class ArchiveCounts:
    fetched: int = 0
    cancelled: int = 0
    modifications: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    copied: int = 0
    copies_updated: int = 0
    copies_unchanged: int = 0
    not_copied: int = 0
    conflicts: int = 0
    disappeared: int = 0
    locked: int = 0
    errors: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class ArchiveResult:
    configuration: ArchiveConfiguration
    dates: DateRange
    counts: ArchiveCounts
    status: str
    dry_run: bool = False
    audit_id: int | None = None
    correlation_id: str | None = None
    errors: list[str] = field(default_factory=list)


@dataclass
class SourceEvent:
    """One source event as the run sees it, after modifications are applied."""

    graph: dict[str, Any]
    start: datetime
    end: datetime
    categories: list[str]

    @property
    def id(self) -> str:
        return self.graph["id"]


# -- the lock -------------------------------------------------------------------------------


def _lock_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _owner_is_dead(owner: str | None) -> bool:
    """True when the lock belongs to a process on this machine that no longer exists."""
    if not owner:
        return True
    host, _, rest = owner.partition(":")
    pid_text = rest.split(":", 1)[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@contextmanager
def run_lock(configuration: ArchiveConfiguration) -> Iterator[str]:
    """Hold the configuration's run lock, or raise ArchiveAlreadyRunning at once."""
    owner = _lock_owner()
    now = timezone.now()
    free = Q(run_lock_owner__isnull=True) | Q(run_lock_expires_at__lt=now)
    taken = ArchiveConfiguration.objects.filter(Q(pk=configuration.pk) & free).update(
        run_lock_owner=owner, run_lock_expires_at=now + LEASE
    )
    if not taken:
        holder = (
            ArchiveConfiguration.objects.filter(pk=configuration.pk)
            .values_list("run_lock_owner", flat=True)
            .first()
        )
        # A run killed on this machine leaves its lease behind; take it over at once.
        if _owner_is_dead(holder):
            taken = ArchiveConfiguration.objects.filter(
                pk=configuration.pk, run_lock_owner=holder
            ).update(run_lock_owner=owner, run_lock_expires_at=now + LEASE)
        if not taken:
            raise ArchiveAlreadyRunning(
                f"“{configuration}” is already being archived ({holder}); "
                "this run stopped without changing anything."
            )
    try:
        yield owner
    finally:
        ArchiveConfiguration.objects.filter(pk=configuration.pk, run_lock_owner=owner).update(
            run_lock_owner=None, run_lock_expires_at=None
        )


def _renew_lock(configuration: ArchiveConfiguration, owner: str) -> None:
    ArchiveConfiguration.objects.filter(pk=configuration.pk, run_lock_owner=owner).update(
        run_lock_expires_at=timezone.now() + LEASE
    )


# -- reading Graph events ---------------------------------------------------------------------


def graph_datetime(value: dict[str, Any] | None) -> datetime:
    """A Graph {dateTime, timeZone} as an aware UTC datetime."""
    if not value or not value.get("dateTime"):
        raise ValueError("The event has no start or end time.")
    text = value["dateTime"].rstrip("Z")
    if "." in text:
        head, fraction = text.split(".", 1)
        text = f"{head}.{fraction[:6]}"
    moment = datetime.fromisoformat(text)
    name = value.get("timeZone") or "UTC"
    zone = UTC if name.upper() in {"UTC", "COORDINATED UNIVERSAL TIME"} else zoneinfo.ZoneInfo(name)
    return moment.replace(tzinfo=zone).astimezone(UTC)


def _location_name(event: dict[str, Any]) -> str | None:
    location = event.get("location") or {}
    name = (location.get("displayName") or "").strip()
    return name[:255] or None


def _digest(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def copy_body(event: SourceEvent, *, personal: bool) -> dict[str, Any]:
    """What the archive calendar gets: never attendees, never a reminder; personal = private."""
    graph = event.graph
    body = {
        "subject": graph.get("subject") or "",
        "start": {"dateTime": event.start.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
        "end": {"dateTime": event.end.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
        "isAllDay": bool(graph.get("isAllDay")),
        "showAs": graph.get("showAs") or "busy",
        "sensitivity": "private" if personal else (graph.get("sensitivity") or "normal"),
        "importance": graph.get("importance") or "normal",
        "categories": list(event.categories),
        "location": {"displayName": _location_name(graph) or ""},
        "isReminderOn": False,
    }
    if body["isAllDay"]:
        # All-day events must start and end at midnight of the zone they are given in.
        zone = (graph.get("start") or {}).get("timeZone") or "UTC"
        body["start"] = {"dateTime": graph["start"]["dateTime"][:19], "timeZone": zone}
        body["end"] = {"dateTime": graph["end"]["dateTime"][:19], "timeZone": zone}
    return body


# -- the run ------------------------------------------------------------------------------------


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
    user = configuration.user
    counts = ArchiveCounts()
    start, end = window_bounds(dates, configuration.timezone)
    request_data = {
        "configuration": configuration.name,
        "dates": str(dates),
        "window_start": start.isoformat(),
        "window_end": end.isoformat(),
        "dry_run": dry_run,
    }
    errors: list[str] = []
    with (
        run_lock(configuration) as owner,
        audit_operation(
            action_type="archive",
            operation="run",
            user=user,
            resource_type="ArchiveConfiguration",
            resource_id=configuration.pk,
            request_data=request_data,
            correlation_id=correlation_id,
        ) as audit,
    ):
        try:
            client = client or graph_client(user=user, timezone_name=configuration.timezone)
            run = _Run(configuration, client, counts, errors, dry_run, owner, progress)
            run.execute(start, end)
        finally:
            audit.details = counts.as_dict()
            if errors:
                audit.details["errors"] = errors[:50]
        if errors:
            audit.status = AuditLog.Status.PARTIAL
        audit.message = (
            f"{'Dry run: ' if dry_run else ''}{dates}: {counts.fetched} fetched, "
            f"{counts.created} new, {counts.updated} updated, {counts.copied} copied, "
            f"{counts.copies_updated} copies updated, {counts.conflicts} conflicts, "
            f"{counts.errors} errors"
        )
        status = audit.status
        entry = audit.entry
    return ArchiveResult(
        configuration=configuration,
        dates=dates,
        counts=counts,
        status=status,
        dry_run=dry_run,
        audit_id=entry.pk if entry else None,
        correlation_id=entry.correlation_id if entry else None,
        errors=errors,
    )


class _Run:
    def __init__(
        self,
        configuration: ArchiveConfiguration,
        client: GraphClient,
        counts: ArchiveCounts,
        errors: list[str],
        dry_run: bool,
        owner: str,
        progress: ProgressCallback | None,
    ) -> None:
        self.configuration = configuration
        self.user = configuration.user
        self.client = client
        self.counts = counts
        self.errors = errors
        self.dry_run = dry_run
        self.owner = owner
        self.progress = progress

    def execute(self, start: datetime, end: datetime) -> None:
        source = self._calendar(self.configuration.source_calendar_uri, archive=False)
        destination = self._calendar(self.configuration.destination_calendar_uri, archive=True)
        events = self._fetch(source, start, end)
        appointments = self._store(events, source)
        self._resolve_overlaps(appointments)
        self._flag_disappeared(source, start, end, {event.id for event in events})
        self._copy(appointments, destination)

    # Calendars ------------------------------------------------------------------------------

    def _calendar(self, uri: str, *, archive: bool) -> Calendar:
        parsed = parse_calendar_uri(uri)
        found = self.client.resolve_calendar(parsed.calendar)
        if found is None:
            if not archive:
                raise ArchiveRunError(
                    f"The source calendar “{parsed.calendar}” does not exist in Outlook."
                )
            if self.dry_run:
                return Calendar(user=self.user, name=parsed.calendar, is_archive=True)
            found = self.client.create_calendar(parsed.calendar)
        if self.dry_run:
            return Calendar(
                user=self.user, name=found["name"], ms_calendar_id=found["id"], is_archive=archive
            )
        name = found.get("name") or parsed.calendar
        calendar, created = Calendar.objects.get_or_create(
            user=self.user,
            ms_calendar_id=found["id"],
            defaults={"name": name, "is_archive": archive},
        )
        if not created and (calendar.name, calendar.is_archive) != (name, archive):
            calendar.name, calendar.is_archive = name, archive
            calendar.save(update_fields=["name", "is_archive", "updated_at"])
        return calendar

    # Reading --------------------------------------------------------------------------------

    def _fetch(self, source: Calendar, start: datetime, end: datetime) -> list[SourceEvent]:
        raw = []
        for graph in self.client.calendar_view(source.ms_calendar_id, start, end):
            self.counts.fetched += 1
            if graph.get("isCancelled"):
                self.counts.cancelled += 1
                continue
            raw.append(graph)
        events = {
            graph["id"]: SourceEvent(
                graph=graph,
                start=graph_datetime(graph.get("start")),
                end=graph_datetime(graph.get("end")),
                categories=list(graph.get("categories") or []),
            )
            for graph in raw
        }
        slots = [
            Slot(
                key=event.id,
                start=event.start,
                end=event.end,
                show_as=event.graph.get("showAs") or "busy",
                importance=event.graph.get("importance"),
                subject=event.graph.get("subject") or "",
            )
            for event in events.values()
        ]
        outcome = apply_modifications(slots, {e.id: e.categories for e in events.values()})
        for modification, _original in outcome.applied:
            events.pop(modification.key, None)
            self.counts.modifications += 1
        for unmatched in outcome.unmatched:
            events.pop(unmatched.key, None)
            self.counts.modifications += 1
        for slot in outcome.adjusted:
            if slot.key in events:
                events[slot.key].start, events[slot.key].end = slot.start, slot.end
        return sorted(events.values(), key=lambda e: (e.start, e.end, e.id))

    # Storing --------------------------------------------------------------------------------

    def _store(self, events: list[SourceEvent], source: Calendar) -> list[Appointment]:
        """Upsert the appointments in bulk: one query per kind of row, not per event."""
        locations = self._locations({_location_name(e.graph) for e in events} - {None})
        categories = self._categories(events)
        existing = {
            a.ms_event_id: a
            for a in Appointment.objects.filter(
                user=self.user, ms_event_id__in=[e.id for e in events]
            )
        }
        to_create, to_update, result = [], [], []
        for event in events:
            appointment = existing.get(event.id) or Appointment(
                user=self.user, ms_event_id=event.id
            )
            changed = self._fill(appointment, event, source, locations, categories)
            if appointment.pk is None:
                to_create.append(appointment)
            elif changed and appointment.timesheet_id:
                # Billed on an issued timesheet: the database keeps what was billed until the
                # timesheet is voided; the archive copy still follows Outlook.
                self.counts.locked += 1
            elif changed:
                to_update.append(appointment)
            else:
                self.counts.unchanged += 1
            result.append(appointment)
        self.counts.created += len(to_create)
        self.counts.updated += len(to_update)
        if not self.dry_run:
            with transaction.atomic():
                Appointment.objects.bulk_create(to_create, batch_size=500)
                if to_update:
                    Appointment.objects.bulk_update(
                        to_update, [*STORED_FIELDS, "updated_at"], batch_size=500
                    )
            if to_create and to_create[0].pk is None:
                # SQLite < 3.35 returns no ids from bulk_create; read them back.
                ids = dict(
                    Appointment.objects.filter(
                        user=self.user, ms_event_id__in=[a.ms_event_id for a in to_create]
                    ).values_list("ms_event_id", "pk")
                )
                for appointment in to_create:
                    appointment.pk = ids[appointment.ms_event_id]
            self._flag_uncategorised(result)
        return result

    def _flag_uncategorised(self, appointments: list[Appointment]) -> None:
        """One open item per appointment whose categories name no billing customer."""
        problems = {
            a.ms_event_id: a
            for a in appointments
            if not a.customer and not a._is_personal  # type: ignore[attr-defined]
        }
        if not problems:
            return
        known = set(
            ActionLog.objects.filter(
                user=self.user, event_type="uncategorised", state=ActionLog.State.OPEN
            ).values_list("details__source_event_id", flat=True)
        )
        zone = zoneinfo.ZoneInfo(self.configuration.timezone)
        ActionLog.objects.open_items(
            [
                ActionLog(
                    user=self.user,
                    event_type="uncategorised",
                    key=a.pk,
                    description=(
                        f"“{a.subject}” on {a.start_time.astimezone(zone):%a %d %b %Y %H:%M} "
                        "has no billing category"
                    ),
                    details={
                        "appointment": a.pk,
                        "source_event_id": key,
                        "categories": a.categories,
                        "problems": list(a._billing_problems),  # type: ignore[attr-defined]
                    },
                    recommendations=[
                        "Give it a category such as 'Acme - billable' in Outlook; the next "
                        "archive run picks it up."
                    ],
                )
                for key, a in problems.items()
                if key not in known
            ]
        )

    def _fill(
        self,
        appointment: Appointment,
        event: SourceEvent,
        source: Calendar,
        locations: dict[str, Location],
        categories: dict[str, Category],
    ) -> bool:
        graph = event.graph
        billing = billing_from_categories(event.categories)
        location_name = _location_name(graph)
        category = categories.get(billing.category.casefold()) if billing.customer else None
        values = {
            "subject": (graph.get("subject") or "")[:1024],
            "start_time": event.start,
            "end_time": event.end,
            "is_all_day": bool(graph.get("isAllDay")),
            "show_as": graph.get("showAs") or Appointment.ShowAs.BUSY,
            "sensitivity": graph.get("sensitivity") or Appointment.Sensitivity.NORMAL,
            "importance": graph.get("importance") or Appointment.Importance.NORMAL,
            "categories": list(event.categories),
            "customer": billing.customer,
            "billing_type": billing.billing_type,
            "is_travel": bool(billing.customer) and is_travel(graph.get("subject")),
            "is_private": (graph.get("sensitivity") or "normal") in PRIVATE_SENSITIVITIES,
            "is_out_of_office": graph.get("showAs") == "oof",
            "is_cancelled": False,
            "location_id": locations[location_name].pk if location_name else None,
            "category_id": category.pk if category else None,
            "calendar_id": source.pk,
            "ms_event_data": graph,
        }
        changed = False
        for name, value in values.items():
            if getattr(appointment, name) != value:
                setattr(appointment, name, value)
                changed = True
        if changed:
            appointment.updated_at = timezone.now()
        appointment._billing_problems = billing.problems  # type: ignore[attr-defined]
        appointment._is_personal = billing.is_personal  # type: ignore[attr-defined]
        appointment._source = event  # type: ignore[attr-defined]
        return changed

    def _locations(self, names: set[str]) -> dict[str, Location]:
        if not names:
            return {}
        if not self.dry_run:
            Location.objects.bulk_create(
                [Location(user=self.user, name=name) for name in names], ignore_conflicts=True
            )
        found = {loc.name: loc for loc in Location.objects.filter(user=self.user, name__in=names)}
        return {name: found.get(name) or Location(user=self.user, name=name) for name in names}

    def _categories(self, events: list[SourceEvent]) -> dict[str, Category]:
        names = {}
        for event in events:
            billing = billing_from_categories(event.categories)
            if billing.customer:
                names[billing.category.casefold()] = billing.category
        if not names:
            return {}
        rows = {
            c.name.casefold(): c
            for c in Category.objects.annotate(lower=Lower("name")).filter(
                user=self.user, lower__in=list(names)
            )
        }
        missing = [Category(user=self.user, name=names[key]) for key in names if key not in rows]
        if missing and not self.dry_run:
            Category.objects.bulk_create(missing, ignore_conflicts=True)
            rows = {
                c.name.casefold(): c
                for c in Category.objects.annotate(lower=Lower("name")).filter(
                    user=self.user, lower__in=list(names)
                )
            }
        return rows

    # Overlaps -------------------------------------------------------------------------------

    def _resolve_overlaps(self, appointments: list[Appointment]) -> None:
        by_key = {a.ms_event_id: a for a in appointments}
        decided = {Appointment.OverlapState.KEPT, Appointment.OverlapState.DISCARDED}
        states: dict[str, tuple[str, str | None]] = {
            a.ms_event_id: (Appointment.OverlapState.NONE, None)
            for a in appointments
            if a.overlap_state not in decided
        }
        slots = [
            Slot(
                key=a.ms_event_id,
                start=a.start_time,
                end=a.end_time,
                show_as=a.show_as,
                importance=a.importance,
                subject=a.subject or "",
            )
            for a in appointments
            if a.overlap_state not in decided
        ]
        conflicts = []
        for resolution in resolve_overlaps(slots):
            if resolution.conflict:
                self.counts.conflicts += 1
                for slot in resolution.group:
                    states[slot.key] = (Appointment.OverlapState.CONFLICT, None)
                conflicts.append((resolution, [by_key[s.key] for s in resolution.group]))
                continue
            for slot in resolution.kept:
                states[slot.key] = (Appointment.OverlapState.WINNER, None)
            for slot, reason in resolution.dropped:
                states[slot.key] = (Appointment.OverlapState.LOSER, reason)
        changed = []
        for key, (state, reason) in states.items():
            appointment = by_key[key]
            if (appointment.overlap_state, appointment.overlap_reason) != (state, reason):
                appointment.overlap_state, appointment.overlap_reason = state, reason
                changed.append(appointment)
        if self.dry_run:
            return
        if changed:
            Appointment.objects.bulk_update(
                changed, ["overlap_state", "overlap_reason"], batch_size=500
            )
        self._conflict_items(conflicts)

    def _conflict_items(self, conflicts: list[tuple[Any, list[Appointment]]]) -> None:
        """One open item per conflict group, read and written in bulk."""
        if not conflicts:
            return
        known = set(
            ActionLog.objects.filter(
                user=self.user, event_type="overlap", state=ActionLog.State.OPEN
            ).values_list("details__key", flat=True)
        )
        zone = zoneinfo.ZoneInfo(self.configuration.timezone)
        items = []
        for resolution, members in conflicts:
            key = ",".join(str(i) for i in sorted(a.pk for a in members))
            if key in known:
                continue
            known.add(key)
            first = min(a.start_time for a in members).astimezone(zone)
            items.append(
                ActionLog(
                    user=self.user,
                    event_type="overlap",
                    key=key,
                    description=(
                        f"{len(members)} overlapping appointments on {first:%a %d %b %Y} "
                        "need a decision"
                    ),
                    details={
                        "key": key,
                        "configuration": self.configuration.pk,
                        "appointments": [
                            {
                                "id": a.pk,
                                "subject": a.subject,
                                "start": a.start_time.astimezone(zone).isoformat(),
                                "end": a.end_time.astimezone(zone).isoformat(),
                                "show_as": a.show_as,
                                "importance": a.importance,
                                "customer": a.customer,
                            }
                            for a in sorted(members, key=lambda a: (a.start_time, a.pk))
                        ],
                    },
                    recommendations=(
                        [resolution.recommendation] if resolution.recommendation else None
                    ),
                )
            )
        ActionLog.objects.open_items(items)

    # Disappeared source events ------------------------------------------------------------

    def _flag_disappeared(
        self, source: Calendar, start: datetime, end: datetime, seen: set[str]
    ) -> None:
        if source.pk is None:
            return
        gone = (
            Appointment.objects.filter(
                user=self.user,
                calendar_id=source.pk,
                start_time__lt=end,
                end_time__gt=start,
                archive_event_id__isnull=False,
            )
            .exclude(ms_event_id__in=seen)
            .exclude(is_cancelled=True)
        )
        gone = list(gone)
        self.counts.disappeared = len(gone)
        if self.dry_run or not gone:
            return
        ActionLog.objects.open_items(
            [
                ActionLog(
                    user=self.user,
                    event_type="source_deleted",
                    key=appointment.pk,
                    description=(
                        f"“{appointment.subject}” was archived but is no longer in the source "
                        "calendar; its archive copy was kept"
                    ),
                    details={
                        "appointment": appointment.pk,
                        "source_event_id": appointment.ms_event_id,
                    },
                    recommendations=[
                        "If the meeting did not happen, delete the archive copy and the "
                        "appointment.",
                        "If it did, nothing needs doing.",
                    ],
                )
                for appointment in gone
            ]
        )
        Appointment.objects.filter(pk__in=[a.pk for a in gone]).update(is_cancelled=True)

    # Copying --------------------------------------------------------------------------------

    def _should_copy(self, appointment: Appointment) -> bool:
        if appointment.show_as == Appointment.ShowAs.FREE:
            return False
        if self.configuration.allow_overlaps:
            return True
        return appointment.overlap_state in (
            Appointment.OverlapState.NONE,
            Appointment.OverlapState.WINNER,
            Appointment.OverlapState.KEPT,
        )

    def _copy(self, appointments: list[Appointment], destination: Calendar) -> None:
        creates: list[tuple[Appointment, dict[str, Any], str]] = []
        updates: list[tuple[Appointment, dict[str, Any], str]] = []
        settled: list[Appointment] = []
        for appointment in appointments:
            if not self._should_copy(appointment):
                self.counts.not_copied += 1
                if (
                    appointment.overlap_state != Appointment.OverlapState.CONFLICT
                    and not appointment.is_archived
                ):
                    appointment.is_archived = True
                    settled.append(appointment)
                continue
            source = appointment._source  # type: ignore[attr-defined]
            body = copy_body(source, personal=appointment._is_personal)  # type: ignore[attr-defined]
            digest = _digest(body)
            if appointment.archive_event_id and appointment.archive_digest == digest:
                self.counts.copies_unchanged += 1
                if not appointment.is_archived:
                    appointment.is_archived = True
                    settled.append(appointment)
            elif appointment.archive_event_id:
                updates.append((appointment, body, digest))
            else:
                creates.append((appointment, body, digest))
        if self.dry_run:
            self.counts.copied = len(creates)
            self.counts.copies_updated = len(updates)
            return
        if settled:
            Appointment.objects.bulk_update(settled, ["is_archived"], batch_size=500)
        total = len(creates) + len(updates)
        done = 0
        for kind, items in (("create", creates), ("update", updates)):
            for offset in range(0, len(items), COPY_CHUNK):
                chunk = items[offset : offset + COPY_CHUNK]
                self._copy_chunk(kind, chunk, destination)
                done += len(chunk)
                _renew_lock(self.configuration, self.owner)
                if self.progress:
                    self.progress(done, total)

    def _copy_chunk(
        self, kind: str, chunk: list[tuple[Appointment, dict[str, Any], str]], destination: Calendar
    ) -> None:
        with audit_operation(
            action_type="archive",
            operation=f"copy_{kind}",
            user=self.user,
            resource_type="Calendar",
            resource_id=destination.ms_calendar_id,
        ) as audit:
            if kind == "create":
                bodies = [
                    {
                        **body,
                        "transactionId": transaction_id(
                            "archive", destination.ms_calendar_id, appointment.ms_event_id
                        ),
                        "singleValueExtendedProperties": [
                            {"id": SOURCE_ID_PROPERTY, "value": appointment.ms_event_id}
                        ],
                    }
                    for appointment, body, _ in chunk
                ]
                responses = self.client.create_events(destination.ms_calendar_id, bodies)
            else:
                responses = self.client.update_events(
                    [(appointment.archive_event_id, body) for appointment, body, _ in chunk]
                )
            recorded, failed = [], 0
            for (appointment, _body, digest), response in zip(chunk, responses, strict=True):
                if not response.ok:
                    failed += 1
                    self.counts.errors += 1
                    self.errors.append(f"{appointment.subject!r}: {response.error()}")
                    continue
                if kind == "create":
                    appointment.archive_event_id = response.body["id"]
                    self.counts.copied += 1
                else:
                    self.counts.copies_updated += 1
                appointment.archive_digest = digest
                appointment.is_archived = True
                recorded.append(appointment)
            Appointment.objects.bulk_update(
                recorded, ["archive_event_id", "archive_digest", "is_archived"], batch_size=500
            )
            audit.details = {"items": len(chunk), "succeeded": len(recorded), "failed": failed}
            if failed:
                audit.status = AuditLog.Status.PARTIAL if recorded else AuditLog.Status.FAILURE


STORED_FIELDS = (
    "subject",
    "start_time",
    "end_time",
    "is_all_day",
    "show_as",
    "sensitivity",
    "importance",
    "categories",
    "customer",
    "billing_type",
    "is_travel",
    "is_private",
    "is_out_of_office",
    "is_cancelled",
    "location",
    "category",
    "calendar",
    "ms_event_data",
)
