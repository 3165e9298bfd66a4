"""The archive run: copy a window of days from the source calendar into the database and the
archive calendar, with billing categories read and double bookings resolved.

The workflow, in order: resolve both calendars; read the window's events (meeting modifications
applied); upsert their appointments; resolve overlaps; look after appointments that are gone from
the source; copy into the destination what needs copying. Each event travels through the run as
one `EventWork` (source event, appointment, billing, the copy in this destination).

Re-runnable and resumable: appointments are upserted by (user, source event id); copies are
created with a deterministic `transactionId` and recorded chunk by chunk as `ArchiveCopy` rows
(destination, the copy's id, a digest of what was copied), so a re-run skips what is done, updates
what changed and never duplicates. One run per configuration at a time (a lease on its row).
"""

from __future__ import annotations

import logging
import zoneinfo
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.microsoft import graph_client
from archiving.attention import (
    attention_items_sync,
    local_category_overrides,
    own_domains,
    source_deleted_recommendations,
)
from archiving.graph_events import (
    STORED_FIELDS,
    SourceEvent,
    appointment_values,
    copy_body,
    copy_digest,
    graph_datetime,
    location_name,
)
from archiving.models import ArchiveConfiguration, ArchiveCopy
from archiving.overlap_advice import overlap_recommendations
from archiving.phrases import DateRange, window_bounds
from auditing.models import ActionLog, AuditLog
from auditing.services import audit_operation
from calendars.categories import Billing, billing_from_categories
from calendars.evidence import appointment_features_store
from calendars.models import Appointment, Calendar, Category, Location
from calendars.modifications import apply_modifications
from calendars.overlaps import Slot, resolve_overlaps
from calendars.uris import parse_calendar_uri
from foundations.graph import (
    SOURCE_ID_PROPERTY,
    BatchResponse,
    GraphClient,
    GraphError,
    transaction_id,
)

logger = logging.getLogger(__name__)

COPY_CHUNK = 80  # 4 batches of 20, then the results are recorded.
ProgressCallback = Callable[[int, int], None]


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
    moved: int = 0
    adopted: int = 0
    source_deleted: int = 0
    locked: int = 0
    errors: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class ArchiveResult:
    configuration: ArchiveConfiguration
    dates: DateRange
    counts: ArchiveCounts
    status: AuditLog.Status
    dry_run: bool = False
    audit_id: int | None = None
    correlation_id: str | None = None
    errors: list[str] = field(default_factory=list)


@dataclass
class EventWork:
    """One source event on its way through the run."""

    source: SourceEvent
    appointment: Appointment
    billing: Billing
    copy: ArchiveCopy | None = None  # the copy in this run's destination, once known

    @property
    def key(self) -> str:
        return self.source.id


