"""Timesheet workflows: generate (issue and lock), regenerate files, void, upload to OneDrive.
Over 450 lines: the four workflows share the stored files and their audit rows; the reads are in
selectors.py, the Xero push in xero_push.py."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.microsoft import graph_client
from accounts.models import User
from auditing.models import ActionLog, AuditLog
from auditing.services import audit_operation
from calendars.models import Appointment, starts_in_period
from foundations.days import day_bounds_utc, today_in
from timesheets.billing import (
    Rounding,
    TimesheetData,
    format_hours,
    timesheet_rows,
)
from timesheets.models import BillingProfile, CustomerSettings, Timesheet
from timesheets.onedrive import onedrive_name, onedrive_path
from timesheets.recommendations import retry_recommendation
from timesheets.selectors import billing_items, customer_pricing
from timesheets.xero import timesheet_xero_invoice_void, xero_invoice_status
from timesheets.xero_client import XeroError

logger = logging.getLogger(__name__)

FORMATS = ("pdf", "csv", "xlsx")
PATH_FIELDS = {"pdf": "pdf_path", "csv": "csv_path", "xlsx": "excel_path"}
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "zip": "application/zip",
}


class TimesheetError(Exception):
    """Bad input or a state that forbids the operation; the message says which."""


class TimesheetFileGone(TimesheetError):
    """The file is not stored and will not be made again (the timesheet is void)."""


class TimesheetStorageError(TimesheetError):
    """The document storage (disk or object store) could not be read."""


@dataclass
class TimesheetGeneration:
    timesheet: Timesheet
    data: TimesheetData
    late_items: int = 0
    blocked_by_conflicts: int = 0
    messages: list[str] = field(default_factory=list)


def customer_settings_for(*, user: User, customer: str) -> CustomerSettings:
    """The customer's settings, created with defaults on first use."""
    existing = CustomerSettings.objects.filter(user=user, customer__iexact=customer).first()
    if existing:
        return existing
    return CustomerSettings.objects.create(user=user, customer=customer, display_name=customer)


def timesheet_data(
    *,
    user: User,
    customer: str,
    start: date,
    end: date,
    appointments: Iterable[Appointment],
    customer_settings: CustomerSettings | None = None,
    frozen: Timesheet | None = None,
) -> TimesheetData:
    """The rows and totals to print; an issued timesheet's frozen terms win over the settings."""
    customer_settings = customer_settings or customer_settings_for(user=user, customer=customer)
    travel_share = customer_settings.travel_rate
    rounding: Rounding = customer_settings.rounding()
    if frozen is not None and frozen.travel_share is not None:  # its terms are frozen
        pricing = frozen.pricing()
        travel_share = frozen.travel_share
        rounding = frozen.rounding()
    else:
        pricing = customer_pricing(user=user, customer_settings=customer_settings)
    effort, travel = timesheet_rows(
        billing_items(appointments),
        timezone=user.timezone,
        travel_rate=travel_share,
        rounding=rounding,
        pricing=pricing,
    )
    return TimesheetData(
        customer=customer,
        customer_display_name=customer_settings.display_name or customer,
        legal_name=customer_settings.legal_name,
        consultant=user.name or user.email,
        report_date=today_in(user.timezone),
        start_date=start,
        end_date=end,
        effort_rows=effort,
        travel_rows=travel,
        pricing=pricing,
        time_zone=user.timezone,
    )


def render_documents(data: TimesheetData, formats: Iterable[str] = FORMATS) -> dict[str, bytes]:
    from timesheets import documents

    renderers: dict[str, Callable[[TimesheetData], bytes]] = {
        "pdf": documents.render_pdf,
        "csv": documents.render_csv,
        "xlsx": documents.render_xlsx,
    }
    return {fmt: renderers[fmt](data) for fmt in formats}


def _late_items(user: User, customer: str, before: date) -> Q:
    """Unbilled appointments dated in a period this customer was already billed for."""
    periods = Timesheet.objects.filter(
        user=user,
        customer__iexact=customer,
        status=Timesheet.Status.ISSUED,
        start_date__lt=before,
    ).values_list("start_date", "end_date")
    late = Q(pk__in=[])
    for period_start, period_end in periods:
        late |= starts_in_period(
            period_start, min(period_end, before - timedelta(days=1)), user.timezone
        )
    return late


