"""How archiving settles the action items its runs open: an overlap (keep some appointments,
drop the rest, archive the day again) and a meeting deleted in the source calendar (it happened,
or it did not). Registered with auditing's resolver registry in `ArchivingConfig.ready`, so the
action log's admin and API (in auditing, below archiving) offer them without importing this."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from archiving.attention import ATTENTION_TYPES
from archiving.category_apply import (
    appointment_category_set,
    appointment_mark_personal,
    attention_category_options,
    attention_dismissed,
)
from archiving.fault_resolutions import fault_resolutions_register
from archiving.models import ArchiveConfiguration, ArchiveCopy
from archiving.phrases import DateRange
from archiving.services import archive_queue
from auditing.models import ActionLog, AuditLog
from auditing.resolutions import (
    FreeChoice,
    ResolutionFailed,
    free_choice_register,
    resolutions_register,
)
from auditing.services import audit_operation
from calendars.models import Appointment
from foundations.graph import BatchResponse, GraphClient


class OverlapResolutionError(ResolutionFailed):
    pass


def overlap_resolve(*, item: ActionLog, keep_ids: list[int], user: User) -> str | None:
    """Settle an overlap conflict: keep the chosen appointments, drop the rest.

    The item is resolved and, unless the configuration is gone, an archive run is queued for
    the day so that the kept appointments reach the archive calendar. Returns its correlation id.
    """
    from auditing.services import audit_record

    if item.event_type != ActionLog.EventType.OVERLAP or item.state != ActionLog.State.OPEN:
        raise OverlapResolutionError("Only an open overlap item can be resolved this way.")
    member_ids = [member["id"] for member in (item.details or {}).get("appointments", [])]
    if not keep_ids:
        raise OverlapResolutionError("Choose at least one appointment to keep.")
    if not set(keep_ids) <= set(member_ids):
        raise OverlapResolutionError("Only appointments of this overlap can be kept.")
    members = list(Appointment.objects.filter(pk__in=member_ids, user=item.user))
    if not members:
        raise OverlapResolutionError("The appointments of this overlap no longer exist.")
    with transaction.atomic():
        for appointment in members:
            kept = appointment.pk in keep_ids
            appointment.overlap_state = (
                Appointment.OverlapState.KEPT if kept else Appointment.OverlapState.DISCARDED
            )
            appointment.overlap_reason = f"{'kept' if kept else 'dropped'} by {user}"
            appointment.is_archived = not kept
        Appointment.objects.bulk_update(members, ["overlap_state", "overlap_reason", "is_archived"])
        item.close(by=user, note=f"kept {len(keep_ids)} of {len(members)}")
        audit_record(
            action_type=AuditLog.ActionType.ARCHIVE,
            operation="overlap_resolve",
            user=user,
            resource_type="ActionLog",
            resource_id=item.pk,
            message=f"Kept {len(keep_ids)} of {len(members)} overlapping appointments",
            details={"kept": sorted(keep_ids), "dropped": sorted(set(member_ids) - set(keep_ids))},
        )
    return _archive_again(item, members)


def _archive_again(item: ActionLog, members: list[Appointment]) -> str | None:
    """Queue a run of the members' days for every active configuration that reads their
    calendar, so each destination gets the kept ones. Returns the first correlation id."""
    calendars = {a.calendar_id for a in members if a.calendar_id}
    configurations = list(
        ArchiveConfiguration.objects.filter(
            user=item.user, is_active=True, source_calendar_id__in=calendars
        )
    )
    named = (item.details or {}).get("configuration")
    if not configurations and named:
        configurations = list(ArchiveConfiguration.objects.filter(pk=named, user=item.user))
    correlation_ids = []
    for configuration in configurations:
        zone = zoneinfo.ZoneInfo(configuration.timezone)
        days = sorted({a.start_time.astimezone(zone).date() for a in members})
        correlation_ids.append(
            archive_queue(
                configuration=configuration, dates=DateRange(days[0], days[-1])
            ).correlation_id
        )
    return correlation_ids[0] if correlation_ids else None


class SourceDeletedError(ResolutionFailed):
    """A source-deleted item cannot be settled that way; the message says why."""


def _source_deleted_appointment(item: ActionLog) -> Appointment:
    if item.event_type != ActionLog.EventType.SOURCE_DELETED or not item.is_open:
        raise SourceDeletedError("Only an open 'deleted from the source' item can be settled.")
    appointment_id = (item.details or {}).get("appointment")
    appointment = (
        Appointment.objects.filter(pk=appointment_id, user=item.user).first()
        if appointment_id is not None
        else None
    )
    if appointment is None:
        raise SourceDeletedError("The appointment of this item no longer exists.")
    return appointment


def source_deleted_keep(*, item: ActionLog, by: User) -> None:
    """It happened: keep billing it. The appointment and its copies stay as they are."""
    appointment = _source_deleted_appointment(item)
    item.close(by=by, note=f"it happened: “{appointment}” stays billed")


def source_deleted_discard(*, item: ActionLog, by: User, client: GraphClient | None = None) -> int:
    """It did not happen: the appointment stops counting (no timesheet bills it from now on)
    and its archive copies are deleted from Outlook. An issued timesheet that already bills it
    keeps it until that timesheet is voided. Returns the number of copies deleted.

    A copy Outlook could not delete stays recorded and the item stays open, so doing it again
    finishes the work.
    """
    from accounts.microsoft import graph_client

    appointment = _source_deleted_appointment(item)
    copies = list(ArchiveCopy.objects.filter(appointment=appointment).select_related("destination"))
    with audit_operation(
        action_type=AuditLog.ActionType.ARCHIVE,
        operation="source_deleted_discard",
        user=by,
        resource_type="Appointment",
        resource_id=appointment.pk,
        message=f"“{appointment}” did not happen: it no longer counts",
    ) as audit:
        Appointment.objects.filter(pk=appointment.pk).update(
            is_cancelled=True, updated_at=timezone.now()
        )
        deleted: list[tuple[ArchiveCopy, BatchResponse]] = []
        failed: list[tuple[ArchiveCopy, BatchResponse]] = []
        if copies:
            client = client or graph_client(user=item.user)
            for mailbox in sorted({copy.destination.mailbox for copy in copies}):
                # Each copy is deleted in the mailbox that holds it, never in another.
                in_mailbox = [copy for copy in copies if copy.destination.mailbox == mailbox]
                answers = client.for_mailbox(mailbox or None).delete_events(
                    [copy.event_id for copy in in_mailbox]
                )
                for copy, answer in zip(in_mailbox, answers, strict=True):
                    # 404: somebody deleted the copy already; either way it is gone.
                    done = answer.ok or answer.status == 404
                    (deleted if done else failed).append((copy, answer))
            ArchiveCopy.objects.filter(pk__in=[copy.pk for copy, _ in deleted]).delete()
        audit.details = {
            "copies_deleted": [copy.destination.name for copy, _ in deleted],
            "copies_failed": [f"{copy.destination.name}: {a.error()}" for copy, a in failed],
            "on_issued_timesheet": appointment.timesheet_id,
        }
        if failed:
            audit.status = AuditLog.Status.PARTIAL
            raise SourceDeletedError(
                f"{len(failed)} archive cop{'y' if len(failed) == 1 else 'ies'} could not be "
                f"deleted from Outlook ({failed[0][1].error()}); try again."
            )
    note = "it did not happen: no longer billed"
    if appointment.is_locked:
        note += " (the issued timesheet keeps it until voided)"
    item.close(by=by, note=note)
    return len(deleted)


def archive_resolutions_register() -> None:
    """Offer archiving's ways of settling its items in the action log's admin and API."""
    resolutions_register(
        event_type=ActionLog.EventType.OVERLAP,
        choices={
            "keep": lambda *, item, by, keep_ids: overlap_resolve(
                item=item, keep_ids=keep_ids, user=by
            ),
        },
    )
    resolutions_register(
        event_type=ActionLog.EventType.SOURCE_DELETED,
        choices={"happened": source_deleted_keep, "did_not_happen": source_deleted_discard},
    )
    for event_type in ATTENTION_TYPES:
        resolutions_register(
            event_type=event_type,
            choices={
                "set_category": appointment_category_set,
                "mark_personal": appointment_mark_personal,
            },
            on_dismiss=attention_dismissed,
        )
        free_choice_register(
            event_type=event_type,
            free_choice=FreeChoice(
                choice="set_category",
                param="category",
                label="Set category",
                options=attention_category_options,
            ),
        )
    resolutions_register(
        event_type=ActionLog.EventType.ARCHIVE_STALE, choices={"archive_now": archive_stale_run}
    )
    fault_resolutions_register()


def archive_stale_run(*, item: ActionLog, by: User) -> str:
    """Queue a run over the days since the configuration last succeeded (at most 31); the
    item closes itself when a scheduled run succeeds."""
    configuration = ArchiveConfiguration.objects.filter(
        pk=item.detail_id("configuration"), user=item.user
    ).first()
    if configuration is None:
        raise ResolutionFailed("The archive configuration of this item no longer exists.")
    zone = zoneinfo.ZoneInfo(configuration.timezone)
    today = timezone.now().astimezone(zone).date()
    since = (item.details or {}).get("last_success")
    first = datetime.fromisoformat(since).astimezone(zone).date() if since else today
    first = max(first, today - timedelta(days=30))
    queued = archive_queue(configuration=configuration, dates=DateRange(first, today), by=by)
    return f"Archiving {first} to {today} (run {queued.correlation_id})."