@dataclass
class CopyJob:
    work: EventWork
    body: dict[str, Any]
    digest: str


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
            user=user,
            resource_type="ArchiveConfiguration",
            resource_id=configuration.pk,
            request_data=request_data,
            correlation_id=correlation_id,
        ) as audit:
            try:
                client = client or graph_client(user=user)
                run = _Run(configuration, client, counts, errors, dry_run, owner, progress)
                run.execute(start, end)
            finally:
                details: dict[str, Any] = counts.as_dict()
                if errors:
                    details["errors"] = errors[:50]
                audit.details = details
            if errors:
                audit.status = AuditLog.Status.PARTIAL
            audit.message = (
                f"{'Dry run: ' if dry_run else ''}{dates}: {counts.fetched} fetched, "
                f"{counts.created} new, {counts.updated} updated, {counts.copied} copied, "
                f"{counts.copies_updated} copies updated, {counts.conflicts} conflicts, "
                f"{counts.source_deleted} gone from the source, {counts.errors} errors"
            )
            status = audit.status
            entry = audit.entry
    finally:
        configuration.release_run_lock(owner)
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
        self.zone = zoneinfo.ZoneInfo(configuration.timezone)

    def execute(self, start: datetime, end: datetime) -> None:
        source_uri = parse_calendar_uri(self.configuration.source_calendar_uri)
        destination_uri = parse_calendar_uri(self.configuration.destination_calendar_uri)
        self.source_client = self._client_for(source_uri.account)
        self.destination_client = self._client_for(destination_uri.account)
        # Both calendars are found (and the archive made) before anything else is written.
        found_source = self._find_calendar(self.source_client, source_uri.calendar, archive=False)
        found_destination = self._find_calendar(
            self.destination_client, destination_uri.calendar, archive=True
        )
        source = self._calendar_row(found_source, self.source_client, archive=False)
        destination = self._calendar_row(found_destination, self.destination_client, archive=True)
        self._remember_calendars(source, destination)
        events = self._fetch(source, start, end)
        events += self._moved_away(source, start, end, {event.id for event in events})
        works = self._store(events, source)
        self._resolve_overlaps(works)
        self._copy(works, destination)

    # Calendars ------------------------------------------------------------------------------

    def _client_for(self, account: str | None) -> GraphClient:
        """The user's own mailbox, or the one the URI names; never the one for the other."""
        own = {"me", (self.user.email or "").casefold()}
        if account is None or account.casefold() in own:
            return self.client
        return self.client.for_mailbox(account)

    def _find_calendar(self, client: GraphClient, name: str, *, archive: bool) -> dict[str, Any]:
        mailbox = "" if client.mailbox == "me" else client.mailbox.removeprefix("users/")
        try:
            found = client.resolve_calendar(name)
            if found is None and not archive:
                where = f"the mailbox of {mailbox}" if mailbox else "Outlook"
                raise ArchiveRunError(f"The source calendar “{name}” does not exist in {where}.")
            if found is None and self.dry_run:
                return {"id": None, "name": name, "canEdit": True}
            if found is None:
                found = client.create_calendar(name)
        except GraphError as error:
            if not mailbox or error.status not in (401, 403, 404):
                raise
            raise ArchiveRunError(
                f"{self.user.email} may not {'write to' if archive else 'read'} the calendars "
                f"of {mailbox} ({error.code or error.status}): {mailbox} must share the calendar "
                f"with {self.user.email} in Outlook ({'with write access' if archive else 'read'}"
                " or delegate access), and the app needs the delegated permission "
                "Calendars.ReadWrite.Shared (in MS_SCOPES; reconnect Microsoft 365 after adding "
                "it). Nothing was archived."
            ) from error
        if archive and mailbox and found.get("canEdit") is False:
            raise ArchiveRunError(
                f"{self.user.email} may read but not write the calendar “{found.get('name')}” "
                f"of {mailbox}: it must be shared with write access. Nothing was archived."
            )
        return found

    def _calendar_row(
        self, found: dict[str, Any], client: GraphClient, *, archive: bool
    ) -> Calendar:
        mailbox = "" if client.mailbox == "me" else client.mailbox.removeprefix("users/")
        name = found.get("name") or ""
        if found.get("id") is None:
            return Calendar(user=self.user, name=name, is_archive=True, mailbox=mailbox)
        if self.dry_run:
            existing = Calendar.objects.filter(user=self.user, ms_calendar_id=found["id"]).first()
            return existing or Calendar(
                user=self.user,
                name=name,
                ms_calendar_id=found["id"],
                is_archive=archive,
                mailbox=mailbox,
            )
        calendar, created = Calendar.objects.get_or_create(
            user=self.user,
            ms_calendar_id=found["id"],
            defaults={"name": name, "is_archive": archive, "mailbox": mailbox},
        )
        wanted = (name, archive, mailbox)
        if not created and (calendar.name, calendar.is_archive, calendar.mailbox) != wanted:
            calendar.name, calendar.is_archive, calendar.mailbox = wanted
            calendar.save(update_fields=["name", "is_archive", "mailbox", "updated_at"])
        return calendar

    def _remember_calendars(self, source: Calendar, destination: Calendar) -> None:
        configuration = self.configuration
        if self.dry_run or (
            configuration.source_calendar_id,
            configuration.destination_calendar_id,
        ) == (
            source.pk,
            destination.pk,
        ):
            return
        configuration.source_calendar, configuration.destination_calendar = source, destination
        ArchiveConfiguration.objects.filter(pk=configuration.pk).update(
            source_calendar=source, destination_calendar=destination
        )

    # Reading --------------------------------------------------------------------------------

    def _fetch(self, source: Calendar, start: datetime, end: datetime) -> list[SourceEvent]:
        raw = []
        for graph in self.source_client.calendar_view(source.ms_calendar_id, start, end):
            self.counts.fetched += 1
            if graph.get("isCancelled"):
                self.counts.cancelled += 1
                continue
            raw.append(graph)
        zone = self.configuration.timezone
        events = {graph["id"]: SourceEvent.from_graph(graph, zone=zone) for graph in raw}
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
            self.counts.modifications += 1
        for unmatched in outcome.unmatched:
            events.pop(unmatched.key, None)
            self.counts.modifications += 1
        for slot in outcome.adjusted:
            if slot.key in events:
                events[slot.key].start, events[slot.key].end = slot.start, slot.end
        return sorted(events.values(), key=lambda e: (e.start, e.end, e.id))

    def _moved_away(
        self, source: Calendar, start: datetime, end: datetime, seen: set[str]
    ) -> list[SourceEvent]:
        """Archived appointments of the window that the window no longer shows: each is read
        by id. One that moved comes back with the window's events (its copy follows it); one
        that is gone (or cancelled) stays billable and opens a `source_deleted` item."""
        if source.pk is None:
            return []
        missing = list(
            Appointment.objects.filter(
                user=self.user,
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
        answers = self.source_client.get_events([a.ms_event_id for a in missing if a.ms_event_id])
        moved, gone = [], []
        for appointment, answer in zip(missing, answers, strict=True):
            if answer.ok and isinstance(answer.body, dict) and not answer.body.get("isCancelled"):
                moved.append(SourceEvent.from_graph(answer.body, zone=self.configuration.timezone))
            elif answer.ok or answer.status == 404:
                gone.append(appointment)
            else:
                self.counts.errors += 1
                self.errors.append(f"{appointment.subject!r}: {answer.error()}")
        self.counts.moved += len(moved)
        self._flag_source_deleted(gone)
        return moved

    def _flag_source_deleted(self, gone: list[Appointment]) -> None:
        self.counts.source_deleted += len(gone)
        if self.dry_run or not gone:
            return
        now = timezone.now()
        Appointment.objects.filter(pk__in=[a.pk for a in gone]).update(
            source_deleted_at=now, updated_at=now
        )
        items = []
        for appointment in gone:
            when = appointment.start_time.astimezone(self.zone)
            billed = appointment.is_locked
            items.append(
                ActionLog(
                    user=self.user,
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
                    recommendations=source_deleted_recommendations(billed=billed),
                )
            )
        ActionLog.objects.open_items(items)

    # Storing --------------------------------------------------------------------------------

    def _store(self, events: list[SourceEvent], source: Calendar) -> list[EventWork]:
        """Upsert the appointments in bulk: one query per kind of row, not per event."""
        billings = local_category_overrides(
            user=self.user,
            categories={event.id: event.categories for event in events},
            billings={event.id: billing_from_categories(event.categories) for event in events},
        )
        locations = self._locations(
            {name for e in events if (name := location_name(e.graph)) is not None}
        )
        categories = self._categories(billings.values())
        existing = {
            a.ms_event_id: a
            for a in Appointment.objects.filter(
                user=self.user, ms_event_id__in=[e.id for e in events]
            )
        }
        to_create, to_update, works = [], [], []
        reappeared = []
        for event in events:
            appointment = existing.get(event.id) or Appointment(
                user=self.user, ms_event_id=event.id
            )
            billing = billings[event.id]
            if appointment.source_deleted_at is not None:
                reappeared.append(appointment.pk)
            values = appointment_values(event, billing)
            name = location_name(event.graph)
            category = categories.get(billing.category.casefold()) if billing.category else None
            values["location_id"] = locations[name].pk if name else None
            values["category_id"] = category.pk if category and billing.customer else None
            values["calendar_id"] = source.pk
            changed = _assign(appointment, values)
            if appointment.pk is None:
                to_create.append(appointment)
            elif changed and appointment.is_locked:
                # Billed on an issued timesheet: the database keeps what was billed until the
                # timesheet is voided; the archive copies still follow Outlook.
                self.counts.locked += 1
            elif changed:
                appointment.updated_at = timezone.now()
                to_update.append(appointment)
            else:
                self.counts.unchanged += 1
            works.append(EventWork(source=event, appointment=appointment, billing=billing))
        self.counts.created += len(to_create)
        self.counts.updated += len(to_update)
        if self.dry_run:
            return works
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
        self._close_reappeared(reappeared)
        appointment_features_store(
            appointments=[*to_create, *to_update],
            own=own_domains(user=self.user, mailboxes=[source.mailbox]),
            zone=self.user.timezone,
        )
        self._flag_uncategorised(works)
        return works

    def _close_reappeared(self, appointment_ids: list[int]) -> None:
        """An event that was missing is back in Outlook: its open item has nothing to decide."""
        if not appointment_ids:
            return
        Appointment.objects.filter(pk__in=appointment_ids).update(source_deleted_at=None)
        for item in ActionLog.objects.filter(
            user=self.user,
            event_type=ActionLog.EventType.SOURCE_DELETED,
            key__in=[str(pk) for pk in appointment_ids],
        ).open():
            item.close(by=None, note="the event is back in Outlook")

    def _flag_uncategorised(self, works: list[EventWork]) -> None:
        """Meetings whose categories bill no customer get an item with suggestions learned
        from the user's history (archiving/attention.py); those now billed close theirs."""
        attention_items_sync(
            user=self.user,
            zone=self.zone,
            mailboxes=[c.mailbox for c in (self.configuration.source_calendar,) if c],
            works=[(w.appointment, w.billing, w.key) for w in works],
        )

    def _locations(self, names: set[str]) -> dict[str, Location]:
        if not names:
            return {}
        if not self.dry_run:
            Location.objects.bulk_create(
                [Location(user=self.user, name=name) for name in names], ignore_conflicts=True
            )
        found = {loc.name: loc for loc in Location.objects.filter(user=self.user, name__in=names)}
        return {name: found.get(name) or Location(user=self.user, name=name) for name in names}

    def _categories(self, billings: Iterable[Billing]) -> dict[str, Category]:
        names = {b.category.casefold(): b.category for b in billings if b.customer and b.category}
        if not names:
            return {}

        def rows() -> dict[str, Category]:
            return {
                c.name.casefold(): c
                for c in Category.objects.annotate(lower=Lower("name")).filter(
                    user=self.user, lower__in=list(names)
                )
            }

        found = rows()
        missing = [Category(user=self.user, name=names[key]) for key in names if key not in found]
        if missing and not self.dry_run:
            Category.objects.bulk_create(missing, ignore_conflicts=True)
            found = rows()
        return found

    # Overlaps -------------------------------------------------------------------------------

    def _resolve_overlaps(self, works: list[EventWork]) -> None:
        """Double bookings among timed appointments; all-day events (holidays, out-of-office
        days, working-location markers) never form one."""
        decided = {Appointment.OverlapState.KEPT, Appointment.OverlapState.DISCARDED}
        candidates: dict[Hashable, Appointment] = {
            w.key: w.appointment
            for w in works
            if w.appointment.overlap_state not in decided and not w.appointment.is_all_day
        }
        states: dict[Hashable, tuple[str, str | None]] = dict.fromkeys(
            candidates, (Appointment.OverlapState.NONE, None)
        )
        slots = [
            Slot(
                key=key,
                start=a.start_time,
                end=a.end_time,
                show_as=a.show_as,
                importance=a.importance,
                subject=a.subject or "",
            )
            for key, a in candidates.items()
        ]
        conflicts = []
        for resolution in resolve_overlaps(slots):
            if resolution.conflict:
                self.counts.conflicts += 1
                for slot in resolution.group:
                    states[slot.key] = (Appointment.OverlapState.CONFLICT, None)
                conflicts.append((resolution, [candidates[s.key] for s in resolution.group]))
                continue
            for slot in resolution.kept:
                states[slot.key] = (Appointment.OverlapState.WINNER, None)
            for slot, reason in resolution.dropped:
                states[slot.key] = (Appointment.OverlapState.LOSER, reason)
        # An all-day event left over from an older rule is no longer part of any overlap.
        for work in works:
            if work.appointment.is_all_day and work.appointment.overlap_state not in decided:
                states[work.key] = (Appointment.OverlapState.NONE, None)
                candidates[work.key] = work.appointment
        changed = []
        for key, (overlap_state, overlap_reason) in states.items():
            appointment = candidates[key]
            if (appointment.overlap_state, appointment.overlap_reason) != (
                overlap_state,
                overlap_reason,
            ):
                appointment.overlap_state = overlap_state
                appointment.overlap_reason = overlap_reason
                changed.append(appointment)
        if self.dry_run:
            return
        if changed:
            Appointment.objects.bulk_update(
                changed, ["overlap_state", "overlap_reason"], batch_size=500
            )
        self._conflict_items(conflicts)

    def _conflict_items(self, conflicts: list[tuple[Any, list[Appointment]]]) -> None:
        """One open item per conflict group (the database refuses a second)."""
        items = []
        for _resolution, members in conflicts:
            key = ",".join(str(i) for i in sorted(a.pk for a in members))
            first = min(a.start_time for a in members).astimezone(self.zone)
            items.append(
                ActionLog(
                    user=self.user,
                    event_type=ActionLog.EventType.OVERLAP,
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
                                "start": a.start_time.astimezone(self.zone).isoformat(),
                                "end": a.end_time.astimezone(self.zone).isoformat(),
                                "show_as": a.show_as,
                                "importance": a.importance,
                                "customer": a.customer,
                            }
                            for a in sorted(members, key=lambda a: (a.start_time, a.pk))
                        ],
                    },
                    recommendations=overlap_recommendations(user=self.user, members=members),
                )
            )
        if items:
            ActionLog.objects.open_items(items)

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

    def _copy(self, works: list[EventWork], destination: Calendar) -> None:
        if destination.pk is not None:
            copies = {
                c.appointment_id: c
                for c in ArchiveCopy.objects.filter(
                    destination=destination,
                    appointment_id__in=[w.appointment.pk for w in works if w.appointment.pk],
                )
            }
            for work in works:
                work.copy = copies.get(work.appointment.pk)
        creates: list[CopyJob] = []
        updates: list[CopyJob] = []
        settled: list[Appointment] = []
        for work in works:
            appointment = work.appointment
            if work.copy is None and not self._should_copy(appointment):
                # Nothing to copy; a conflict waits for a person before it counts as archived.
                self.counts.not_copied += 1
                if (
                    appointment.overlap_state != Appointment.OverlapState.CONFLICT
                    and not appointment.is_archived
                ):
                    appointment.is_archived = True
                    settled.append(appointment)
                continue
            body = copy_body(work.source, personal=work.billing.is_personal)
            job = CopyJob(work, body, copy_digest(body))
            if work.copy is None:
                creates.append(job)
            elif work.copy.digest != job.digest:
                # A copy follows its appointment whatever its overlap state.
                updates.append(job)
            else:
                self.counts.copies_unchanged += 1
                if not appointment.is_archived:
                    appointment.is_archived = True
                    settled.append(appointment)
        if self.dry_run:
            self.counts.copied = len(creates)
            self.counts.copies_updated = len(updates)
            return
        total = len(creates) + len(updates)
        done = 0
        for kind, jobs in (("create", creates), ("update", updates)):
            for offset in range(0, len(jobs), COPY_CHUNK):
                chunk = jobs[offset : offset + COPY_CHUNK]
                self._copy_chunk(kind, chunk, destination, follow_up=updates)
                done += len(chunk)
                self.configuration.renew_run_lock(self.owner)
                if self.progress:
                    self.progress(done, total)
        # Went through the run: one UPDATE at the end. A run killed before it finds the copies
        # recorded and marks them then.
        settled += [
            job.work.appointment
            for job in creates + updates
            if job.work.copy is not None
            and job.work.copy.pk
            and not job.work.appointment.is_archived
        ]
        if settled:
            Appointment.objects.filter(pk__in=[a.pk for a in settled]).update(is_archived=True)
            for appointment in settled:
                appointment.is_archived = True

    def _copy_chunk(
        self, kind: str, chunk: list[CopyJob], destination: Calendar, follow_up: list[CopyJob]
    ) -> None:
        """Write one chunk and record what Graph answered.

        A create whose earlier answer was lost (a killed run, a dropped connection) meets its
        `transactionId` again: Graph then either refuses it (ErrorDuplicateTransactionId) or
        hands back the copy made the first time, which may show an older version of the event.
        Either way the existing copy is adopted — found through the source-id property when
        refused — and queued in `follow_up` to be brought up to date."""
        with audit_operation(
            action_type=AuditLog.ActionType.ARCHIVE,
            operation=f"copy_{kind}",
            user=self.user,
            resource_type="Calendar",
            resource_id=destination.ms_calendar_id,
        ) as audit:
            if kind == "create":
                bodies = [
                    {
                        **job.body,
                        "transactionId": transaction_id(
                            "archive", destination.ms_calendar_id, job.work.key
                        ),
                        "singleValueExtendedProperties": [
                            {"id": SOURCE_ID_PROPERTY, "value": job.work.key}
                        ],
                    }
                    for job in chunk
                ]
                responses = self.destination_client.create_events(_calendar_id(destination), bodies)
            else:
                responses = self.destination_client.update_events(
                    [(job.work.copy.event_id, job.body) for job in chunk if job.work.copy]
                )
            now = timezone.now()
            new_copies, changed_copies, failed = [], [], 0
            for job, response in zip(chunk, responses, strict=True):
                if kind == "create" and not response.ok and _duplicate_transaction(response):
                    adopted = self._find_copy(destination, job)
                    if adopted is not None:
                        job.work.copy = ArchiveCopy(
                            appointment=job.work.appointment,
                            destination=destination,
                            event_id=adopted["id"],
                            digest="",  # stale until the update below
                        )
                        new_copies.append(job.work.copy)
                        follow_up.append(job)
                        self.counts.adopted += 1
                        continue
                if not response.ok:
                    failed += 1
                    self.counts.errors += 1
                    self.errors.append(f"{job.work.appointment.subject!r}: {response.error()}")
                    continue
                if kind == "create":
                    current = _copy_shows(response.body, job.body)
                    job.work.copy = ArchiveCopy(
                        appointment=job.work.appointment,
                        destination=destination,
                        event_id=response.body["id"],
                        digest=job.digest if current else "",
                    )
                    new_copies.append(job.work.copy)
                    if current:
                        self.counts.copied += 1
                    else:
                        follow_up.append(job)  # an older copy handed back for the same id
                        self.counts.adopted += 1
                elif job.work.copy is not None:
                    job.work.copy.digest, job.work.copy.updated_at = job.digest, now
                    changed_copies.append(job.work.copy)
                    self.counts.copies_updated += 1
            # One statement each, so a crash between them loses no recorded copy.
            ArchiveCopy.objects.bulk_create(new_copies, batch_size=500)
            if changed_copies:
                ArchiveCopy.objects.bulk_update(
                    changed_copies, ["digest", "updated_at"], batch_size=500
                )
            succeeded = len(new_copies) + len(changed_copies)
            audit.details = {"items": len(chunk), "succeeded": succeeded, "failed": failed}
            if failed:
                audit.status = AuditLog.Status.PARTIAL if succeeded else AuditLog.Status.FAILURE

    def _find_copy(self, destination: Calendar, job: CopyJob) -> dict[str, Any] | None:
        found = self.destination_client.find_events_by_source_id(
            _calendar_id(destination), job.work.key
        )
        return found[0] if found else None