def timesheet_generate(
    *,
    user: User,
    customer: str,
    start: date,
    end: date,
    formats: Iterable[str] = FORMATS,
) -> TimesheetGeneration:
    """Issue a timesheet: bill the period's appointments, lock them, store the files."""
    customer, formats = _generation_request(
        user=user, customer=customer, start=start, end=end, formats=formats
    )
    low, _ = day_bounds_utc(start, end, user.timezone)
    with audit_operation(
        action_type=AuditLog.ActionType.TIMESHEET,
        operation="generate",
        user=user,
        resource_type="Timesheet",
        request_data={"customer": customer, "start": start, "end": end, "formats": formats},
    ) as audit:
        blocked = (
            Appointment.objects.filter(user=user, customer__iexact=customer)
            .filter(starts_in_period(start, end, user.timezone))
            .filter(overlap_state=Appointment.OverlapState.CONFLICT)
            .count()
        )
        with transaction.atomic():
            appointments = _unbilled(user=user, customer=customer, start=start, end=end)
            late = sum(1 for a in appointments if a.start_time < low)
            messages = _generation_messages(late=late, blocked=blocked)
            notes = {"late_items": late, "blocked_by_conflicts": blocked, "messages": messages}
            timesheet, data = _timesheet_issue(
                user=user,
                customer=customer,
                start=start,
                end=end,
                appointments=appointments,
                notes=notes,
            )
            _store_files(timesheet, data, formats)
        audit.resource_id = str(timesheet.pk)
        audit.message = (
            f"Timesheet {timesheet.pk} for {customer} {start} to {end}: {len(appointments)} "
            f"appointment(s), {format_hours(data.billable_total)} billable"
        )
        audit.details = {"appointments": len(appointments), "late": late, "blocked": blocked}
        if data.priced:
            audit.details["amount"] = f"{data.amount_total} {data.currency}"
    return TimesheetGeneration(
        timesheet=timesheet,
        data=data,
        late_items=late,
        blocked_by_conflicts=blocked,
        messages=messages,
    )


def _unbilled(*, user: User, customer: str, start: date, end: date) -> list[Appointment]:
    """The billable appointments a new timesheet bills (the period's and late ones from issued
    periods), locked for this transaction; an error when there are none."""
    appointments = list(
        Appointment.objects.filter(user=user, customer__iexact=customer)
        .billable()
        .unlocked()
        .filter(starts_in_period(start, end, user.timezone) | _late_items(user, customer, start))
        .select_related("location")
        .defer("ms_event_data")
        .select_for_update(of=("self",))
        .order_by("start_time", "pk")
    )
    if not appointments:
        raise TimesheetError(
            f"{customer} has no unbilled billable appointments from {start} to {end}: "
            "there is nothing to issue."
        )
    return appointments


def _timesheet_issue(
    *,
    user: User,
    customer: str,
    start: date,
    end: date,
    appointments: list[Appointment],
    notes: dict[str, Any],
) -> tuple[Timesheet, TimesheetData]:
    """The issued timesheet row, its terms frozen, and the appointments linked to it."""
    customer_settings = customer_settings_for(user=user, customer=customer)
    data = timesheet_data(
        user=user,
        customer=customer,
        start=start,
        end=end,
        appointments=appointments,
        customer_settings=customer_settings,
    )
    timesheet = Timesheet(user=user, customer=customer, start_date=start, end_date=end, notes=notes)
    timesheet.freeze_terms(
        customer_settings, default=BillingProfile.objects.filter(user=user).first()
    )
    timesheet.amount_total = data.amount_total if data.priced else None
    timesheet.save()
    Appointment.objects.filter(pk__in=[a.pk for a in appointments]).update(
        timesheet=timesheet, updated_at=timezone.now()
    )
    return timesheet, data


def _generation_request(
    *, user: User, customer: str, start: date, end: date, formats: Iterable[str]
) -> tuple[str, list[str]]:
    """The customer and formats of a timesheet request, or the error that refuses it (before
    anything is read or written)."""
    customer = (customer or "").strip()
    if not customer:
        raise TimesheetError("Name the customer the timesheet is for.")
    problems = Timesheet.period_errors(start, end)
    if problems:
        raise TimesheetError(next(iter(problems.values())))
    chosen = [fmt for fmt in FORMATS if fmt in set(formats)]
    if not chosen:
        raise TimesheetError("Choose at least one of pdf, csv, xlsx.")
    existing = (
        Timesheet(user=user, customer=customer, start_date=start, end_date=end)
        .issued_overlapping()
        .first()
    )
    if existing is not None:
        raise TimesheetError(existing.already_issued_message())
    return customer, chosen


def _generation_messages(*, late: int, blocked: int) -> list[str]:
    """What the person issuing a timesheet is told about late and left-out appointments."""
    messages = []
    if late:
        messages.append(
            f"{late} appointment(s) archived after their period was billed are included."
        )
    if blocked:
        messages.append(
            f"{blocked} appointment(s) in unresolved overlap conflicts are left out; "
            "resolve them in the action log and bill them in a later timesheet."
        )
    return messages


MAX_FILE_STEM_BYTES = 200


def stored_file_name(data: TimesheetData, fmt: str) -> str:
    """The file's name: the stem with no path separators, cut to fit file systems' 255-byte
    limit (a customer or consultant name may be 255 characters each)."""
    stem = data.file_stem.replace("/", "-").replace("\\", "-")
    stem = stem.encode()[:MAX_FILE_STEM_BYTES].decode(errors="ignore").rstrip()
    return f"{stem}.{fmt}"


def _store_files(timesheet: Timesheet, data: TimesheetData, formats: Iterable[str]) -> None:
    documents = render_documents(data, formats)
    for fmt, content in documents.items():
        old = getattr(timesheet, PATH_FIELDS[fmt])
        name = default_storage.save(
            f"timesheets/{timesheet.user_id}/{timesheet.pk}/{stored_file_name(data, fmt)}",
            ContentFile(content),
        )
        if old and old != name:
            default_storage.delete(old)
        setattr(timesheet, PATH_FIELDS[fmt], name)
    timesheet.save(update_fields=[PATH_FIELDS[fmt] for fmt in documents])


def timesheet_billed(timesheet: Timesheet) -> TimesheetData:
    """The timesheet's data as billed: its linked appointments."""
    appointments = (
        timesheet.appointments.select_related("location")
        .defer("ms_event_data")
        .order_by("start_time", "pk")
    )
    return timesheet_data(
        user=timesheet.user,
        customer=timesheet.customer or "",
        start=timesheet.start_date,
        end=timesheet.end_date,
        appointments=appointments,
        frozen=timesheet,
    )


def timesheet_regenerate_files(*, timesheet: Timesheet, user: User) -> None:
    if timesheet.status == Timesheet.Status.VOID:
        raise TimesheetError("A void timesheet has no files to regenerate.")
    with audit_operation(
        action_type=AuditLog.ActionType.TIMESHEET,
        operation="regenerate",
        user=user,
        resource_type="Timesheet",
        resource_id=timesheet.pk,
    ):
        _store_files(timesheet, timesheet_billed(timesheet), FORMATS)


def timesheet_void(*, timesheet: Timesheet, user: User, void_in_xero: bool = False) -> int:
    """Void an issued timesheet and release its appointments; returns how many.

    A timesheet sent to Xero is voided only once its invoice is deleted or voided there: by
    the user in Xero, or here with `void_in_xero` (audited).
    """
    if timesheet.status == Timesheet.Status.VOID:
        raise TimesheetError(f"Timesheet {timesheet.pk} is already void.")
    if timesheet.xero_invoice_id:
        try:
            if void_in_xero:
                timesheet_xero_invoice_void(timesheet=timesheet, user=user)
            elif xero_invoice_status(timesheet=timesheet) not in ("DELETED", "VOIDED"):
                raise TimesheetError(
                    f"Timesheet {timesheet.pk} is invoiced in Xero as "
                    f"{timesheet.xero_invoice_number}: delete or void that invoice in Xero "
                    "first, or void the timesheet with 'void in Xero too'."
                )
        except XeroError as error:
            raise TimesheetError(str(error)) from error
    with (
        audit_operation(
            action_type=AuditLog.ActionType.TIMESHEET,
            operation="void",
            user=user,
            resource_type="Timesheet",
            resource_id=timesheet.pk,
        ) as audit,
        transaction.atomic(),
    ):
        released = Appointment.objects.filter(timesheet=timesheet).update(
            timesheet=None, updated_at=timezone.now()
        )
        timesheet.status = Timesheet.Status.VOID
        timesheet.voided_at = timezone.now()
        timesheet.save(update_fields=["status", "voided_at"])
        audit.message = f"Voided timesheet {timesheet.pk}; {released} appointment(s) released"
    return released