def _calendar_id(calendar: Calendar) -> str:
    # The run resolved the destination through Graph before copying: it has its id.
    assert calendar.ms_calendar_id is not None
    return calendar.ms_calendar_id


def _duplicate_transaction(response: BatchResponse) -> bool:
    body = response.body if isinstance(response.body, dict) else {}
    error = body.get("error")
    if not isinstance(error, dict):
        error = {}
    return response.status in (400, 409) and error.get("code") == "ErrorDuplicateTransactionId"


def _copy_shows(returned: Any, sent: dict[str, Any]) -> bool:
    """Whether the event Graph answered with is the one we sent (not an older copy)."""
    if not isinstance(returned, dict) or not returned.get("id"):
        return False
    if (returned.get("subject") or "") != sent["subject"]:
        return False
    if sorted(returned.get("categories") or []) != sorted(sent["categories"]):
        return False
    if sent["isAllDay"]:
        return bool(returned.get("isAllDay"))
    try:
        return all(
            graph_datetime(returned.get(key)) == graph_datetime(sent[key])
            for key in ("start", "end")
        )
    except (ValueError, KeyError):
        return False


def _assign(appointment: Appointment, values: dict[str, Any]) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(appointment, name) != value:
            setattr(appointment, name, value)
            changed = True
    return changed