def timesheet_file(*, timesheet: Timesheet, fmt: str) -> tuple[str, bytes]:
    """The stored file's download name and content, rendered again if it is missing (from the
    billed rows, which an issued timesheet freezes). A void timesheet's missing file is gone
    (`TimesheetFileGone`); a storage that cannot be read raises `TimesheetStorageError`."""
    if fmt not in PATH_FIELDS:
        raise TimesheetError(f"Unknown format {fmt!r}: use pdf, csv or xlsx.")
    name = getattr(timesheet, PATH_FIELDS[fmt])
    try:
        if name and default_storage.exists(name):
            with default_storage.open(name, "rb") as handle:
                return name.rsplit("/", 1)[-1], handle.read()
    except FileNotFoundError:
        pass  # removed between the two calls, or by another machine: as if never there
    except Exception as error:  # the disk or the object store: not the user's doing
        raise TimesheetStorageError(
            f"The document store cannot be read ({type(error).__name__}); try again shortly."
        ) from error
    if timesheet.status == Timesheet.Status.VOID:
        raise TimesheetFileGone(
            f"Timesheet {timesheet.pk} is void and its {fmt.upper()} file is no longer stored."
        )
    _store_files(timesheet, timesheet_billed(timesheet), [fmt])
    name = getattr(timesheet, PATH_FIELDS[fmt])
    with default_storage.open(name, "rb") as handle:
        return name.rsplit("/", 1)[-1], handle.read()


def onedrive_folder(timesheet: Timesheet) -> str:
    """The upload folder: "/" in the template separates folders; every name is made valid for
    OneDrive, so "A/S" is one folder and "Acme Ltd." loses its trailing dot."""
    customer_settings = customer_settings_for(
        user=timesheet.user, customer=timesheet.customer or ""
    )
    folder = customer_settings.onedrive_folder or settings.ONEDRIVE_FOLDER
    customer = customer_settings.display_name or timesheet.customer or ""
    return onedrive_path(*(part.replace("{customer}", customer) for part in folder.split("/")))


def timesheet_upload_onedrive(*, timesheet: Timesheet, user: User) -> list[str]:
    """Upload the timesheet's files to the owner's OneDrive; a failure opens an action item."""
    if timesheet.status == Timesheet.Status.VOID:
        raise TimesheetError("A void timesheet cannot be uploaded.")
    folder = onedrive_folder(timesheet).strip("/")
    uploaded: list[str] = []
    try:
        with audit_operation(
            action_type=AuditLog.ActionType.TIMESHEET,
            operation="upload_onedrive",
            user=user,
            resource_type="Timesheet",
            resource_id=timesheet.pk,
        ) as audit:
            client = graph_client(user=timesheet.user)
            web_url = None
            for fmt in FORMATS:
                name, content = timesheet_file(timesheet=timesheet, fmt=fmt)
                name = onedrive_name(name)
                item = client.upload_file(f"{folder}/{name}", content)
                web_url = web_url or item.get("webUrl")
                uploaded.append(f"{folder}/{name}")
            timesheet.uploaded_to_onedrive = True
            timesheet.onedrive_url = web_url
            timesheet.save(update_fields=["uploaded_to_onedrive", "onedrive_url"])
            audit.message = f"Uploaded {len(uploaded)} file(s) to OneDrive {folder}"
            audit.details = {"files": uploaded}
    except Exception as error:
        _upload_failed(timesheet, error)
        raise
    for item in ActionLog.objects.filter(
        user=timesheet.user, event_type=ActionLog.EventType.UPLOAD_FAILED, key=str(timesheet.pk)
    ).open():
        item.close(by=user, note="uploaded on retry")
    return uploaded


def _upload_failed(timesheet: Timesheet, error: BaseException) -> None:
    ActionLog.objects.open_item(
        user=timesheet.user,
        event_type=ActionLog.EventType.UPLOAD_FAILED,
        key=timesheet.pk,
        description=f"Uploading timesheet {timesheet} to OneDrive failed",
        details={"timesheet": timesheet.pk, "error": str(error)[:500]},
        recommendations=retry_recommendation("upload"),
    )
